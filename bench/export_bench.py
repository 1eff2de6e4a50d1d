"""Benchmark of the document exports (issue 6: "big exports").

Two measurements, each against a baseline doing the same work with the bare library, each in
its own child process so the peak memory (max RSS) is that step's own:

* **Word list of 10,000 recognised entries**: the decision with its attached list, rendered by
  `dvk.reports.render_docx` (placeholder check, text cleaning, escaping, deterministic zip, atomic
  write) vs a plain `DocxTemplate(...).render(context); save()` of the same template with the same
  rows.  Also shown: the whole `dvk export` path for that file (reading the year from the ledger,
  building the view model, rendering).
* **Excel workbook of a 100,000-entry decided year**: `dvk export`'s workbook job (the year read
  once, XlsxWriter constant memory, column formats, print settings, formula guard, charts) vs
  plain `sqlite3` queries written with openpyxl write-only (values only, same sheets, rows and
  columns; outcomes joined on their primary key), and vs the same written with XlsxWriter.
* **Export peak memory** at 1k, 10k and 100k entries: `dvk export --year` of a decided year
  (every Word file — the decision, the list, the score sheets, the report — and the workbook) in a
  process of its own; ``--memory-kinds`` limits the kinds (the score sheets of 100,000 entries are
  270,000 pages).

    python bench/export_bench.py [--rows 10000] [--size 100000] [--work DIR] [--only word|xlsx|memory]
                                 [--memory-sizes 1000,10000,100000] [--memory-kinds registrations,workbook]

Ledgers are built with bench/build.py (full cycles: reports, confirmations, 3 members' scores)
and kept in --work for the next run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

YEAR = 2024


# --------------------------------------------------------------------------- ledgers


def ledger(work: Path, size: int, *, recognized: bool) -> Path:
    """A bench ledger of `size` entries (built once, reused); with `recognized`, year 2024 decided."""
    from build import build

    path = work / f"export-{size}{'-decided' if recognized else ''}.sqlite"
    if path.exists():
        return path
    tmp = path.with_suffix(".tmp")
    for p in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        p.unlink(missing_ok=True)
    print(f"  building a {size:,}-entry ledger …", flush=True)
    build(tmp, size)
    if recognized:
        from dvk.cycle.recognition import plan_recognition, recognize
        from dvk.ledger.sqlite import Ledger

        with Ledger.open(tmp) as led:
            with led.write(user="bench", command="bench recognize") as tx:
                recognize(tx, plan_recognition(tx.conn, YEAR, 5, None))
    from dvk.ledger.sqlite import Ledger

    with Ledger.open(tmp) as led:  # checkpoint the WAL into the file before renaming it
        led.raw().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    os.replace(tmp, path)
    for suffix in ("-wal", "-shm"):
        Path(f"{tmp}{suffix}").unlink(missing_ok=True)
    return path


def word_ledger(work: Path, rows: int) -> Path:
    """A decided ledger with at least `rows` recognised entries (about 83 % of a bench year pass)."""
    return ledger(work, int(rows / 0.8) + 1, recognized=True)


# --------------------------------------------------------------------------- child steps


def _decision_vm(db: Path, rows: int):
    """The decision's view model from the ledger, its list cut to exactly `rows` rows."""
    import dataclasses

    from dvk.ledger.sqlite import Ledger
    from dvk.reports.jobs import plan_year
    from dvk.reports.kinds import Options
    from dvk.reports.models import Group

    with Ledger.open(db) as led, led.read() as conn:
        jobs, _ = plan_year(conn, YEAR, Options(), kinds=("decision",))
    vm = jobs[0].vm
    coll, ind = vm.groups
    keep_c = coll.rows[:rows]
    keep_i = ind.rows[: max(0, rows - len(keep_c))]
    vm = dataclasses.replace(vm, groups=(Group(coll.heading, keep_c), Group(ind.heading, keep_i)))
    assert sum(len(g.rows) for g in vm.groups) == rows, "not enough recognised entries"
    return vm


def step_word_baseline(db: Path, rows: int, out: Path) -> float:
    from docxtpl import DocxTemplate

    from dvk.reports.kinds import context_of, for_view_model
    from dvk.reports.sandbox import find_template

    vm = _decision_vm(db, rows)
    context = context_of(vm)  # the same rows, as the template's placeholders
    t = time.perf_counter()
    tpl = DocxTemplate(str(find_template(for_view_model(vm).template)))
    tpl.render(context, autoescape=True)
    tpl.save(str(out))
    return time.perf_counter() - t


