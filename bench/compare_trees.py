"""CPU time of dvk's commands in two source trees, side by side, on copies of one ledger.

Each command runs as its own process (`python -m dvk …` with each tree's own interpreter, so each tree
imports its own code), alternately old/new, `--repeat` times; the best user+system CPU time of each is
kept (steadier than wall time on a busy machine). Used to check that a refactoring keeps speed:

    .venv/bin/python bench/compare_trees.py --old ../dvk-old --new . --ledger /tmp/bench/bench-10000.sqlite

`--ledger` is a ledger built by bench/run.py (`--keep FOLDER`); each tree gets its own copy (a newer
tree upgrades its copy once, before timing). Commands use the year and an entry of bench/build.py.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

YEAR = "2024"
ENTRY = "2024-017"
COMMANDS = [["--version"], ["--help"], ["info"], ["show", ENTRY, "--json"], ["history", ENTRY], ["check", ENTRY],
            ["list", "--year", YEAR, "--json"], ["check", "--year", YEAR, "--json"], ["status", "--year", YEAR, "--json"],
            ["recognize", "--year", YEAR, "--number", "1", "--dry-run", "--json"], ["verify"]]


def cpu_of(python: str, args: list[str], db: Path) -> float:
    proc = subprocess.Popen([python, "-m", "dvk", *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "DVK_DB": str(db)}, cwd=tempfile.gettempdir())
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{python} -m dvk {' '.join(args)} failed")
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--old", type=Path, required=True, help="the tree before (with its own .venv)")
    ap.add_argument("--new", type=Path, required=True, help="the tree after (with its own .venv)")
    ap.add_argument("--ledger", type=Path, required=True, help="a ledger built by bench/run.py")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dvk-compare-"))
    trees = {"old": a.old.resolve(), "new": a.new.resolve()}
    dbs = {}
    for name, tree in trees.items():
        dbs[name] = work / f"{name}.sqlite"
        shutil.copyfile(a.ledger, dbs[name])
        cpu_of(str(tree / ".venv/bin/python"), ["info"], dbs[name])  # upgrade once, outside the timing
    best: dict[tuple[str, str], float] = {}
    for _ in range(a.repeat):
        for args in COMMANDS:
            for name, tree in trees.items():
                key = (name, " ".join(args))
                best[key] = min(best.get(key, float("inf")), cpu_of(str(tree / ".venv/bin/python"), args, dbs[name]))
    print(f"{'command':58} {'old CPU s':>9} {'new CPU s':>9} {'new/old':>8}")
    for args in COMMANDS:
        k = " ".join(args)
        o, n = best[("old", k)], best[("new", k)]
        print(f"{k:58} {o:9.3f} {n:9.3f} {n / o:8.2f}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
