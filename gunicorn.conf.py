"""gunicorn's settings for eventreg in production: `gunicorn -c gunicorn.conf.py -w 4 -b 127.0.0.1:8000 app:app`
(the README's command; gunicorn also reads this file by itself when started from this directory).

The access log is on (standard output, in the usual combined format), and it never holds a private link: the request
line, the path, the query string and every header (the Referer above all: a page under /r/<token> sends its own
address to the next page of the site) pass through eventreg.private_paths.mask_private_paths.
"""

import os
from pathlib import Path

from gunicorn.glogging import Logger, SafeAtoms
from prometheus_client import multiprocess

from eventreg.private_paths import mask_private_paths


class MaskedAtoms(SafeAtoms):
    """The access log's values (request line %(r)s, path %(U)s, query %(q)s, Referer %(f)s, headers…), each masked
    when the log format reads it: the format names a handful of the ~60 values (every header and environ entry)
    that gunicorn gathers per request, and masking them all took ~0.2 ms of each request's CPU."""

    def __init__(self, atoms):
        dict.__init__(self, atoms)  # as gathered; SafeAtoms would escape every value here

    def __getitem__(self, name):
        """The value as SafeAtoms gives it ('-' when missing), masked before its quotes are escaped, as gunicorn
        escapes them: an escape first could let a mask swallow the backslash before a quote."""
        value = super().__getitem__(name)
        return mask_private_paths(value).replace('"', '\\"') if isinstance(value, str) else value


class PrivatePathsMaskingLogger(Logger):
    """gunicorn's logger, with private URLs masked in every value the access log format can name."""

    atoms_wrapper_class = MaskedAtoms


logger_class = PrivatePathsMaskingLogger
accesslog = "-"


def on_starting(server):
    """Start the Prometheus figures afresh: under PROMETHEUS_MULTIPROC_DIR each process keeps its values in files,
    and those of a previous run (its dead workers' counters, gauges of pids that may come again) would be added in."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):  # prometheus-client's files only, whatever else the directory holds
            stale.unlink(missing_ok=True)


def child_exit(server, worker):
    """A worker ended (stopped, killed, timed out): its live gauges (requests in progress) leave the figures."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)