def step_word_dvk_memory(db: Path, rows: int, out: Path) -> float:
    """render_docx's work without the file: clean, check, render, deterministic zip."""
    from dvk.reports.kinds import for_view_model
    from dvk.reports.word import render_docx_bytes

    vm = _decision_vm(db, rows)
    t = time.perf_counter()
    data, _ = render_docx_bytes(for_view_model(vm).template, vm)
    seconds = time.perf_counter() - t
    out.write_bytes(data)
    return seconds


def step_word_dvk(db: Path, rows: int, out: Path) -> float:
    """The same, written to a temporary file, fsync'ed and renamed (a signed list must survive a crash)."""
    from dvk.reports.kinds import for_view_model
    from dvk.reports.word import render_docx

    vm = _decision_vm(db, rows)
    t = time.perf_counter()
    render_docx(for_view_model(vm).template, vm, out, force=True)
    return time.perf_counter() - t


def step_word_export(db: Path, rows: int, out: Path) -> float:
    """Ledger -> view model -> file, as `dvk export` does it for the decision (whole list)."""
    from dvk.reports.jobs import plan_year
    from dvk.reports.kinds import Options
    from dvk.ledger.sqlite import Ledger

    t = time.perf_counter()
    with Ledger.open(db) as led, led.read() as conn:
        jobs, _ = plan_year(conn, YEAR, Options(), kinds=("decision",))
        jobs[0].write(conn, out, templates=None, force=True)
    return time.perf_counter() - t


def step_xlsx_dvk(db: Path, rows: int, out: Path) -> float:
    from dvk.reports.jobs import plan_year
    from dvk.reports.kinds import Options
    from dvk.ledger.sqlite import Ledger

    t = time.perf_counter()
    with Ledger.open(db) as led, led.read() as conn:
        jobs, _ = plan_year(conn, YEAR, Options(), kinds=("workbook",))
        jobs[0].write(conn, out, templates=None, force=True)
    return time.perf_counter() - t


_CRIT = [("G1", 8), ("G2", 8), ("G3", 8), ("G4", 8), ("G5", 8),
         ("S1", 10), ("S2", 10), ("S3", 10), ("S4", 10), ("S5", 10), ("S6", 10)]


def _baseline_sheets(db: Path, sheet) -> None:
    """Plain sqlite3 queries, the same sheets, rows and columns as dvk's workbook, values only.
    ``sheet(name, header)`` returns a function that appends a row.  The outcomes are those of the
    year's decision in force, joined on the outcome's primary key (decision id, entry id): joined
    on the entry id alone, every row scanned the outcome table (O(n²) on a decided ledger)."""
    import sqlite3

    con = sqlite3.connect(db)
    row = sheet("Đăng ký", ["Mã hồ sơ", "Đơn vị", "Tên", "Tập thể/Cá nhân", "Họ tên", "Chức vụ", "Lĩnh vực",
                            "Ngày đăng ký", "Muộn", "Đột xuất", "Ghi chú"])
    for r in con.execute("SELECT e.id, u.name, e.title, e.subject, coalesce(e.person, u.name), e.position, e.field, "
                         "e.registered_on, e.late, e.sudden, e.note FROM entry e JOIN unit u ON u.code = e.unit_code "
                         "WHERE e.year = ? ORDER BY e.seq", (YEAR,)):
        row(list(r))
    row = sheet("Báo cáo", ["Mã hồ sơ", "Đơn vị", "Tên", "Ngày", "Cách làm", "Kinh nghiệm", "Lan tỏa", "Hiệu quả",
                            "Bền vững", "Ghi chú"])
    for r in con.execute("SELECT e.id, u.name, e.title, r.reported_on, r.approach, r.experience, r.spread, "
                         "r.effectiveness, r.sustainability, r.file_path FROM entry e JOIN unit u ON "
                         "u.code = e.unit_code JOIN report r ON r.entry_id = e.id WHERE e.year = ? ORDER BY e.seq",
                         (YEAR,)):
        row(list(r))
    row = sheet("Xác nhận", ["Mã hồ sơ", "Đơn vị", "Tên", "Cấp ủy", "Cùng cấp", "Ngày", "Nhận xét"])
    for r in con.execute("SELECT e.id, u.name, e.title, c.committee, c.committee = u.committee, c.confirmed_on, "
                         "coalesce(c.reason, c.comment) FROM entry e JOIN unit u ON u.code = e.unit_code "
                         "JOIN confirmation c ON c.entry_id = e.id WHERE e.year = ? ORDER BY e.seq", (YEAR,)):
        row(list(r))
    row = sheet("Chấm điểm", ["Mã hồ sơ", "Tên", "Thành viên"] + [c for c, _ in _CRIT] + ["Tổng", "Ghi chú"])
    for eid, t_, member, marks in con.execute(
            "SELECT e.id, e.title, s.member, s.marks FROM entry e JOIN score s ON s.entry_id = e.id "
            "WHERE e.year = ? ORDER BY e.seq, s.member", (YEAR,)):
        m = json.loads(marks)
        vals = [m.get(c) for c, _ in _CRIT]
        num = sum(v * w for v, (_, w) in zip(vals, _CRIT) if v is not None)
        den = sum(w for v, (_, w) in zip(vals, _CRIT) if v is not None)
        row([eid, t_, member] + ["KAD" if v is None else v for v in vals] + [num * 10 / den, None])
    row = sheet("Kết quả", ["Mã hồ sơ", "Đơn vị", "Tên", "Tập thể/Cá nhân", "Lĩnh vực", "Điểm", "Trạng thái", "Lý do",
                            "Quyết định"])
    for r in con.execute("SELECT e.id, u.name, e.title, coalesce(e.person, 'Tập thể'), e.field, o.score, "
                         "o.recognized, o.reasons, o.decision_id FROM entry e JOIN unit u ON u.code = e.unit_code "
                         "LEFT JOIN outcome o ON o.decision_id = (SELECT max(id) FROM decision WHERE year = ? "
                         "AND NOT revoked) AND o.entry_id = e.id WHERE e.year = ? ORDER BY e.seq", (YEAR, YEAR)):
        row(list(r))
    con.close()


