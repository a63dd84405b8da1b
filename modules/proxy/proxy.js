// An example reverse proxy / API gateway, written as Pipy's tutorial writes one (parts 6-7:
// configuration and plugins). It runs unchanged on Pipy 0.70 and on pipyd.
//
// This entry module reads config.json, listens on `config.listen`, decodes HTTP requests
// (demuxHTTP: one sub-pipeline per request) and hands each request to a chain of plugin
// modules (`config.plugins`). Each plugin's entry pipeline either answers the request or
// passes it on with chain(). The plugins talk through context variables this module exports:
// __route is the service name the router found for the request.
((
  config = JSON.decode(pipy.load('config.json')),
) => pipy()

.export('proxy', {
  __route: undefined,
})

.listen(config.listen)
  .demuxHTTP().to(
    $=>$.chain(config.plugins)
  )

)()
