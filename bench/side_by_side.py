"""Run one benchmark on several trees of the repository in turn (A B A B …), each against its own floor.

    .venv/bin/python -m bench.side_by_side --tree before=/tmp/before --tree now=. [--rounds 3] [--out DIR] \
        -- mail_drain --database-url postgresql+psycopg://postgres@127.0.0.1:5432/mailbench --workers 2
    .venv/bin/python -m bench.side_by_side --tree before=/tmp/before --tree now=. \
        -- rush --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench --workers 4 --connections 16,32

Each tree (a checkout, e.g. `git worktree add /tmp/before <commit>`) runs its own copy of `bench/<module>` with
this virtualenv's Python, in its own directory, so it imports its own `eventreg`; each gets its own temporary
folder (bench's instance folder, logs). The machine is shared and its speed changes from minute to minute, so the
trees alternate, and the load average is noted before each run. What to compare is each run's ratio to the floor it
measured itself (mail_drain: the drain ÷ plain smtplib; rush: the app ÷ bench/floor_app.py). All runs share the
database given to the benchmark: give a throwaway one.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def tree_argument(value: str) -> tuple[str, Path]:
    """'name=path' → (name, absolute path)."""
    name, _, path = value.partition("=")
    if not name or not path:
        raise argparse.ArgumentTypeError("give a tree as name=path")
    return name, Path(path).resolve()


def commit_of(tree: Path) -> str:
    """The tree's commit, and whether its eventreg/ or bench/ differs from it."""
    commit = subprocess.run(["git", "-C", tree, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", tree, "status", "--porcelain", "eventreg", "bench"], capture_output=True)
    return commit.stdout.strip() + (" + changes" if dirty.stdout.strip() else "")


def wait_for_quiet(below: float, longest: float) -> None:
    """Wait until the 1-minute load average is under `below`, or `longest` seconds have passed."""
    deadline = time.monotonic() + longest
    while os.getloadavg()[0] >= below and time.monotonic() < deadline:
        time.sleep(5)


def run_once(name: str, tree: Path, module: str, arguments: list[str], out: Path, number: int) -> dict:
    """One run of `bench.<module>` in `tree`; its JSON with the load before it and the time it took."""
    result_file = out / f"{module}-{name}-{number}.json"
    temporary = out / f"tmp-{name}"
    temporary.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "TMPDIR": str(temporary), "PYTHONPATH": str(tree)}
    load = os.getloadavg()
    started = time.time()
    command = [sys.executable, "-m", f"bench.{module}", *arguments, "--json", str(result_file)]
    with open(out / f"{module}-{name}-{number}.log", "w") as log:
        finished = subprocess.run(command, cwd=tree, env=env, stdout=log, stderr=subprocess.STDOUT)
    if finished.returncode:
        raise SystemExit(f"{name} run {number} failed: see {out / f'{module}-{name}-{number}.log'}")
    result = json.loads(result_file.read_text())
    return {"tree": name, "round": number, "load_before": load, "started": started, **result}


def ratios(run: dict, module: str) -> dict[str, dict[str, float]]:
    """Per measured case: the figure, its floor, their ratio and the CPU per item where the benchmark gives one."""
    if module == "mail_drain":
        case = f"{run['workers']} worker(s)"
        return {
            case: {
                "figure": run["drain_per_s"],
                "floor": run["smtplib_per_s"],
                "ratio": run["drain_share_of_smtplib"],
                "cpu_ms": run.get("worker_cpu_ms_per_mail", float("nan")),
            }
        }
    if module == "rush":
        floors = {(r["server"], r["connections"]): r for r in run["runs"] if r["target"] == "floor"}
        cases = {}
        for app in (r for r in run["runs"] if r["target"] == "app"):
            floor = floors[(app["server"], app["connections"])]
            cases[f"{app['server']} c={app['connections']}"] = {
                "figure": app["accepted_per_s"],
                "floor": floor["accepted_per_s"],
                "ratio": app["accepted_per_s"] / floor["accepted_per_s"],
                "cpu_ms": app["cpu_ms_server"] + app["cpu_ms_postgres"],
            }
        return cases
    raise SystemExit(f"side_by_side knows the floors of mail_drain and rush, not of {module}")


def report(runs: list[dict], module: str, trees: dict[str, str]) -> None:
    """One line per run, then per tree and case the median ratio to the floor and its range."""
    print("| tree | commit | round | load before (1 min) | case | figure/s | floor/s | ratio | CPU ms per item |")
    print("|---|---|---:|---:|---|---:|---:|---:|---:|")
    collected: dict[tuple[str, str], list[dict]] = {}
    for run in runs:
        for case, numbers in ratios(run, module).items():
            collected.setdefault((run["tree"], case), []).append(numbers)
            print(
                f"| {run['tree']} | {trees[run['tree']]} | {run['round']} | {run['load_before'][0]:.2f} | {case} | "
                f"{numbers['figure']:.0f} | {numbers['floor']:.0f} | {100 * numbers['ratio']:.0f} % | "
                f"{numbers['cpu_ms']:.2f} |"
            )
    print("\n| tree | case | runs | median ratio | range | median figure/s | median CPU ms per item |")
    print("|---|---|---:|---:|---|---:|---:|")
    for (tree, case), numbers in collected.items():
        shares = [100 * n["ratio"] for n in numbers]
        print(
            f"| {tree} | {case} | {len(numbers)} | {statistics.median(shares):.0f} % | "
            f"{min(shares):.0f}–{max(shares):.0f} % | {statistics.median(n['figure'] for n in numbers):.0f} | "
            f"{statistics.median(n['cpu_ms'] for n in numbers):.2f} |"
        )


def main() -> None:
    """Alternate the trees, round after round; print every run and the medians."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tree", type=tree_argument, action="append", required=True, help="name=path (repeat)")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each tree (default 3)")
    default_out = Path(tempfile.gettempdir()) / f"eventreg-side-by-side-{int(time.time())}"
    parser.add_argument("--out", default=str(default_out), help="logs and JSON (default: %(default)s)")
    parser.add_argument("--quiet-below", type=float, help="before each run, wait for a 1-minute load under this")
    parser.add_argument("--wait", type=float, default=300, help="… but no longer than this (seconds, default 300)")
    parser.add_argument("module", choices=("mail_drain", "rush"), help="the benchmark in bench/")
    parser.add_argument("arguments", nargs=argparse.REMAINDER, help="the benchmark's own options (after --)")
    options = parser.parse_args()
    arguments = options.arguments[1:] if options.arguments[:1] == ["--"] else options.arguments
    out = Path(options.out)
    out.mkdir(parents=True, exist_ok=True)
    trees = {name: commit_of(path) for name, path in options.tree}
    print(f"# {options.module} {' '.join(arguments)}; trees: {trees}; logs in {out}", flush=True)
    runs = []
    for number in range(1, options.rounds + 1):
        for name, path in options.tree:
            if options.quiet_below:
                wait_for_quiet(options.quiet_below, options.wait)
            run = run_once(name, path, options.module, arguments, out, number)
            runs.append(run)
            first = next(iter(ratios(run, options.module).values()))
            print(
                f"# round {number} {name}: load before {run['load_before'][0]:.2f}, ratio {100 * first['ratio']:.0f} %",
                flush=True,
            )
    (out / "runs.json").write_text(json.dumps(runs, indent=1))
    report(runs, options.module, trees)


if __name__ == "__main__":
    main()
