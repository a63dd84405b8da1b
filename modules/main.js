// The daemon's main job, started by `make run` (conf/pipyd.yaml). Two services, one module:
//
// - the example site on ports.http (8080): /, /hello, /ip. Every request it answers is also
//   appended to the stream /pipyd/requests with the `streamlog` script API;
// - the stream-log server on ports.streamlog (7070): Pipet's HTTP API (docs/streamlog.md).
//
// Ports come from the config file (os.env.PIPYD_PORT_HTTP, PIPYD_PORT_STREAMLOG), the store from
// its data_dir (PIPYD_DATA_DIR), else ./data. STREAMLOG_LISTEN and STREAMLOG_STORE override them
// as they do for modules/streamlog.js. Without a config file: 8080, 0.0.0.0:7070 and ./data.
((
  env = os.env,
  port = Number(env.PIPYD_PORT_HTTP || 8080),
  logListen = env.STREAMLOG_LISTEN || env.PIPYD_PORT_STREAMLOG || '0.0.0.0:7070',
  logPort = logListen.split(':').pop(),
  store = env.STREAMLOG_STORE || env.PIPYD_DATA_DIR || './data',
  router = new algo.URLRouter({
    '/': () => new Message({ headers: { 'content-type': 'text/plain' } }, 'pipyd is running. Try /hello or /ip\n'),
    '/hello': () => new Message('Hi, there!\n'),
    '/ip': () => new Message(__inbound.remoteAddress + '\n'),
  }),
) => (
  console.log(
    `pipyd: site on http://localhost:${port}/ (try /hello), stream-log on http://localhost:${logPort}/` +
    ` (try: curl -X POST localhost:${logPort}/me/hello -d hi; curl localhost:${logPort}/me/hello;` +
    ` curl localhost:${logPort}/pipyd/requests)`
  ),
  pipy({ _route: null })

  // the stream-log server (a bare port number listens on every interface)
  .listen(/^\d+$/.test(logListen) ? Number(logListen) : logListen)
  .demuxHTTP().to(
    $=>$.serveStreamLog({ store: store, cors: true })
  )

  // the example site; each request is logged into /pipyd/requests
  .listen(port)
  .serveHTTP(
    req => (
      streamlog.append('pipyd/requests', {
        method: req.head.method, path: req.head.path, ip: __inbound.remoteAddress,
      }),
      _route = router.find(req.head.headers.host, req.head.path),
      _route ? _route(req) : new Message({ status: 404 }, 'No route\n')
    )
  )
))()
