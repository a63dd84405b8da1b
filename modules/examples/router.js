// Routing by path with algo.URLRouter, answering from the script (Pipy tutorial style).
((
  router = new algo.URLRouter({
    '/hi/*': () => new Message('Hi, there!\n'),
    '/echo': req => new Message(req.body),
    '/ip/*': () => new Message(__inbound.remoteAddress + '\n'),
  }),
) => pipy({
  _handler: null,
})
  .listen(8081)
  .serveHTTP(
    req => (
      _handler = router.find(req.head.headers.host, req.head.path),
      _handler ? _handler(req) : new Message({ status: 404 }, 'No route\n')
    )
  )
)()
