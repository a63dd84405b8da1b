// The smallest pipyd program: answer every HTTP request on port 8080.
pipy()
  .listen(8080)
  .serveHTTP(new Message('Hi, there!\n'))