def step_xlsx_baseline(db: Path, rows: int, out: Path) -> float:
    """Plain sqlite3 + openpyxl write-only: the same five data sheets, values only."""
    from openpyxl import Workbook

    t = time.perf_counter()
    wb = Workbook(write_only=True)

    def sheet(name, header):
        ws = wb.create_sheet(name)
        ws.append(header)
        return ws.append

    _baseline_sheets(db, sheet)
    wb.save(str(out))
    return time.perf_counter() - t


def step_xlsx_xlsxwriter(db: Path, rows: int, out: Path) -> float:
    """Plain sqlite3 + XlsxWriter in constant-memory mode: the same sheets, values only."""
    import xlsxwriter

    t = time.perf_counter()
    wb = xlsxwriter.Workbook(str(out), {"constant_memory": True, "strings_to_numbers": False,
                                        "strings_to_formulas": False, "strings_to_urls": False})

    def sheet(name, header):
        ws = wb.add_worksheet(name)
        ws.write_row(0, 0, header)
        n = [0]

        def append(values):
            n[0] += 1
            ws.write_row(n[0], 0, values)
        return append

    _baseline_sheets(db, sheet)
    wb.close()
    return time.perf_counter() - t


def step_export(db: Path, rows: int, out: Path) -> float:
    """`dvk export --year` in this process: every Word file and the workbook (``BENCH_KINDS``, comma
    separated, limits the kinds)."""
    from dvk.ledger.sqlite import Ledger
    from dvk.reports.jobs import plan_year
    from dvk.reports.kinds import Options

    kinds = tuple(k for k in os.environ.get("BENCH_KINDS", "").split(",") if k) or None
    t = time.perf_counter()
    folder = out.with_suffix(".d")
    folder.mkdir(exist_ok=True)
    with Ledger.open(db) as led, led.read() as conn:
        jobs, _ = plan_year(conn, YEAR, Options(), **({"kinds": kinds} if kinds else {}))
        for job in jobs:
            job.write(conn, folder / job.name, templates=None, force=True)
    out.write_bytes(b"".join(p.name.encode() for p in folder.iterdir()))
    return time.perf_counter() - t


STEPS = {f.__name__[5:]: f for f in (step_word_baseline, step_word_dvk_memory, step_word_dvk, step_word_export,
                                      step_xlsx_dvk, step_xlsx_baseline, step_xlsx_xlsxwriter, step_export)}


