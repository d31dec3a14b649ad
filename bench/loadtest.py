"""HTTP load testing for the benchmarks: gunicorn servers on free ports, the registration form's token, wrk runs."""

import html
import json
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

REPOSITORY = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")
RUSH_LUA = Path(__file__).resolve().with_name("rush.lua")

# The fixed fields of every rush registration; email and submission key are added per request by rush.lua.
REGISTRATION_FIELDS = {
    "honorific": "Prof.",
    "given_name": "Ada",
    "family_name": "Rush",
    "native_name": "",
    "institution": "Institute of Load Testing",
    "position": "Director",
    "country": "CN",
    "category": "delegate",
    "accompanying": "0",
    "dietary": "",
    "accessibility": "",
    "consent": "y",
}
# Every valid POST of the form is answered 303 See Other to the event's "submitted" page (issue 14): the outcome and
# the private link go only by mail. Anything else (a 302, a form shown again, a 429) is counted as unexpected.
ANSWER_STATUS = "303"


def submitted_path(form_path: str) -> str:
    """Where every valid POST of the form at `form_path` (/e/<slug>/register) is sent: /e/<slug>/submitted."""
    return form_path.removesuffix("/register") + "/submitted"


def unexpected_answers(summary: dict) -> int:
    """Responses of a wrk run (run_wrk) that were not the 303 to the submitted page; socket errors are apart."""
    return sum(summary["statuses"].values()) - summary["answered"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Server:
    """A running server: its base URL and its master process."""

    url: str
    pid: int

    def worker_pids(self) -> list[int]:
        """The master's child processes (gunicorn's workers)."""
        return children(self.pid)


def children(parent: int) -> list[int]:
    """Ids of the processes whose parent is `parent`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # the process has just ended
                continue
            if int(fields[1]) == parent:
                found.append(int(entry.name))
    return found


def cpu_seconds(pids) -> dict[int, float]:
    """User + system CPU seconds used so far by each process that still exists."""
    ticks = os.sysconf("SC_CLK_TCK")
    used = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return used


def children_cpu_seconds() -> float:
    """CPU seconds of this process's finished children (wrk)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@contextmanager
def gunicorn(
    wsgi_app: str,
    workers: int,
    environment: dict[str, str],
    log_path: Path,
    ready_path: str = "/",
    worker_class: str = "sync",
    threads: int = 1,
):
    """Run `gunicorn -w workers wsgi_app` on a free port of 127.0.0.1 from the repository; yield the Server.

    Waits until `ready_path` answers 200 and stops the server (SIGTERM, then SIGKILL) when the block ends.
    """
    port = free_port()
    command = [str(GUNICORN), "-w", str(workers), "-k", worker_class, "-b", f"127.0.0.1:{port}"]
    if worker_class == "gthread":
        command += ["--threads", str(threads)]
    command.append(wsgi_app)
    env = {**os.environ, **environment}
    env = {key: value.replace("{port}", str(port)) for key, value in env.items()}
    with open(log_path, "ab") as log:
        server = subprocess.Popen(command, cwd=REPOSITORY, env=env, stdout=log, stderr=log)
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(server, base_url + ready_path, log_path)
        yield Server(base_url, server.pid)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def wait_until_ready(server: subprocess.Popen, url: str, log_path: Path, seconds: float = 60) -> None:
    """Poll `url` until it answers 200; fail with the server's log when it exits or never answers."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}; see {log_path}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - our own server on 127.0.0.1
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"gunicorn did not answer {url} within {seconds:.0f} s; see {log_path}")


def registration_form(base_url: str, path: str) -> tuple[str, str]:
    """GET the registration form once: (the session cookie pair, the url-encoded fixed fields with its CSRF token)."""
    with urllib.request.urlopen(base_url + path, timeout=10) as response:  # noqa: S310 - our own server
        page = response.read().decode()
        cookies = response.headers.get_all("Set-Cookie") or []
    session = next((cookie.split(";")[0] for cookie in cookies if cookie.startswith("session=")), "")
    fields = dict(REGISTRATION_FIELDS)
    match = re.search(r'<input[^>]*name="csrf_token"[^>]*>', page)
    if match:
        fields["csrf_token"] = html.unescape(re.search(r'value="([^"]*)"', match.group(0)).group(1))
    return session, urlencode(fields)


def run_wrk(base_url: str, path: str, cookie: str, body: str, run: str, connections: int, seconds: int, threads: int):
    """Run wrk with rush.lua; wrk's own summary (RUSH_JSON line) plus its text output."""
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "30s"]
    command += ["-s", str(RUSH_LUA), base_url, "--", path, cookie or "none=1", body, run, submitted_path(path)]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next((line for line in output.splitlines() if line.startswith("RUSH_JSON ")), None)
    if line is None:
        raise SystemExit(f"wrk printed no summary:\n{output}")
    summary = json.loads(line.removeprefix("RUSH_JSON "))
    summary["output"] = output
    return summary
