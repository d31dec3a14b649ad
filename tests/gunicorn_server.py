"""The app served as in production: gunicorn with several worker processes, configured only by FLASK_* variables.

`gunicorn_server(settings)` starts `gunicorn -w N -b 127.0.0.1:0 app:app` (the system picks a free port, so no
other process can take it between choosing and binding), waits until it answers (its home page, or the path given:
with FORCE_HTTPS the home page redirects plain HTTP, /healthz never does), and always stops it: SIGTERM, then
SIGKILL to its whole process group if it does not stop in time. The `start_gunicorn` fixture starts any number of
them for a test module and stops them all at its end. `Browser` is a minimal client for it (stdlib only): one
delegate's cookies, redirects not followed, and the hidden fields of a page's form.
"""

import contextlib
import html
import http.client
import http.cookies
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Generous: every worker imports the whole app, and the machine may be busy with other tests.
START_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 15
LISTENING = re.compile(r"Listening at: http://127\.0\.0\.1:(\d+)")


@dataclass
class GunicornServer:
    """A running gunicorn: its master process, the port it listens on, the file it logs to and the path that
    answers 200 once it is ready."""

    process: subprocess.Popen
    port: int
    log_path: Path
    ready_path: str = "/"

    @property
    def base_url(self) -> str:
        """http://127.0.0.1:<port>"""
        return f"http://127.0.0.1:{self.port}"

    def worker_pids(self) -> list[int]:
        """The worker processes the master runs right now (its children)."""
        return child_pids(self.process.pid)

    def worker_connected_from(self, local_ports: set[int]) -> int | None:
        """The worker owning a TCP socket bound to one of these local ports (say, the client end of a database
        connection that pg_stat_activity.client_port names), or None."""
        inodes = set()
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            for line in Path(table).read_text().splitlines()[1:]:
                columns = line.split()
                if int(columns[1].rsplit(":", 1)[1], 16) in local_ports:
                    inodes.add(f"socket:[{columns[9]}]")
        for pid in self.worker_pids():
            try:
                descriptors = {os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()}
            except OSError:  # the worker ended meanwhile
                continue
            if inodes & descriptors:
                return pid
        return None

    def wait_for_replacement(self, gone: int, workers: int = 4) -> None:
        """Wait until the master has replaced a killed worker and the app answers again (bounded, not timed)."""
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            pids = self.worker_pids()
            if gone not in pids and len(pids) == workers and answers(self.port, self.ready_path) == 200:
                return
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not replace worker {gone}:\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        """The end of gunicorn's log, for failure messages."""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def child_pids(pid: int) -> list[int]:
    """The children of a process, from /proc (no psutil needed)."""
    children: list[int] = []
    tasks = Path(f"/proc/{pid}/task")
    with contextlib.suppress(FileNotFoundError, ProcessLookupError):
        for task in tasks.iterdir():
            with contextlib.suppress(FileNotFoundError, ProcessLookupError):
                children += [int(child) for child in (task / "children").read_text().split()]
    return sorted(set(children))


def answers(port: int, path: str = "/") -> int | None:
    """The status the server answers GET `path` with, or None when it does not answer."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()


def server_environment(settings: dict) -> dict:
    """This process's environment without any FLASK_* variable, plus `settings` as FLASK_* values in JSON
    (create_app reads them with from_prefixed_env, which parses JSON: true/false, numbers, quoted strings)."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("FLASK_")}
    environment.update({f"FLASK_{name}": json.dumps(value) for name, value in settings.items()})
    environment["PYTHONUNBUFFERED"] = "1"
    return environment


def outbox_worker(settings: dict, log_path: Path) -> subprocess.Popen:
    """`flask --app app outbox-worker` in its own process, configured by `settings` as a gunicorn above would be,
    writing to `log_path`; the caller stops it."""
    with open(log_path, "wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app", "outbox-worker"],
            cwd=ROOT,
            env=server_environment(settings),
            stdout=log,
            stderr=subprocess.STDOUT,
        )


