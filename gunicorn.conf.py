"""gunicorn settings for production: `gunicorn --config gunicorn.conf.py "portal:create_app()"`.

Every value can be changed from the environment (see .env.example):
WEB_CONCURRENCY (workers), GUNICORN_THREADS (threads per worker), PORT or PORTAL_BIND,
GUNICORN_TIMEOUT, PROMETHEUS_MULTIPROC_DIR.
"""

import glob
import logging
import multiprocessing
import os
import tempfile

bind = os.environ.get("PORTAL_BIND") or f"0.0.0.0:{os.environ.get('PORT', '8000')}"

# The portal's requests are short database transactions, so two processes per core plus
# one keeps the cores busy while some wait on the database (gunicorn's rule of thumb).
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2 + 1)
# gunicorn faces clients directly (no buffering proxy in the recipe): a sync worker would
# spend itself on one client trickling its request in, and a handful of them would starve
# every probe. With threads, an idle connection waits in the worker's poller and a slow
# one holds a single thread of many (tests/integration/test_slow_clients.py).
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS") or 16)
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
# Restart workers now and then, staggered, so a slow leak never builds up.
max_requests = 5000
max_requests_jitter = 500

# prometheus_client picks its storage when first imported, which happens in each worker
# after this file ran: each worker then writes its figures into this directory, and a
# scrape adds them up. A directory left over from an earlier run would add old figures.
metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(
    prefix="portal-metrics-"
)
os.makedirs(metrics_dir, exist_ok=True)
for stale in glob.glob(os.path.join(metrics_dir, "*.db")):
    os.remove(stale)
os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir

accesslog = "-"
errorlog = "-"
# One line per request, with the request id the app put on its answer (its logs carry it too).
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms request_id=%({x-request-id}o)s "%(a)s"'


class AccessFields(logging.Filter):
    """gunicorn passes an access line's parts as the record's args: lift them into fields,
    so the JSON access log can be queried by status, path or request id."""

    ATOMS = {
        "h": "remote_addr",
        "m": "method",
        "U": "path",
        "q": "query",
        "s": "status",
        "B": "bytes",
        "M": "duration_ms",
        "{x-request-id}o": "request_id",
        "a": "user_agent",
    }

    def filter(self, record):
        if isinstance(record.args, dict):
            for atom, field in self.ATOMS.items():
                if atom in record.args:
                    setattr(record, field, record.args[atom])
        return True


if os.environ.get("PORTAL_LOG_FORMAT") == "json":
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"access_fields": {"()": AccessFields}},
        "formatters": {
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
                "rename_fields": {"levelname": "level", "name": "logger"},
            }
        },
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "json"},
            "stdout": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "filters": ["access_fields"],
                "stream": "ext://sys.stdout",
            },
        },
        # The app installs its own JSON handler on the root logger (PORTAL_LOG_FORMAT).
        "root": {"level": "INFO", "handlers": []},
        "loggers": {
            "gunicorn.error": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
            "gunicorn.access": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
        },
    }


def on_starting(server):
    # The app refuses in-memory rate limits when it knows it runs in several processes;
    # the count gunicorn settled on (a --workers flag wins over this file) reaches every
    # worker through the environment it forks with.
    os.environ["PORTAL_WORKERS"] = str(server.cfg.workers)


def child_exit(server, worker):
    # Imported here, not above: importing prometheus_client in the master before the
    # directory is set would fix its storage to per-process for every forked worker.
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
