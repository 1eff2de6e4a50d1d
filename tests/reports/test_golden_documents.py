"""Golden tests: the XML parts of one document of every kind, rendered by `dvk export` from a small
ledger built with fixed dates, against the files committed in tests/reports/golden/.

Regenerate the goldens on purpose (after a change to what a document holds), then review the diff:

    DVK_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/reports/test_golden_documents.py

Every XML part of each file is compared (pretty-printed, so a failure shows a line diff), and so is
the list of its parts in order. A part that is the same in every Word document (styles, numbering,
settings, headers… from the one house template) is kept once under `golden/_docx/` (`_xlsx/` for
workbooks); a part of one document under `golden/<file name without extension>/`. The only thing
replaced before comparing is the ledger's id (`meta.ledger_id`, a new uuid for every `dvk init`),
written `LEDGER-ID`. On a failure the actual part is written under pytest's temporary folder and its
path is in the message.
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
import shutil
import sqlite3
import zipfile
from pathlib import Path

import pytest

from test_export import _propose_recognised

from conftest import UNITS, Dvk

# One worker renders every document once (and, with DVK_UPDATE_GOLDEN=1, is the only one to write).
pytestmark = pytest.mark.xdist_group("golden")

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("DVK_UPDATE_GOLDEN") == "1"
SHARED = {".docx": "_docx", ".xlsx": "_xlsx"}

FULL = {"G1": 9, "G2": 9, "G3": 8.5, "G4": 9, "G5": 9, "S1": 9, "S2": 8.5, "S3": None, "S4": 9, "S5": 9, "S6": 9}
WEAK = {k: (6 if v is not None else None) for k, v in FULL.items()}
ASPECTS = {"approach": "Cách làm sáng tạo", "experience": "Kinh nghiệm rút ra", "spread": "Lan tỏa 12 khoa",
           "effectiveness": "Tiết kiệm 120 triệu đồng", "sustainability": "Duy trì 3 năm"}
MEMBERS = ["Trần Thị Mai", "Nguyễn Văn Hùng"]
# (unit, title, person, position, scores) of each decided year, in registration order
YEARS = {
    2023: [("BVNHI", "Câu lạc bộ “Nói lời hay, làm việc tốt”", None, None, FULL)],
    2024: [("CDC", "Tủ sách pháp luật điện tử", None, None, FULL),
           ("BVDK", "Gương sáng Ánh", "Trần Thị Ánh", "Điều dưỡng trưởng khoa Nội", FULL),
           ("BVNHI", "Mô hình còn yếu", None, None, WEAK)],
}
# Every document kind: (where `export` writes it, its file name)
DOCUMENTS = [
    ("2024", "quyet-dinh-cong-nhan-2024.docx"),
    ("2024", "danh-sach-dang-ky-2024.docx"),
    ("2024", "phieu-cham-diem-2024.docx"),
    ("2024", "bao-cao-ket-qua-2024.docx"),
    ("2024", "tong-hop-2024.xlsx"),
    ("2025", "cong-van-nhac-2025.docx"),
    ("phase", "to-trinh-khen-thuong-2021-2025.docx"),
    ("phase", "tong-hop-2021-2025.xlsx"),
]


def build(db: Path) -> None:
    """Three units; 2023 and 2024 scored by two members and recognised (decisions 03 and 05 on the
    criteria's recognition day); 2025 open, its units still owing a report or a confirmation."""
    from dvk.cycle.config import criteria_for
    from dvk.cycle.entries import register, validate_entry
    from dvk.cycle.evidence import save_confirmation, save_report, save_scores
    from dvk.cycle.recognition import plan_recognition, recognize
    from dvk.cycle.setup import init_ledger
    from dvk.cycle.units import list_units, upsert_units

    led, _ = init_ledger(db, user="thư ký", profile={}, criteria_file=None)
    try:
        with led.write(user="thư ký", command="test units") as tx:
            upsert_units(tx, [{"code": c, "name": n, "committee": k} for c, n, k in UNITS])
        for year, entries in YEARS.items():
            with led.write(user="thư ký", command=f"test {year}") as tx:
                crit = criteria_for(tx.conn, year)
                units = {u["code"]: u for u in list_units(tx.conn)}
                for i, (unit, title, person, position, scores) in enumerate(entries):
                    e = validate_entry(year=year, unit_code=unit, title=title, field=1 + i % 5, crit=crit,
                                       units=units, subject="individual" if person else "collective",
                                       person=person, position=position, registered_on=dt.date(year, 2, 1 + i),
                                       kind="exemplar" if person else "model")
                    eid = register(tx, e)["id"]
                    save_report(tx, eid, ASPECTS, dt.date(year, 8, 1), None)
                    save_confirmation(tx, eid, committee=None, by="Bí thư", on=dt.date(year, 9, 1),
                                      comment=None, rejected=False, reason=None)
                    for m in MEMBERS:
                        save_scores(tx, eid, m, scores)
                recognize(tx, plan_recognition(tx.conn, year, {2023: 3, 2024: 5}[year], None))
        with led.write(user="thư ký", command="test 2025") as tx:
            crit = criteria_for(tx.conn, 2025)
            units = {u["code"]: u for u in list_units(tx.conn)}
            ids = []
            for i, (unit, title) in enumerate([("BVDK", "Chưa có báo cáo"), ("CDC", "Báo cáo còn thiếu"),
                                               ("BVNHI", "Chưa được xác nhận")]):
                e = validate_entry(year=2025, unit_code=unit, title=title, field=2, crit=crit, units=units,
                                   registered_on=dt.date(2025, 2, 5 + i))
                ids.append(register(tx, e)["id"])
            save_report(tx, ids[1], {"approach": "Có cách làm"}, dt.date(2025, 8, 1), None)
            save_report(tx, ids[2], ASPECTS, dt.date(2025, 8, 1), None)
    finally:
        led.close()


def pretty(raw: bytes, ledger_id: str) -> str:
    from lxml import etree

    text = etree.tostring(etree.fromstring(raw), pretty_print=True, encoding="unicode")
    return text.replace(ledger_id, "LEDGER-ID")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, dict[str, str]]:
    """{file name: {part name: pretty text}} of every document, plus "zip-parts.txt": the parts in order."""
    base = tmp_path_factory.mktemp("golden-render")
    db = base / "so-dvk.sqlite"
    build(db)
    d = Dvk(db)
    d("export", "--year", "2024", "--out", base / "2024")
    d("export", "--year", "2025", "--reminders", "--date", "01/09/2025", "--deadline", "20/09/2025",
      "--out", base / "2025")
    _propose_recognised(db)  # the proposal lists the entries chosen with `dvk propose`
    d("export", "--phase", "2021-2025", "--date", "20/11/2025", "--out", base / "phase")
    con = sqlite3.connect(db)
    try:
        (ledger_id,) = con.execute("SELECT value FROM meta WHERE key = 'ledger_id'").fetchone()
    finally:
        con.close()
    out: dict[str, dict[str, str]] = {}
    for folder, name in DOCUMENTS:
        with zipfile.ZipFile(base / folder / name) as z:
            names = z.namelist()
            parts = {"zip-parts.txt": "\n".join(names) + "\n"}
            parts.update({n: pretty(z.read(n), ledger_id) for n in names if n.endswith((".xml", ".rels"))})
        out[name] = parts
    if UPDATE:
        _write_goldens(out)
    return out


