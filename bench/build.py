"""Build benchmark ledgers quickly: N entries of one year with full cycles, through dvk's own Tx.

Every row goes through `Tx.insert_many`, so the history and hash chain are as a real ledger has
them. Used by bench/run.py; also runnable alone: python bench/build.py --size 100000 --out /tmp/b.sqlite
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import time
from pathlib import Path

YEAR = 2024
MEMBERS = ("Nguyễn Văn Hùng", "Trần Thị Mai", "Lê Minh Tuấn")
BATCH = 20_000


def build(path: Path, size: int, *, seed: int = 1) -> float:
    from dvk.cycle.config import criteria_for
    from dvk.cycle.entries import make_id, match_key
    from dvk.cycle.orgs import first_org
    from dvk.cycle.evidence import score_row
    from dvk.cycle.setup import init_ledger
    from dvk.cycle.units import upsert_units
    from dvk.demo import UNITS

    t0 = time.perf_counter()
    rng = random.Random(seed)
    led, _ = init_ledger(path, user="bench", profile={}, criteria_file=None, command="bench init")
    try:
        with led.write(user="bench", command="bench units", summary="units") as tx:
            upsert_units(tx, [{"code": c, "name": n, "committee": k} for c, n, k in UNITS])
            crit = criteria_for(tx.conn, YEAR)
            org = first_org(tx.conn)
        codes = crit.codes
        for start in range(0, size, BATCH):
            n = min(BATCH, size - start)
            with led.write(user="bench", command="bench cycle", summary=f"rows {start}") as tx:
                entries, reports, confs, scores = [], [], [], []
                for i in range(start, start + n):
                    code, _, committee = UNITS[i % len(UNITS)]
                    eid = make_id(YEAR, i + 1)
                    title = f"Mô hình số {i + 1} “Dân vận khéo” của {code}"
                    individual = i % 4 == 0
                    person = f"Nguyễn Thị Ánh {i}" if individual else None
                    day = dt.date(YEAR, 2, 1 + i % 28) if i % 50 else dt.date(YEAR, 3, 5)
                    entries.append({"id": eid, "year": YEAR, "seq": i + 1, "unit_code": code, "title": title,
                                    "kind": "exemplar" if individual else "model",
                                    "subject": "individual" if individual else "collective", "person": person,
                                    "position": "Điều dưỡng" if individual else None, "field": 1 + i % 5,
                                    "registered_on": day, "late": i % 50 == 0, "sudden": False, "note": None,
                                    "match_key": match_key(code, title, person), "org_code": org})
                    reports.append({"entry_id": eid, "approach": "Cách làm", "experience": "Kinh nghiệm",
                                    "spread": "Lan tỏa", "effectiveness": "Hiệu quả",
                                    "sustainability": "Bền vững" if i % 30 else None,
                                    "reported_on": dt.date(YEAR, 8, 1), "file_path": None, "file_sha256": None})
                    confs.append({"entry_id": eid, "committee": committee, "confirmed_by": "Bí thư",
                                  "confirmed_on": dt.date(YEAR, 9, 1), "comment": None,
                                  "rejected": i % 40 == 0, "reason": "Chưa lan tỏa" if i % 40 == 0 else None})
                    level = 7 if i % 10 == 0 else 9
                    for m in MEMBERS:
                        marks = {c: min(10.0, max(0.0, level + rng.choice((-1, -0.5, 0, 0.5, 1)))) for c in codes}
                        scores.append(score_row(eid, m, marks, crit))
                tx.insert_many("entry", entries)
                tx.insert_many("report", reports)
                tx.insert_many("confirmation", confs)
                tx.insert_many("score", scores)
    finally:
        led.close()
    return time.perf_counter() - t0


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=1000)
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args()
    print(f"built {a.size} entries in {build(a.out, a.size):.1f} s")
