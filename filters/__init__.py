"""Every filter family; importing this package (``pipyd.filters``) registers them all.
One import per family, one per line."""
from . import debug  # noqa: F401
from . import handle  # noqa: F401
from . import replace  # noqa: F401
from . import connect  # noqa: F401
from . import http  # noqa: F401  (also registers demuxHTTP/serveHTTP)
from . import chain  # noqa: F401  (chain, use)
from . import link  # noqa: F401  (link, branch)
from . import fork  # noqa: F401
from . import io  # noqa: F401  (input, output)
from . import replay  # noqa: F401
from . import wait  # noqa: F401
from . import mux  # noqa: F401  (mux, merge, muxQueue)
from . import mux_http  # noqa: F401
from . import demux  # noqa: F401
from . import pack  # noqa: F401  (pack, split)
from . import detect  # noqa: F401
from . import streamlog  # noqa: F401
from . import compress  # noqa: F401  (compressHTTP/Message, decompressHTTP/Message)
from . import throttle  # noqa: F401  (throttleConcurrency, throttleDataRate, throttleMessageRate)
from . import deposit  # noqa: F401  (depositMessage)
from . import exec_filter  # noqa: F401  (exec)
from . import deframe  # noqa: F401
from . import multipart  # noqa: F401  (decodeMultipart)
from . import tunnel  # noqa: F401  (acceptHTTPTunnel, connectHTTPTunnel)
from . import socks  # noqa: F401  (acceptSOCKS, connectSOCKS)
from . import proxy_protocol  # noqa: F401  (acceptProxyProtocol, connectProxyProtocol)
from . import websocket  # noqa: F401  (decodeWebSocket, encodeWebSocket)
from . import tls  # noqa: F401  (acceptTLS, connectTLS, handleTLSClientHello)
from . import mqtt  # noqa: F401  (decodeMQTT, encodeMQTT)
from . import dubbo  # noqa: F401  (decodeDubbo, encodeDubbo)
from . import thrift  # noqa: F401  (decodeThrift, encodeThrift)
