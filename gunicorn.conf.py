"""gunicorn settings read by `gunicorn` in the Procfile: /metrics adds up every worker process's counters.

prometheus_client's multiprocess mode keeps each worker's metrics in files under PROMETHEUS_MULTIPROC_DIR; the
folder is emptied when gunicorn starts (stale files would add old counts) and a dead worker's live gauges
are dropped.
"""
import os
import shutil
import tempfile

# gunicorn 27's control socket sits at one path per user (~/.gunicorn/gunicorn.ctl): a second instance on the
# machine (a bench, a test server, a staging copy) would take it over. Nothing here uses it.
control_socket_disable = True

os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", os.path.join(tempfile.gettempdir(), "solo-oms-metrics"))


def on_starting(server):
    folder = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder, exist_ok=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
