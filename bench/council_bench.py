"""Benchmark of the council (issue 13): what a year's council costs every reader of the year.

One ledger of --size entries (bench/build.py: full cycles, 3 members' sheets each), copied; the
copy gets a council of those 3 members, one of them from a unit (so every entry of that unit has a
sheet that stops counting), 100 declared conflicts and 100 abstentions. Each command runs as its
own process, alternating between the two ledgers, best of --runs:

* `dvk check --year --json` without a council (baseline) and with one;
* `dvk council review --year --json` with a council, against that same `check` baseline
  (the review is one more pass over the same judged year).

    .venv/bin/python bench/council_bench.py [--size 20000] [--runs 3] [--work DIR]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

YEAR = 2024


def add_council(path: Path) -> None:
    from build import MEMBERS
    from sqlalchemy import select

    from dvk.cycle.council import abstain, add_member, declare_conflicts
    from dvk.demo import UNITS
    from dvk.ledger.history import table
    from dvk.ledger.sqlite import Ledger

    with Ledger.open(path) as led, led.write(user="bench", command="bench council") as tx:
        for i, m in enumerate(MEMBERS):
            add_member(tx, YEAR, m, role=("chair", "secretary", "member")[i],
                       unit=UNITS[0][0] if i == 2 else None)
        et = table("entry")
        ids = [r[0] for r in tx.conn.execute(select(et.c.id).where(et.c.year == YEAR).order_by(et.c.seq).limit(200))]
        declare_conflicts(tx, YEAR, MEMBERS[0], ids[:100], reason="bench")
        for eid in ids[100:200]:
            abstain(tx, eid, MEMBERS[1], reason="bench")


def main(argv: list[str] | None = None) -> int:
    from run import best_of

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=20000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--work", type=Path, default=None)
    args = ap.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="dvk-council-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    plain = work / f"council-{args.size}-plain.sqlite"
    withc = work / f"council-{args.size}-council.sqlite"
    if not plain.exists():
        from build import build

        print(f"  building a {args.size:,}-entry ledger …", flush=True)
        build(plain, args.size)
    if not withc.exists():
        shutil.copyfile(plain, withc)
        add_council(withc)
    py = sys.executable
    check = [py, "-m", "dvk", "check", "--year", str(YEAR), "--json"]
    review = [py, "-m", "dvk", "council", "review", "--year", str(YEAR), "--json"]
    rows = {"check, no council (baseline)": [], "check, with a council": [], "council review": []}
    for _ in range(args.runs):  # alternate, so the machine's load falls on all three alike
        rows["check, no council (baseline)"].append(best_of(1, [*check, "--db", str(plain)]))
        rows["check, with a council"].append(best_of(1, [*check, "--db", str(withc)]))
        rows["council review"].append(best_of(1, [*review, "--db", str(withc)]))
    best = {k: min(v) for k, v in rows.items()}
    base = best["check, no council (baseline)"][0]
    print(f"\n{args.size:,} entries, best of {args.runs} (alternating runs)")
    print(f"{'command':34} {'time':>8} {'ratio':>7} {'peak MB':>8}")
    for k, (t, mb) in best.items():
        print(f"{k:34} {t:8.2f} {t / base:7.2f} {mb:8.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
