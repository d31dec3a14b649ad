"""Memory growth, time and size of the CSV and XLSX exports of the seeded event's 100,000 registrations.

    .venv/bin/python -m bench.export_memory [--database-url URL] [--limit-mb 50]

Each export runs in a fresh subprocess, so the baseline is clean: the app is created, an admin logs in and one
export of an empty filter warms every code path; then the peak-RSS counter (VmHWM) is reset through
/proc/self/clear_refs and the full export is streamed through the test client, chunk by chunk, keeping nothing.
Growth = peak RSS during the export (VmHWM, cross-checked by a 5 ms sampling thread) − RSS before it.
"""

import argparse
import gc
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

from flask import url_for

from .common import bench_event, database_argument, environment, logged_in_client, make_app

MB = 1024 * 1024
EXPORTS = ("exports.csv", "exports.xlsx")


def status_kb(field: str) -> int:
    """A memory figure of this process from /proc/self/status, in kB (VmRSS, VmHWM…)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


class RssSampler(threading.Thread):
    """Reads VmRSS every few milliseconds and keeps the highest value."""

    def __init__(self, interval: float = 0.005):
        super().__init__(daemon=True)
        self.interval = interval
        self.peak_kb = status_kb("VmRSS")
        self.running = True

    def run(self) -> None:
        while self.running:
            self.peak_kb = max(self.peak_kb, status_kb("VmRSS"))
            time.sleep(self.interval)

    def stop(self) -> int:
        """Stop sampling; the peak in kB."""
        self.running = False
        self.join()
        return self.peak_kb


def stream(client, url: str) -> tuple[int, int, float, float, bytes]:
    """GET url and read the body chunk by chunk: (status, bytes, seconds to first chunk, seconds in all, head)."""
    started = time.perf_counter()
    response = client.get(url, buffered=False)
    first = None
    size = 0
    head = b""
    try:
        for chunk in response.response:
            if first is None:
                first = time.perf_counter() - started
                head = bytes(chunk[:16])
            size += len(chunk)
    finally:
        response.close()
    return response.status_code, size, first or 0.0, time.perf_counter() - started, head


def measure(database_url: str, endpoint: str, query: dict) -> dict:
    """In this (fresh) process: the memory growth, time and size of one export."""
    app = make_app(database_url)
    event = bench_event(app)
    client = logged_in_client(app)
    with app.test_request_context():
        url = url_for(endpoint, slug=event.slug, **query)
        warm_url = url_for(endpoint, slug=event.slug, q="no such delegate zzzz")
    status, *_ = stream(client, warm_url)
    if status != 200:
        raise SystemExit(f"GET {warm_url} answered {status}")
    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
    before_kb = status_kb("VmRSS")
    sampler = RssSampler()
    sampler.start()
    status, size, first, total, head = stream(client, url)
    sampled_kb = sampler.stop()
    peak_kb = max(status_kb("VmHWM"), sampled_kb)
    if status != 200:
        raise SystemExit(f"GET {url} answered {status}")
    return {
        "url": url,
        "status": status,
        "bytes": size,
        "first_chunk_s": first,
        "total_s": total,
        "rss_before_mb": before_kb / 1024,
        "rss_peak_mb": peak_kb / 1024,
        "growth_mb": (peak_kb - before_kb) / 1024,
        "sampled_growth_mb": (sampled_kb - before_kb) / 1024,
        "head": head.hex(),
    }


def run_child(database_url: str, endpoint: str, query: dict) -> dict:
    """Run measure() in a fresh interpreter and return its numbers."""
    command = [sys.executable, "-m", "bench.export_memory", "--database-url", database_url, "--child", endpoint]
    command += ["--query", json.dumps(query)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{endpoint} failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    """Measure each export in its own process and print the numbers (and JSON with --json)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    database_argument(parser)
    parser.add_argument("--limit-mb", type=float, default=50.0, help="the target for memory growth")
    parser.add_argument("--filtered", action="store_true", help="also export a filtered list (country=CN, by name)")
    parser.add_argument("--json", help="also write the numbers to this file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--query", default="{}", help=argparse.SUPPRESS)
    options = parser.parse_args()

    if options.child:
        print(json.dumps(measure(options.database_url, options.child, json.loads(options.query))))
        return

    app = make_app(options.database_url)
    bench_event(app)
    print(f"# Exports — {environment(app)}")
    runs = [(endpoint, {}) for endpoint in EXPORTS]
    if options.filtered:
        runs += [(endpoint, {"country": "CN", "sort": "name"}) for endpoint in EXPORTS]
    results = []
    for endpoint, query in runs:
        numbers = run_child(options.database_url, endpoint, query)
        verdict = "ok" if numbers["growth_mb"] < options.limit_mb else f"OVER the {options.limit_mb:g} MB target"
        print(
            f"{numbers['url']:<72} {numbers['bytes'] / MB:7.1f} MB in {numbers['total_s']:6.1f} s "
            f"(first chunk {numbers['first_chunk_s']:5.2f} s); RSS {numbers['rss_before_mb']:6.1f} → "
            f"{numbers['rss_peak_mb']:6.1f} MB: +{numbers['growth_mb']:.1f} MB "
            f"(sampled +{numbers['sampled_growth_mb']:.1f}) {verdict}"
        )
        results.append(numbers)
    if options.json:
        Path(options.json).write_text(json.dumps({"environment": environment(app), "exports": results}))


if __name__ == "__main__":
    main()
