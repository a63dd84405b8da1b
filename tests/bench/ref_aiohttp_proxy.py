"""Reference for `make bench`: an aiohttp reverse proxy (server + pooled client) on uvloop."""
import sys

import aiohttp
import uvloop
from aiohttp import web


async def make_app(upstream: str) -> web.Application:
    app = web.Application()

    async def start(app: web.Application) -> None:
        app["client"] = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))

    async def stop(app: web.Application) -> None:
        await app["client"].close()

    async def proxy(request: web.Request) -> web.Response:
        body = await request.read()
        async with request.app["client"].request(
                request.method, upstream + request.path_qs, data=body or None,
                headers={k: v for k, v in request.headers.items() if k.lower() != "host"}) as r:
            return web.Response(status=r.status, body=await r.read(),
                                headers={"content-type": r.headers.get("content-type", "text/plain")})

    app.on_startup.append(start)
    app.on_cleanup.append(stop)
    app.router.add_route("*", "/{tail:.*}", proxy)
    return app


def main() -> None:
    port, upstream = int(sys.argv[1]), sys.argv[2]
    uvloop.install()
    web.run_app(make_app(upstream), host="127.0.0.1", port=port, print=None, access_log=None)


if __name__ == "__main__":
    main()
