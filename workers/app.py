"""Entry point for `celery -A workers.app worker|beat`: the app with every task registered.

A configuration Settings.from_env refuses stops the process here with its list of problems
and status 2: Celery would wrap the error in a traceback of its own loader.
"""

import sys

from config.settings import ConfigError

try:
    from workers.tasks import app
except ConfigError as error:
    print(error.report(), file=sys.stderr)
    raise SystemExit(2) from None

from workers import logs

logs.install()

__all__ = ["app"]  # what `celery -A workers.app` looks for