def _write_goldens(rendered: dict[str, dict[str, str]]) -> None:
    """Replace tests/golden/ with what was rendered: a part identical in every document of its type once
    under _docx/ (_xlsx/), any other part under the document's own folder."""
    if GOLDEN.exists():
        shutil.rmtree(GOLDEN)
    for suffix, shared in SHARED.items():
        docs = {n: parts for n, parts in rendered.items() if n.endswith(suffix)}
        common = {p for p in set.intersection(*(set(parts) for parts in docs.values()))
                  if len({parts[p] for parts in docs.values()}) == 1 and len(docs) > 1}
        for name, parts in docs.items():
            for part, text in parts.items():
                path = GOLDEN / (shared if part in common else Path(name).stem) / part
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")


def golden_path(name: str, part: str) -> Path:
    own = GOLDEN / Path(name).stem / part
    return own if own.exists() else GOLDEN / SHARED[Path(name).suffix] / part


def _check(name: str, part: str, actual: str, tmp_path_factory) -> None:
    path = golden_path(name, part)
    assert path.exists(), f"no golden {path.relative_to(GOLDEN.parent)}: run DVK_UPDATE_GOLDEN=1 (see the top of this file)"
    expected = path.read_text(encoding="utf-8")
    if actual == expected:
        return
    keep = tmp_path_factory.getbasetemp() / "golden-actual" / Path(name).stem / part
    keep.parent.mkdir(parents=True, exist_ok=True)
    keep.write_text(actual, encoding="utf-8")
    diff = list(difflib.unified_diff(expected.splitlines(), actual.splitlines(), str(path), str(keep),
                                     lineterm="", n=2))
    shown = "\n".join(diff[:200]) + (f"\n… {len(diff) - 200} more diff lines" if len(diff) > 200 else "")
    pytest.fail(f"{name} {part} differs from its golden (actual kept in {keep}; "
                f"regenerate on purpose: DVK_UPDATE_GOLDEN=1 .venv/bin/python -m pytest {__file__}):\n{shown}",
                pytrace=False)


@pytest.mark.parametrize("name", [n for _f, n in DOCUMENTS])
def test_each_document_has_the_parts_of_its_golden_in_order(rendered, name, tmp_path_factory):
    _check(name, "zip-parts.txt", rendered[name]["zip-parts.txt"], tmp_path_factory)


@pytest.mark.parametrize("name", [n for _f, n in DOCUMENTS])
def test_every_xml_part_matches_its_golden(rendered, name, tmp_path_factory):
    failures = []
    for part, text in sorted(rendered[name].items()):
        if part == "zip-parts.txt":
            continue
        try:
            _check(name, part, text, tmp_path_factory)
        except pytest.fail.Exception as e:
            failures.append(str(e))
    if failures:
        pytest.fail("\n\n".join(failures), pytrace=False)
