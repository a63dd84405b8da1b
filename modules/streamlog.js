// The default stream-log server (specs/streamlog.md §13): Pipet's HTTP API on one port.
//
// Listens on STREAMLOG_LISTEN ('[ip:]port'), else the config file's named port `streamlog`
// (PIPYD_PORT_STREAMLOG), else 0.0.0.0:7070. The store is STREAMLOG_STORE (a directory or a
// nats:// URL), else the config's data_dir (PIPYD_DATA_DIR), else ./data.

var env = os.env
var listen = env.STREAMLOG_LISTEN || env.PIPYD_PORT_STREAMLOG || '0.0.0.0:7070'
var store = env.STREAMLOG_STORE || env.PIPYD_DATA_DIR || './data'

// a bare port number listens on every interface
if (/^\d+$/.test(listen)) listen = Number.parseInt(listen)

pipy()
  .listen(listen)
  .demuxHTTP().to(
    $=>$.serveStreamLog({ store: store, cors: true })
  )
