"""Load on one PostgreSQL ledger: N concurrent client processes registering, reporting and scoring.

Each client runs the real commands (`dvk register`, `dvk report`, `dvk score`, in-process through the
CLI, as a clerk's script would) against one ledger; then, in the same run, the same rows are written by
plain psycopg INSERTs (one transaction a row, no history, no checks) into bare tables of another
database, as the floor of what the server can take. Printed: throughput and p50/p99 latency of each
command on both paths; then the checks that nothing was lost (counts), the chain verifies and no entry
id repeats.

    python bench/server_bench.py --url postgresql://postgres@127.0.0.1:55432/postgres --clients 32 --per-client 10

`--url` names a login that may create databases; two throw-away databases are made and dropped.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

UNITS = [(f"DV{i:02d}", f"Công đoàn cơ sở số {i}", f"Chi bộ cơ sở số {i}") for i in range(1, 33)]
FULL = ["G1=8", "G2=9", "G3=8", "G4=8.5", "G5=9", "S1=9", "S2=8", "S3=na", "S4=9", "S5=8", "S6=9"]
ASPECTS = ["--approach", "Cách làm sáng tạo", "--experience", "Kinh nghiệm rút ra", "--spread", "Lan tỏa",
           "--effectiveness", "Tiết kiệm 120 triệu đồng", "--sustainability", "Duy trì 3 năm"]
YEAR = 2025


def _url(base: str, db: str) -> str:
    return base.rpartition("/")[0] + "/" + db


def _admin(base: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(base, autocommit=True) as con:
        con.execute(sql)


def _dvk_client(url: str, k: int, n: int, go, out) -> None:
    import typer.testing
    from typer.testing import CliRunner

    from dvk.cli import app

    command = typer.testing._get_command(app)
    typer.testing._get_command = lambda _app: command
    runner = CliRunner()
    unit = UNITS[k % len(UNITS)][0]
    times: dict[str, list[float]] = {"register": [], "report": [], "score": []}
    ids, errors = [], []

    def run(name: str, *args: str) -> str:
        t0 = time.perf_counter()
        r = runner.invoke(app, [name, "--db", url, *args])
        times[name].append(time.perf_counter() - t0)
        if r.exit_code != 0:
            errors.append(f"{name}: {r.exit_code} {r.stderr.strip()}")
        return r.stdout.strip()

    go.wait()
    for i in range(n):
        eid = run("register", "--year", str(YEAR), "--unit", unit, "--title", f"Mô hình {k}-{i} của {unit}",
                  "--field", str(1 + i % 5), "--date", f"10/02/{YEAR}", "--user", f"thư ký {unit}")
        ids.append(eid)
        run("report", eid, *ASPECTS, "--user", f"thư ký {unit}")
        run("score", eid, "--member", f"Ủy viên {k}", *FULL, "--user", f"thư ký {unit}")
    out.put({"times": times, "ids": ids, "errors": errors})


def _plain_client(url: str, k: int, n: int, go, out) -> None:
    import psycopg

    unit = UNITS[k % len(UNITS)][0]
    times: dict[str, list[float]] = {"register": [], "report": [], "score": []}
    with psycopg.connect(url) as con:
        go.wait()
        for i in range(n):
            eid = f"{YEAR}-{k:03d}{i:04d}"
            for name, sql, params in (
                ("register", "INSERT INTO entry (id, year, unit_code, title, field) VALUES (%s, %s, %s, %s, %s)",
                 (eid, YEAR, unit, f"Mô hình {k}-{i} của {unit}", 1 + i % 5)),
                ("report", "INSERT INTO report (entry_id, approach, experience, spread, effectiveness, sustainability) "
                           "VALUES (%s, %s, %s, %s, %s, %s)", (eid, *ASPECTS[1::2])),
                ("score", "INSERT INTO score (entry_id, member, marks) VALUES (%s, %s, %s)",
                 (eid, f"Ủy viên {k}", json.dumps(dict(m.split("=") for m in FULL)))),
            ):
                t0 = time.perf_counter()
                con.execute(sql, params)
                con.commit()
                times[name].append(time.perf_counter() - t0)
    out.put({"times": times, "ids": [], "errors": []})


def _phase(target, url: str, clients: int, n: int) -> tuple[float, list[dict]]:
    ctx = mp.get_context("spawn")
    go, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=target, args=(url, k, n, go, out)) for k in range(clients)]
    for p in procs:
        p.start()
    time.sleep(3.0)  # let every interpreter import dvk
    t0 = time.perf_counter()
    go.set()
    results = [out.get() for _ in procs]
    wall = time.perf_counter() - t0
    for p in procs:
        p.join()
    return wall, results


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def _report(label: str, wall: float, results: list[dict]) -> None:
    print(f"\n{label}: {wall:.1f} s")
    print(f"  {'command':10} {'n':>6} {'per s':>8} {'p50 ms':>8} {'p99 ms':>8}")
    total = 0
    for name in ("register", "report", "score"):
        xs = [t for r in results for t in r["times"][name]]
        total += len(xs)
        print(f"  {name:10} {len(xs):6d} {len(xs) / wall:8.1f} {1000 * statistics.median(xs):8.1f} "
              f"{1000 * _pct(xs, 0.99):8.1f}")
    print(f"  {'all':10} {total:6d} {total / wall:8.1f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", default=os.environ.get("DVK_TEST_PG_URL", "postgresql://postgres@127.0.0.1:55432/postgres"))
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--per-client", type=int, default=10)
    a = ap.parse_args()

    from dvk.cycle.setup import init_ledger
    from dvk.cycle.units import upsert_units

    tag = os.getpid()
    ledger_db, plain_db = f"dvk_bench_{tag}", f"dvk_bench_plain_{tag}"
    for db in (ledger_db, plain_db):
        _admin(a.url, f"CREATE DATABASE \"{db}\" TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'")
    try:
        url, purl = _url(a.url, ledger_db), _url(a.url, plain_db)
        led, _ = init_ledger(url, user="bench", profile={}, criteria_file=None, command="bench init")
        with led.write(user="bench", command="bench units", summary="units") as tx:
            upsert_units(tx, [{"code": c, "name": n, "committee": k} for c, n, k in UNITS])
        import psycopg

        with psycopg.connect(purl, autocommit=True) as con:
            con.execute("CREATE TABLE entry (id text PRIMARY KEY, year int NOT NULL, unit_code text NOT NULL, "
                        "title text NOT NULL, field int NOT NULL)")
            con.execute("CREATE TABLE report (entry_id text PRIMARY KEY REFERENCES entry, approach text, experience "
                        "text, spread text, effectiveness text, sustainability text)")
            con.execute("CREATE TABLE score (entry_id text REFERENCES entry, member text, marks text NOT NULL, "
                        "PRIMARY KEY (entry_id, member))")
        n = a.clients * a.per_client
        print(f"{a.clients} client processes × {a.per_client} entries (register, report, score each) = {n} entries, "
              f"{3 * n} commands; PostgreSQL at {a.url.rpartition('@')[2]}")
        wall, results = _phase(_dvk_client, url, a.clients, a.per_client)
        _report("dvk on PostgreSQL (each command: lock, check, write, history record)", wall, results)
        pwall, presults = _phase(_plain_client, purl, a.clients, a.per_client)
        _report("plain psycopg INSERTs of the same rows (one transaction each, no history)", pwall, presults)

        errors = [e for r in results for e in r["errors"]]
        ids = [i for r in results for i in r["ids"]]
        from sqlalchemy import func, select

        from dvk.ledger.history import table
        from dvk.ledger.verify import verify

        with led.read() as conn:
            counts = {t: conn.execute(select(func.count()).select_from(table(t))).scalar()
                      for t in ("entry", "report", "score", "history")}
        report = verify(led)
        led.close()
        print(f"\nerrors: {len(errors)}{'' if not errors else ' — ' + errors[0]}")
        print(f"counts: {counts['entry']} entries, {counts['report']} reports, {counts['score']} score sheets, "
              f"{counts['history']} history records (want {n}, {n}, {n}, {3 * n + 2})")
        print(f"entry ids unique: {len(set(ids)) == len(ids) == n}")
        print(f"verify: {report.summary()}")
        ok = (not errors and counts["entry"] == counts["report"] == counts["score"] == n
              and counts["history"] == 3 * n + 2 and len(set(ids)) == n and report.ok)
        print("OK" if ok else "FAILED")
        return 0 if ok else 1
    finally:
        for db in (ledger_db, plain_db):
            _admin(a.url, f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


if __name__ == "__main__":
    raise SystemExit(main())
