"""Benchmark of bulk intake: `dvk register --from FILE` against a plain baseline.

Makes an N-row registrations file (CSV and XLSX) with plausible Vietnamese text, then, in the same
run and each in its own process:

* **dvk**: `dvk register --from FILE --json` into a fresh ledger (init + units imported first, not
  timed): header matching, legacy-encoding probe, NFC, every rule of a registration, duplicate
  matching, ids, batches through SQLAlchemy Core, and the hash-chained history of every row;
* **baseline**: the csv module (or openpyxl read-only for XLSX), NFC normalisation of every cell,
  sqlite3 `executemany` by batches of 5,000 into a table of the same columns, one transaction.

It prints both times, the ratio and each process's peak memory (maximum resident set size, from
os.wait4), and the fixed cost of the dvk command alone (start-up, opening the ledger, a 1-row file
whose row is already there), which the ratio at 100,000 rows still carries. Targets (issue 4): CSV import within 3x the baseline; 1,000,000 rows under 250 MB.

    .venv/bin/python bench/import_bench.py --rows 100000
    .venv/bin/python bench/import_bench.py --rows 1000000 --formats csv
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
HEAD = ["Năm", "Mã đơn vị", "Tên mô hình, điển hình", "Loại", "Đối tượng", "Họ và tên", "Chức vụ", "Lĩnh vực",
        "Ngày đăng ký", "Đột xuất", "Ghi chú"]
YEAR = 2024
TOPICS = ["Chăm lo đời sống đoàn viên khó khăn", "Đối thoại định kỳ với người lao động", "Bữa cơm công đoàn",
          "Tủ sách pháp luật tại khoa phòng", "Phong trào lao động sáng tạo", "Quỹ “Tấm lòng vàng”",
          "Chuyển đổi số trong công tác công đoàn", "Thi đua phục vụ người bệnh", "Nụ cười thân thiện",
          "Hiến máu tình nguyện"]
PEOPLE = ["Nguyễn Thị Ánh", "Trần Văn Bình", "Lê Thị Thuỷ", "Phạm Minh Đức", "Hoàng Thị Hoà", "Võ Quốc Huy"]
POSITIONS = ["Điều dưỡng trưởng", "Bác sĩ khoa Nhi", "Chủ tịch công đoàn cơ sở", "Kỹ thuật viên xét nghiệm"]


def rows(n: int):
    from dvk.demo import UNITS

    for i in range(n):
        code = UNITS[i % len(UNITS)][0]
        individual = i % 4 == 0
        day = dt.date(YEAR, 2, 1 + i % 28) if i % 50 else dt.date(YEAR, 3, 5)
        yield [YEAR, code, f"{TOPICS[i % len(TOPICS)]} — mô hình số {i + 1} của {code}",
               "Điển hình" if individual else "Mô hình", "Cá nhân" if individual else "Tập thể",
               PEOPLE[i % len(PEOPLE)] if individual else None, POSITIONS[i % len(POSITIONS)] if individual else None,
               1 + i % 5, day, "x" if i % 97 == 0 else None, "ghi chú" if i % 10 == 0 else None]


def make_csv(path: Path, n: int) -> None:
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEAD)
        for r in rows(n):
            r[8] = r[8].strftime("%d/%m/%Y")
            w.writerow(["" if v is None else v for v in r])


def make_xlsx(path: Path, n: int) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Đăng ký")
    ws.append(HEAD)
    for r in rows(n):
        c = WriteOnlyCell(ws, value=r[8])
        c.number_format = "DD/MM/YYYY"
        r[8] = c
        ws.append(r)
    wb.save(path)


# ---------------------------------------------------------------- the baseline (run in its own process)

def baseline(path: Path, db: Path) -> int:
    norm = unicodedata.normalize
    con = sqlite3.connect(db, isolation_level=None)
    cols = ", ".join(f"c{i} TEXT" for i in range(len(HEAD)))
    con.execute(f"CREATE TABLE reg ({cols})")
    ins = f"INSERT INTO reg VALUES ({', '.join('?' * len(HEAD))})"

    def cells_csv():
        with open(path, encoding="utf-8-sig", newline="") as f:
            r = csv.reader(f)
            next(r)
            for row in r:
                yield [norm("NFC", c) if c else None for c in row]

    def cells_xlsx():
        from openpyxl import load_workbook

        wb = load_workbook(path, read_only=True, data_only=True)
        ws = wb.worksheets[0]
        it = ws.iter_rows(values_only=True)
        next(it)
        width = len(HEAD)
        for row in it:
            cells = [norm("NFC", c) if isinstance(c, str) else c for c in row]
            yield cells + [None] * (width - len(cells))
        wb.close()

    n = 0
    con.execute("BEGIN")
    batch = []
    for row in (cells_xlsx() if path.suffix == ".xlsx" else cells_csv()):
        batch.append(row)
        if len(batch) >= 5000:
            con.executemany(ins, batch)
            n += len(batch)
            batch = []
    con.executemany(ins, batch)
    n += len(batch)
    con.execute("COMMIT")
    con.close()
    return n


# ---------------------------------------------------------------- measuring

def child(cmd: list[str]) -> None:
    """Run `cmd`, reap exactly that process with os.wait4 and print its time and peak RSS as JSON."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=out, stderr=err)
        _, status, usage = os.wait4(p.pid, 0)
        seconds = time.perf_counter() - t0
        p.returncode = code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        sys.stderr.write(err.read().decode("utf-8", "replace"))
        print(json.dumps({"seconds": seconds, "cpu": usage.ru_utime + usage.ru_stime,
                          "peak_mb": usage.ru_maxrss / 1024, "code": code,
                          "stdout": out.read().decode("utf-8", "replace")}))


