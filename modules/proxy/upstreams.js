// Mock services for trying the example proxy (the tutorial's upstream servers):
// port 8080 and 8082 say hello (8082 also tells the client's address), 8081 echoes.
pipy()

.listen(8080)
  .serveHTTP(
    new Message('Hi, there! (8080)\n')
  )

.listen(8081)
  .serveHTTP(
    msg => new Message(msg.body)
  )

.listen(8082)
  .serveHTTP(
    msg => new Message(
      msg.head.path.startsWith('/ip')
        ? `You are requesting ${msg.head.path} from ${__inbound.remoteAddress}\n`
        : 'Hi, there! (8082)\n'
    )
  )
