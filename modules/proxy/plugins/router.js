// Plugin: routing. Finds the service for a request from its host and path with
// algo.URLRouter (patterns such as '/hi/*' or 'example.com/api/*'), stores the service name
// in the exported __route and passes the request on to the next plugin.
((
  config = JSON.decode(pipy.load('config.json')),
  router = new algo.URLRouter(config.routes),
) => pipy()

.import({
  __route: 'proxy',
})

.pipeline()
  .handleMessageStart(
    msg => (
      __route = router.find(
        msg.head.headers.host,
        msg.head.path,
      )
    )
  )
  .chain()

)()
