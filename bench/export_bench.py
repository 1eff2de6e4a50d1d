"""Benchmark of the document exports (issue 6: "big exports").

Two measurements, each against a baseline doing the same work with the bare library, each in
its own child process so the peak memory (max RSS) is that step's own:

* **Word list of 10,000 recognised entries**: the decision with its attached list, rendered by
  `dvk.reports.render_docx` (placeholder check, text cleaning, escaping, deterministic zip, atomic
  write) vs a plain `DocxTemplate(...).render(context); save()` of the same template with the same
  rows.  Also shown: the whole `dvk export` path for that file (reading the year from the ledger,
  building the view model, rendering).
* **Excel workbook of a 100,000-entry year**: `dvk export`'s workbook job (streamed from the ledger
  with `ops.iter_year`, openpyxl write-only, styled header, typed cells, formula guard, charts)
  vs plain `sqlite3` queries written with openpyxl write-only (values only, same sheets, rows
  and columns).

    python bench/export_bench.py [--rows 10000] [--size 100000] [--work DIR]

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


def step_xlsx_baseline(db: Path, rows: int, out: Path) -> float:
    """Plain sqlite3 + openpyxl write-only: the same five data sheets, values only."""
    import sqlite3

    from openpyxl import Workbook

    t = time.perf_counter()
    con = sqlite3.connect(db)
    crit = [("G1", 8), ("G2", 8), ("G3", 8), ("G4", 8), ("G5", 8),
            ("S1", 10), ("S2", 10), ("S3", 10), ("S4", 10), ("S5", 10), ("S6", 10)]
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Đăng ký")
    ws.append(["Mã hồ sơ", "Đơn vị", "Tên", "Tập thể/Cá nhân", "Họ tên", "Chức vụ", "Lĩnh vực", "Ngày đăng ký",
               "Muộn", "Đột xuất", "Ghi chú"])
    for r in con.execute("SELECT e.id, u.name, e.title, e.subject, coalesce(e.person, u.name), e.position, e.field, "
                         "e.registered_on, e.late, e.sudden, e.note FROM entry e JOIN unit u ON u.code = e.unit_code "
                         "WHERE e.year = ? ORDER BY e.seq", (YEAR,)):
        ws.append(list(r))
    ws = wb.create_sheet("Báo cáo")
    ws.append(["Mã hồ sơ", "Đơn vị", "Tên", "Ngày", "Cách làm", "Kinh nghiệm", "Lan tỏa", "Hiệu quả", "Bền vững",
               "Ghi chú"])
    for r in con.execute("SELECT e.id, u.name, e.title, r.reported_on, r.approach, r.experience, r.spread, "
                         "r.effectiveness, r.sustainability, r.file_path FROM entry e JOIN unit u ON "
                         "u.code = e.unit_code JOIN report r ON r.entry_id = e.id WHERE e.year = ? ORDER BY e.seq",
                         (YEAR,)):
        ws.append(list(r))
    ws = wb.create_sheet("Xác nhận")
    ws.append(["Mã hồ sơ", "Đơn vị", "Tên", "Cấp ủy", "Cùng cấp", "Ngày", "Nhận xét"])
    for r in con.execute("SELECT e.id, u.name, e.title, c.committee, c.committee = u.committee, c.confirmed_on, "
                         "coalesce(c.reason, c.comment) FROM entry e JOIN unit u ON u.code = e.unit_code "
                         "JOIN confirmation c ON c.entry_id = e.id WHERE e.year = ? ORDER BY e.seq", (YEAR,)):
        ws.append(list(r))
    ws = wb.create_sheet("Chấm điểm")
    ws.append(["Mã hồ sơ", "Tên", "Thành viên"] + [c for c, _ in crit] + ["Tổng", "Ghi chú"])
    current, title, totals = None, None, []

    def flush():
        if current is not None:
            ws.append([current, title, "Điểm tổng hợp"] + [None] * len(crit) + [sum(totals) / len(totals), None])

    for eid, t_, member, marks in con.execute(
            "SELECT e.id, e.title, s.member, s.marks FROM entry e JOIN score s ON s.entry_id = e.id "
            "WHERE e.year = ? ORDER BY e.seq, s.member", (YEAR,)):
        if eid != current:
            flush()
            current, title, totals = eid, t_, []
        m = json.loads(marks)
        vals = [m.get(c) for c, _ in crit]
        num = sum(v * w for v, (_, w) in zip(vals, crit) if v is not None)
        den = sum(w for v, (_, w) in zip(vals, crit) if v is not None)
        totals.append(num * 10 / den)
        ws.append([eid, t_, member] + ["KAD" if v is None else v for v in vals] + [totals[-1], None])
    flush()
    ws = wb.create_sheet("Kết quả")
    ws.append(["Mã hồ sơ", "Đơn vị", "Tên", "Tập thể/Cá nhân", "Lĩnh vực", "Điểm", "Trạng thái", "Lý do",
               "Quyết định"])
    for r in con.execute("SELECT e.id, u.name, e.title, coalesce(e.person, 'Tập thể'), e.field, o.score, "
                         "o.recognized, o.reasons, o.decision_id FROM entry e JOIN unit u ON u.code = e.unit_code "
                         "LEFT JOIN outcome o ON o.entry_id = e.id WHERE e.year = ? ORDER BY e.seq", (YEAR,)):
        ws.append(list(r))
    wb.save(str(out))
    con.close()
    return time.perf_counter() - t


STEPS = {f.__name__[5:]: f for f in (step_word_baseline, step_word_dvk_memory, step_word_dvk, step_word_export,
                                      step_xlsx_dvk, step_xlsx_baseline)}


def child(step: str, db: Path, rows: int, out: Path) -> None:
    seconds = STEPS[step](db, rows, out)
    print(json.dumps({"seconds": seconds, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "bytes": out.stat().st_size}))


def run(step: str, db: Path, rows: int, out: Path) -> dict:
    out.unlink(missing_ok=True)
    res = subprocess.run([sys.executable, __file__, "--child", step, "--db", str(db), "--rows", str(rows),
                          "--out", str(out)], capture_output=True, text=True)
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
    ap.add_argument("--only", choices=("word", "xlsx"), help="run one of the two measurements")
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

    if a.only != "xlsx":
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

    if a.only != "word":
        db = ledger(a.work, a.size, recognized=False)
        x = run("xlsx_dvk", db, a.size, a.work / "dvk.xlsx")
        xb = run("xlsx_baseline", db, a.size, a.work / "baseline.xlsx")
        table.append((f"Excel workbook, {a.size:,}-entry year (streamed)", x["seconds"], xb["seconds"],
                      x["peak_mb"], xb["peak_mb"]))

    print()
    print(f"{'step':58} {'time':>8} {'baseline':>9} {'ratio':>6} {'peak MB':>8} {'base MB':>8}")
    for label, t, b, m, bm in table:
        print(f"{label:58} {t:7.2f}s {b:8.2f}s {t / b:6.2f} {m:8.0f} {bm:8.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