def timed(cmd: list[str], env: dict) -> tuple[float, float, float, str]:
    """(wall seconds, CPU seconds, peak RSS in MB, stdout) of `cmd` in its own process."""
    r = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", "--", *cmd], env=env,
                       capture_output=True)
    d = json.loads(r.stdout.decode("utf-8").strip().splitlines()[-1])
    if d["code"] != 0:
        sys.stderr.write(r.stderr.decode("utf-8", "replace"))
        raise SystemExit(f"command failed ({d['code']}): {' '.join(cmd)}")
    return d["seconds"], d["cpu"], d["peak_mb"], d["stdout"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--formats", default="csv,xlsx", help="csv, xlsx or both (default csv,xlsx)")
    ap.add_argument("--keep", type=Path, help="keep the files and ledgers in this directory")
    ap.add_argument("--repeat", type=int, default=None,
                    help="runs of each side, the fastest kept (default: 3 up to 200,000 rows, else 1)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--baseline", nargs=2, type=Path, metavar=("FILE", "DB"), help=argparse.SUPPRESS)
    ap.add_argument("cmd", nargs="*", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        child(a.cmd)
        return
    if a.baseline:
        print(baseline(*a.baseline))
        return
    sys.path.insert(0, str(ROOT))
    work = Path(a.keep) if a.keep else Path(tempfile.mkdtemp(prefix="dvk-import-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    dvk = [sys.executable, "-m", "dvk"]
    env = {**os.environ, "DVK_USER": "bench", "PYTHONPATH": str(ROOT)}
    env.pop("DVK_DEBUG", None)
    try:
        from dvk.demo import UNITS

        units = work / "units.csv"
        with open(units, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(["Mã đơn vị", "Tên đơn vị", "Cấp ủy"])
            w.writerows(UNITS)
        print(f"dvk import benchmark: {a.rows:,} registration rows, Python {sys.version.split()[0]}, "
              f"SQLite {sqlite3.sqlite_version}")
        for fmt in [f.strip() for f in a.formats.split(",") if f.strip()]:
            path = work / f"registrations-{a.rows}.{fmt}"
            t0 = time.perf_counter()
            (make_csv if fmt == "csv" else make_xlsx)(path, a.rows)
            print(f"\n[{fmt}] file {path.name}: {path.stat().st_size / 1e6:.1f} MB, made in "
                  f"{time.perf_counter() - t0:.1f} s")
            repeat = a.repeat or (3 if a.rows <= 200_000 else 1)
            b_s = d_s = b_cpu = d_cpu = one_s = one_cpu = float("inf")
            b_mb = d_mb = 0.0
            one = work / f"registrations-1.{fmt}"  # the fixed cost: start-up, ledger, one row
            (make_csv if fmt == "csv" else make_xlsx)(one, 1)
            for _ in range(repeat):  # interleaved, fastest of each kept: the machine may be busy
                base_db = work / f"baseline-{fmt}.sqlite"
                base_db.unlink(missing_ok=True)
                s, cpu, mb, out = timed([sys.executable, str(Path(__file__).resolve()), "--baseline", str(path),
                                         str(base_db)], env)
                assert int(out.strip()) == a.rows, out
                b_s, b_cpu, b_mb = min(b_s, s), min(b_cpu, cpu), max(b_mb, mb)
                led = work / f"ledger-{fmt}.sqlite"
                for p in (led, Path(f"{led}-wal"), Path(f"{led}-shm")):
                    p.unlink(missing_ok=True)
                subprocess.run([*dvk, "init", "--db", str(led)], env=env, check=True, capture_output=True)
                subprocess.run([*dvk, "units", "import", str(units), "--db", str(led)], env=env, check=True,
                               capture_output=True)
                s, cpu, mb, out = timed([*dvk, "register", "--from", str(path), "--db", str(led), "--json"], env)
                res = json.loads(out)
                assert res["added"] == a.rows and res["rejected"] == 0, res
                d_s, d_cpu, d_mb = min(d_s, s), min(d_cpu, cpu), max(d_mb, mb)
                s, cpu, _mb, out = timed([*dvk, "register", "--from", str(one), "--db", str(led), "--json"], env)
                assert json.loads(out)["already"] == 1, out
                one_s, one_cpu = min(one_s, s), min(one_cpu, cpu)
            ratio = d_s / b_s
            print(f"  fastest of {repeat} run(s) each, peak = the highest seen")
            print(f"  baseline (csv/openpyxl + NFC + sqlite3 executemany): {b_s:8.2f} s (CPU {b_cpu:6.2f} s)   "
                  f"peak {b_mb:6.0f} MB")
            print(f"  dvk register --from (rules, ids, history):          {d_s:8.2f} s (CPU {d_cpu:6.2f} s)   "
                  f"peak {d_mb:6.0f} MB")
            print(f"  of which the fixed cost (same command, a 1-row file): {one_s:8.2f} s (CPU {one_cpu:6.2f} s)")
            target = "  (target ≤ 3×)" if fmt == "csv" else ""
            print(f"  ratio dvk / baseline: {ratio:.2f}× wall, {d_cpu / b_cpu:.2f}× CPU{target}   "
                  f"rows/s: {a.rows / d_s:,.0f}")
            if a.rows >= 1_000_000:
                print(f"  peak memory of dvk at {a.rows:,} rows: {d_mb:.0f} MB (target < 250 MB)")
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
