"""gunicorn settings shared by the Procfile's `web` and `api` processes (`-c`).

Timeouts and the CPU each worker keeps to live here; the Procfile keeps the shape (worker
class, workers, threads, bind).
gunicorn itself never times out a client that is slow to send its request: once a thread has
begun reading, it waits for the rest. Slow clients are cut off by the nginx front
(deploy/nginx/seatflow.conf), which hands gunicorn only complete requests.
"""

import os
from typing import Any

# Seconds a worker may go without reporting to the arbiter before it is killed and replaced.
# A gthread worker reports from its event loop, so this catches a wedged process, not a
# slow request; the receiver's slowest answer (503 when PostgreSQL is gone) takes under 10 s.
timeout = 30

# Seconds a stopping worker has to finish the requests it holds: under the 30 s most process
# managers wait before SIGKILL, so no request is cut off mid-commit.
graceful_timeout = 25

# Seconds an idle kept-alive connection stays open. nginx keeps its upstream connections for
# 60 s (`keepalive_timeout` in its upstream blocks); gunicorn must wait longer, so nginx is
# always the side that closes an idle connection. Otherwise nginx may send a POST on a
# connection gunicorn has just closed and answer 502 (it does not retry a POST elsewhere).
keepalive = 75

# No control socket (gunicorn 25.1+, for `gunicornc`): its default path is one per user
# ($XDG_RUNTIME_DIR/gunicorn.ctl or ~/.gunicorn/gunicorn.ctl), so `web`, `api` and any other
# gunicorn of the same user would share it, each new one taking it from the last. seatflow's
# processes are managed by signals (systemd, the Procfile's runner). Older gunicorns ignore it.
control_socket_disable = True


def when_ready(server: Any) -> None:
    """The process group's metrics (summed over its workers) on a private listener of the
    master, WEB_METRICS_HOST:WEB_METRICS_PORT, when set; with WEB_METRICS_PUBLIC=false they
    are then no longer on the public port. Give web and api different ports."""
    from config.metrics import serve
    from config.settings import ConfigError, Settings

    try:
        settings = Settings.from_env()
    except ConfigError as exc:  # the one message, without a traceback around it
        server.log.error(str(exc))
        raise SystemExit(2) from None
    if settings.web_metrics_port:
        serve(settings.web_metrics_port, True, settings.web_metrics_host)


def pre_fork(server: Any, worker: Any) -> None:
    """When pinned (WEB_PIN_CPUS), each worker keeps to one CPU of those the master may use:
    the one the fewest live workers keep to, chosen here in the master, which knows them all
    (config/cpus.py says why and when)."""
    from config.cpus import least_used, pins

    worker.seatflow_cpu = None
    cpus = os.sched_getaffinity(0)
    if pins(_pin_cpus(), server.num_workers, len(cpus)):
        taken = [getattr(w, "seatflow_cpu", None) for w in server.WORKERS.values()]
        worker.seatflow_cpu = least_used(cpus, taken)


def post_fork(server: Any, worker: Any) -> None:
    if worker.seatflow_cpu is not None:
        os.sched_setaffinity(0, {worker.seatflow_cpu})


def _pin_cpus() -> bool | None:
    from config.settings import ConfigError, Settings

    try:
        return Settings.from_env().web_pin_cpus
    except ConfigError:  # when_ready reports it
        return False


def _log_config() -> dict[str, Any]:
    """In production, gunicorn's own lines are JSON like seatflow's (config/logging.py)."""
    from config.logging import gunicorn_log_config
    from config.settings import ConfigError, Settings

    try:
        production = Settings.from_env().production
    except ConfigError:  # when_ready reports it
        return {}
    return gunicorn_log_config() if production else {}


logconfig_dict = _log_config()
