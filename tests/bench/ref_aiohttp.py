"""Reference server for `make bench`: an aiohttp hello application on uvloop."""
import sys

import uvloop
from aiohttp import web


async def hello(_request: web.Request) -> web.Response:
    return web.Response(text="Hi, there!\n")


def main() -> None:
    uvloop.install()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", hello)
    print("ready", flush=True)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)


if __name__ == "__main__":
    main()
