"""localstripe on loopback only, with an empty store: `python -m tests.localstripe_peer PORT`."""

from __future__ import annotations

import sys

from aiohttp import web
from localstripe import server

if __name__ == "__main__":
    web.run_app(server.app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