@contextlib.contextmanager
def gunicorn_server(
    settings: dict, log_path: Path, workers: int = 4, ready_path: str = "/"
) -> Iterator[GunicornServer]:
    """Serve app:app with gunicorn on 127.0.0.1 configured by `settings` (FLASK_* names without the prefix);
    yields once it answers 200 on `ready_path`, and stops it however the block ends."""
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "-w",
        str(workers),
        "-b",
        "127.0.0.1:0",
        "--graceful-timeout",
        "5",
        "--no-control-socket",
    ]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [*command, "app:app"],
            cwd=ROOT,
            env=server_environment(settings),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the last resort kills master and workers together
        )
    try:
        server = GunicornServer(process, _wait_for_port(process, log_path), log_path, ready_path)
        _wait_until_answering(server, workers)
        yield server
    finally:
        _stop(process)


def _wait_for_port(process: subprocess.Popen, log_path: Path) -> int:
    """The port gunicorn bound, read from its log."""
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if match := LISTENING.search(log_path.read_text(errors="replace")):
            return int(match.group(1))
        if process.poll() is not None:
            break
        time.sleep(0.05)
    raise RuntimeError(f"gunicorn did not start listening:\n{log_path.read_text(errors='replace')[-4000:]}")


def _wait_until_answering(server: GunicornServer, workers: int) -> None:
    """Wait until the master has forked all its workers and the app answers 200 on its ready path."""
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline and server.process.poll() is None:
        status = answers(server.port, server.ready_path) if len(server.worker_pids()) >= workers else None
        if status == 200:
            return
        if status is not None:  # it runs but fails: a configuration or database problem, shown in the log
            raise RuntimeError(
                f"gunicorn answers {status} on {server.base_url}{server.ready_path}:\n{server.log_tail()}"
            )
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not answer on {server.base_url}{server.ready_path}:\n{server.log_tail()}")


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM (gunicorn stops its workers gracefully), then SIGKILL to its process group if that takes too long."""
    workers = child_pids(process.pid)
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # the master is not reaped yet, so the group id is still ours
            process.wait()
    for pid in workers:  # a worker the master could not stop: still in the master's process group
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if os.getpgid(pid) == process.pid:
                os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="module", name="start_gunicorn")
def start_gunicorn_fixture(tmp_path_factory):
    """Start gunicorn servers for a test module: `start_gunicorn(settings, workers=4)`; all stop at the module's end."""
    log_dir = tmp_path_factory.mktemp("gunicorn")
    with contextlib.ExitStack() as servers:

        def start(settings: dict, workers: int = 4) -> GunicornServer:
            log_path = log_dir / f"gunicorn-{len(list(log_dir.iterdir())) + 1}.log"
            return servers.enter_context(gunicorn_server(settings, log_path, workers))

        yield start


@dataclass(frozen=True)
class Reply:
    """What the server answered: status, Location header (for redirects) and body."""

    status: int
    location: str
    text: str


INPUT_TAG = re.compile(r"<input\b[^>]*>")
ATTRIBUTE = re.compile(r'([\w-]+)="([^"]*)"')


class Browser:
    """One visitor: its own cookies (its own session), a new connection per request, redirects not followed."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def get(self, path: str) -> Reply:
        """GET `path`."""
        return self._request("GET", path)

    def post(self, path: str, fields: dict) -> Reply:
        """POST `fields` form-encoded to `path`."""
        return self._request("POST", path, urlencode(fields), "application/x-www-form-urlencoded")

    @staticmethod
    def hidden_fields(reply: Reply) -> dict[str, str]:
        """The hidden inputs of a page's form (csrf_token, submission)."""
        # A regular expression, not html.parser: hundreds of pages through the pure-Python parser cost seconds of CPU.
        fields = {}
        for tag in INPUT_TAG.findall(reply.text):
            attributes = {name: html.unescape(value) for name, value in ATTRIBUTE.findall(tag)}
            if attributes.get("type") == "hidden" and "name" in attributes:
                fields[attributes["name"]] = attributes.get("value", "")
        return fields

    def _request(self, method: str, path: str, body: str | None = None, content_type: str | None = None) -> Reply:
        headers = {"Accept-Language": "en"}
        if content_type:
            headers["Content-Type"] = content_type
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", errors="replace")
            for header in response.headers.get_all("Set-Cookie") or []:
                for name, morsel in http.cookies.SimpleCookie(header).items():
                    self.cookies[name] = morsel.coded_value
            return Reply(response.status, response.headers.get("Location", ""), text)
        finally:
            connection.close()