def peak_mb() -> float:
    """This process's own peak memory: VmHWM (ru_maxrss would count the parent's at fork time)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(step: str, db: Path, rows: int, out: Path) -> None:
    seconds = STEPS[step](db, rows, out)
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb(),
                      "bytes": out.stat().st_size}))


def run(step: str, db: Path, rows: int, out: Path, env: dict | None = None) -> dict:
    out.unlink(missing_ok=True)
    res = subprocess.run([sys.executable, __file__, "--child", step, "--db", str(db), "--rows", str(rows),
                          "--out", str(out)], capture_output=True, text=True, env=env)
    if res.returncode != 0:
        raise SystemExit(f"{step} failed:\n{res.stderr}")
    return json.loads(res.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000, help="rows of the Word list (default 10,000)")
    ap.add_argument("--size", type=int, default=100_000, help="entries of the workbook's year (default 100,000)")
    ap.add_argument("--work", type=Path, default=Path("/tmp/dvk-bench"), help="where ledgers and files go")
    ap.add_argument("--repeat", type=int, default=5, help="runs of the Word steps (fastest kept)")
    ap.add_argument("--only", choices=("word", "xlsx", "memory"), help="run one of the measurements")
    ap.add_argument("--memory-sizes", default="1000,10000,100000",
                    help="entries of the years whose whole export's peak memory is printed (default 1k, 10k, 100k)")
    ap.add_argument("--memory-kinds", default="",
                    help="limit the export-memory step to these kinds (comma separated; default all)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        child(a.child, a.db, a.rows, a.out)
        return 0
    a.work.mkdir(parents=True, exist_ok=True)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {os.uname().sysname} {os.uname().machine}")
    table = []
    memory: list[tuple[str, float, float]] = []

    if a.only in (None, "word"):
        db = word_ledger(a.work, a.rows)
        best: dict[str, dict] = {}
        steps = ("word_baseline", "word_dvk_memory", "word_dvk", "word_export")
        for _ in range(a.repeat):  # interleaved, fastest kept: the machine may be busy
            for step in steps:
                r = run(step, db, a.rows, a.work / f"{step}.docx")
                if step not in best or r["seconds"] < best[step]["seconds"]:
                    best[step] = r
        base = best["word_baseline"]
        for step, label in (("word_dvk_memory", f"Word list, {a.rows:,} rows: render_docx_bytes (in memory)"),
                            ("word_dvk", "  … render_docx (atomic, fsync'ed file)"),
                            ("word_export", "  … the whole export path (ledger → file, whole list)")):
            r = best[step]
            table.append((label, r["seconds"], base["seconds"], r["peak_mb"], base["peak_mb"]))

    if a.only in (None, "xlsx"):
        db = ledger(a.work, a.size, recognized=True)  # the workbook of a decided year (outcomes joined)
        res: dict[str, list[dict]] = {}
        for _ in range(2 if a.size >= 50_000 else a.repeat):  # alternated: the machine may be busy
            for step in ("xlsx_dvk", "xlsx_baseline", "xlsx_xlsxwriter"):
                res.setdefault(step, []).append(run(step, db, a.size, a.work / f"{step}.xlsx"))
        x, xb, xw = (min(res[s], key=lambda r: r["seconds"]) for s in ("xlsx_dvk", "xlsx_baseline", "xlsx_xlsxwriter"))
        table.append((f"Excel workbook, {a.size:,}-entry decided year", x["seconds"], xb["seconds"],
                      x["peak_mb"], xb["peak_mb"]))
        table.append(("  … against plain XlsxWriter (constant memory)", x["seconds"], xw["seconds"],
                      x["peak_mb"], xw["peak_mb"]))

    if a.only in (None, "memory"):
        env = dict(os.environ, BENCH_KINDS=a.memory_kinds)
        for size in (int(n) for n in a.memory_sizes.split(",") if n):
            db = ledger(a.work, size, recognized=True)  # decided: the decision too (score sheets are written either way)
            r = run("export", db, size, a.work / f"export-{size}.out", env=env)
            what = a.memory_kinds or "every Word file and the workbook"
            memory.append((f"dvk export, {size:,}-entry year ({what})", r["seconds"], r["peak_mb"]))

    print()
    print(f"{'step':58} {'time':>8} {'baseline':>9} {'ratio':>6} {'peak MB':>8} {'base MB':>8}")
    for label, t, b, m, bm in table:
        print(f"{label:58} {t:7.2f}s {b:8.2f}s {t / b:6.2f} {m:8.0f} {bm:8.0f}")
    if memory:
        print()
        print(f"{'export peak memory (own process, VmHWM)':78} {'time':>8} {'peak MB':>8}")
        for label, t, m in memory:
            print(f"{label:78} {t:7.1f}s {m:8.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
