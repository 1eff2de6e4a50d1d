"""CPU time of dvk's commands in two source trees, side by side, on copies of one ledger.

Each command runs as its own process (`python -m dvk …` with each tree's own interpreter, so each tree
imports its own code), alternately old/new, `--repeat` times; the best user+system CPU time of each is
kept (steadier than wall time on a busy machine). Used to check that a refactoring keeps speed:

    .venv/bin/python bench/compare_trees.py --old ../dvk-old --new . --ledger /tmp/bench/bench-10000.sqlite

`--ledger` is a ledger built by bench/run.py (`--keep FOLDER`); each tree gets its own copy (a newer
tree upgrades its copy once, before timing). Commands use the year and an entry of bench/build.py.

`--import FILE` times bulk intake instead: `dvk register --from FILE` into a fresh ledger of each tree
(init and the demo's units, not timed), alternately. `--python PY` runs both trees with one interpreter,
each tree first on PYTHONPATH (a `git worktree` of an old commit needs no venv of its own):

    .venv/bin/python bench/import_bench.py --rows 100000 --formats csv --keep /tmp/ib   # makes the file
    git worktree add ../dvk-old e82232d
    .venv/bin/python bench/compare_trees.py --old ../dvk-old --new . --python .venv/bin/python \
        --import /tmp/ib/registrations-100000.csv --repeat 6
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


def cpu_of(python: str, args: list[str], db: Path, tree: Path | None = None) -> float:
    """User+system CPU seconds of `python -m dvk ARGS` on ledger `db` (`tree` first on PYTHONPATH)."""
    env = {**os.environ, "DVK_DB": str(db), "DVK_USER": "bench"}
    env.pop("DVK_DEBUG", None)
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
    proc = subprocess.Popen([python, "-m", "dvk", *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=env, cwd=tempfile.gettempdir())
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{python} -m dvk {' '.join(args)} failed")
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--old", type=Path, required=True, help="the tree before (with its own .venv)")
    ap.add_argument("--new", type=Path, required=True, help="the tree after (with its own .venv)")
    ap.add_argument("--ledger", type=Path, help="a ledger built by bench/run.py")
    ap.add_argument("--import", dest="import_file", type=Path, help="time `dvk register --from FILE` instead")
    ap.add_argument("--python", help="one interpreter for both trees, each tree first on PYTHONPATH")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    if (a.ledger is None) == (a.import_file is None):
        ap.error("give --ledger or --import")
    if a.python:
        a.python = os.path.abspath(a.python)  # the commands run in a temporary folder (not resolved: a venv's link)
    work = Path(tempfile.mkdtemp(prefix="dvk-compare-"))
    trees = {"old": a.old.resolve(), "new": a.new.resolve()}
    # name -> (its interpreter, the tree to put first on PYTHONPATH or None for the tree's own venv)
    runners = {name: (a.python, tree) if a.python else (str(tree / ".venv/bin/python"), None)
               for name, tree in trees.items()}
    if a.import_file is not None:
        try:
            compare_import(trees, runners, a.import_file.resolve(), a.repeat, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return
    dbs = {}
    for name in trees:
        dbs[name] = work / f"{name}.sqlite"
        shutil.copyfile(a.ledger, dbs[name])
        cpu_of(runners[name][0], ["info"], dbs[name], runners[name][1])  # upgrade once, outside the timing
    best: dict[tuple[str, str], float] = {}
    for _ in range(a.repeat):
        for args in COMMANDS:
            for name in trees:
                key = (name, " ".join(args))
                best[key] = min(best.get(key, float("inf")), cpu_of(runners[name][0], args, dbs[name], runners[name][1]))
    print(f"{'command':58} {'old CPU s':>9} {'new CPU s':>9} {'new/old':>8}")
    for args in COMMANDS:
        k = " ".join(args)
        o, n = best[("old", k)], best[("new", k)]
        print(f"{k:58} {o:9.3f} {n:9.3f} {n / o:8.2f}")
    shutil.rmtree(work, ignore_errors=True)


def compare_import(trees: dict[str, Path], runners: dict[str, tuple[str, Path | None]], file: Path, repeat: int,
                   work: Path) -> None:
    import csv
    import sys

    sys.path.insert(0, str(trees["new"]))
    from dvk.demo import UNITS

    units = work / "units.csv"
    with open(units, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["Mã đơn vị", "Tên đơn vị", "Cấp ủy"])
        w.writerows(UNITS)
    bases = {}
    for name, (python, on_path) in runners.items():
        bases[name] = work / f"{name}-base.sqlite"
        cpu_of(python, ["init"], bases[name], on_path)
        cpu_of(python, ["units", "import", str(units)], bases[name], on_path)
    runs: dict[str, list[float]] = {name: [] for name in trees}
    for _ in range(repeat):  # alternately, so a busy moment of the machine weighs on both
        for name, (python, on_path) in runners.items():
            db = work / f"{name}.sqlite"
            for side in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
                side.unlink(missing_ok=True)
            shutil.copyfile(bases[name], db)
            runs[name].append(cpu_of(python, ["register", "--from", str(file), "--json"], db, on_path))
    o, n = sorted(runs["old"]), sorted(runs["new"])
    print(f"dvk register --from {file.name}, {repeat} runs each (CPU s)")
    print(f"  old {trees['old']}: best {o[0]:.2f}, median {o[len(o) // 2]:.2f}")
    print(f"  new {trees['new']}: best {n[0]:.2f}, median {n[len(n) // 2]:.2f}")
    print(f"  new/old: best {n[0] / o[0]:.3f}, median {n[len(n) // 2] / o[len(o) // 2]:.3f}")


if __name__ == "__main__":
    main()
