"""A local SMTP server for the mail benchmarks: accepts every message (after `--delay` seconds) and counts them.

    .venv/bin/python -m bench.smtp_sink --port 2525 [--delay 2]

It prints `SINK_COUNT <n>` when stopped (SIGTERM/SIGINT). `smtp_sink()` runs it in a subprocess for a benchmark.
"""

import argparse
import asyncio
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager

from aiosmtpd.controller import Controller

from .loadtest import free_port


class CountingSink:
    """Takes every message, after a pause when the server is to be slow, and counts them."""

    def __init__(self, delay: float):
        self.delay = delay
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        """Accept the message (a slow server makes the client wait for its 250)."""
        if self.delay:
            await asyncio.sleep(self.delay)
        self.count += 1
        return "250 OK"


def main() -> None:
    """Serve until SIGTERM or SIGINT, then print how many messages came."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each 250 reply")
    options = parser.parse_args()
    handler = CountingSink(options.delay)
    controller = Controller(handler, hostname="127.0.0.1", port=options.port)
    controller.start()
    stopped = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, frame: stopped.set())
    print("SINK_READY", flush=True)
    stopped.wait()
    controller.stop()
    print(f"SINK_COUNT {handler.count}", flush=True)


class Sink:
    """A running sink: its port, and after it stopped, how many messages it took."""

    def __init__(self, port: int):
        self.port = port
        self.count: int | None = None


@contextmanager
def smtp_sink(delay: float = 0.0):
    """Run the sink in its own process (its CPU apart from the sender's) for the block; yield a Sink."""
    port = free_port()
    command = [sys.executable, "-m", "bench.smtp_sink", "--port", str(port), "--delay", str(delay)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    sink = Sink(port)
    try:
        if process.stdout.readline().strip() != "SINK_READY":
            raise SystemExit("the SMTP sink did not start")
        _wait_for_port(port)
        yield sink
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
        for line in output.splitlines():
            if line.startswith("SINK_COUNT "):
                sink.count = int(line.split()[1])


def _wait_for_port(port: int, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on port {port}")


if __name__ == "__main__":
    main()
