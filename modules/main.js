// The daemon's main job, started by `make run` (conf/pipyd.yaml).
// Port from the config file (ports.http), 8080 when run without it.
((
  port = Number(os.env.PIPYD_PORT_HTTP || 8080),
  router = new algo.URLRouter({
    '/': () => new Message({ headers: { 'content-type': 'text/plain' } }, 'pipyd is running. Try /hello or /ip\n'),
    '/hello': () => new Message('Hi, there!\n'),
    '/ip': () => new Message(__inbound.remoteAddress + '\n'),
  }),
) => pipy({ _route: null })
  .listen(port)
  .serveHTTP(
    req => (
      _route = router.find(req.head.headers.host, req.head.path),
      _route ? _route(req) : new Message({ status: 404 }, 'No route\n')
    )
  )
)()
