"""The registry of document kinds: a kind is one spec plus its template, and everything else follows."""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from docx import Document

from dvk.reports import kinds
from dvk.reports.kinds import KINDS, PHASE, YEAR, DocKind, Draft, Options, YearSource, register, unregister

ROOT = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------- a kind added by a test, and nothing else

@dataclass(frozen=True)
class TitlesDoc:
    """The view model of the test's kind: the titles registered in a year."""

    year: int
    issued_on: dt.date
    titles: tuple[str, ...]


def _titles_context(doc: TitlesDoc) -> dict:
    return {"year": doc.year, "rows": [{"title": t} for t in doc.titles]}


def _titles(src: YearSource) -> Draft | None:
    titles = tuple(r.title for r in src.state.registrations.flat())
    if not titles:
        src.note(f"Năm {src.year} chưa có mô hình nào: chưa xuất {src.kind.file(src.year)}.")
        return None
    return Draft(vm=TitlesDoc(src.year, src.on, titles))


TITLES = DocKind("titles", "ten-mo-hinh-{}.docx", "Danh sách tên mô hình", YEAR, _titles,
                 template="ten-mo-hinh.docx", view_model=TitlesDoc, context=_titles_context,
                 required={"year", "rows"}, shapes={"rows": [{"title": None}]})


def _tiny_template(folder: Path) -> Path:
    """A one-paragraph Word template, as a clerk could make it in Word."""
    folder.mkdir(parents=True, exist_ok=True)
    doc = Document()
    doc.add_paragraph("Tên các mô hình năm {{ year }}: {% for r in rows %}{{ r.title }}; {% endfor %}")
    path = folder / "ten-mo-hinh.docx"
    doc.save(path)
    return path


@pytest.fixture
def titles_kind():
    register(TITLES)
    yield TITLES
    unregister(TITLES.key)


def _document_text(path: Path) -> str:
    with zipfile.ZipFile(path) as z:
        return z.read("word/document.xml").decode("utf-8")


def test_a_new_kind_is_exported_and_verified_from_one_spec_and_its_template(titles_kind, full_entry, ledger, tmp_path):
    templates = tmp_path / "mau"
    _tiny_template(templates)
    out = tmp_path / "out"
    res = ledger("export", "--year", "2024", "--out", out, "--templates", templates, "--json")
    files = {Path(f["path"]).name: f["kind"] for f in json.loads(res.stdout)["files"]}
    assert files["ten-mo-hinh-2024.docx"] == "titles"
    assert list(files) == ["danh-sach-dang-ky-2024.docx", "phieu-cham-diem-2024.docx", "bao-cao-ket-qua-2024.docx",
                           "tong-hop-2024.xlsx", "ten-mo-hinh-2024.docx"]  # in the registry's order
    assert "Tên các mô hình năm 2024: Chăm lo đoàn viên khó khăn;" in _document_text(out / "ten-mo-hinh-2024.docx")

    # the table of `dvk export` and verify-doc name it by its label, and verify-doc renders it again
    shown = " ".join(ledger("export", "--year", "2024", "--out", tmp_path / "out2", "--templates", templates)
                     .stdout.split())
    assert "ten-mo-hinh-2024.docx" in shown and "Danh sách tên mô hình" in shown
    res = ledger("verify-doc", out / "ten-mo-hinh-2024.docx")
    assert "Danh sách tên mô hình năm 2024: khớp với sổ" in " ".join(res.stdout.split())

    # a change to the ledger that this document shows: verify-doc no longer matches
    ledger("register", "--year", "2024", "--unit", "CDC", "--title", "Mô hình thứ hai", "--field", "2",
           "--date", "12/02/2024")
    res = ledger.fails("verify-doc", out / "ten-mo-hinh-2024.docx")
    assert "Danh sách tên mô hình năm 2024" in res.stderr and "Sổ đã thay đổi" in " ".join(res.stderr.split())


def test_a_new_kind_whose_template_breaks_the_rules_writes_nothing(titles_kind, full_entry, ledger, tmp_path):
    """The sandbox checks a new kind's template against the kind's own placeholders and shapes."""
    templates = tmp_path / "mau"
    path = _tiny_template(templates)
    doc = Document(path)
    doc.add_paragraph("{{ rows.title }} {{ nam }}")
    doc.save(path)
    out = tmp_path / "out"
    res = ledger.fails("export", "--year", "2024", "--out", out, "--templates", templates)
    said = " ".join(res.stderr.split())
    assert "ten-mo-hinh.docx" in said and "rows" in said and "Chưa ghi văn bản nào" in said
    assert not out.exists() or not any(out.iterdir())


def test_a_file_of_a_kind_dvk_no_longer_knows_is_reported_not_crashed(titles_kind, full_entry, ledger, tmp_path):
    templates = tmp_path / "mau"
    _tiny_template(templates)
    out = tmp_path / "out"
    ledger("export", "--year", "2024", "--out", out, "--templates", templates)
    unregister("titles")
    res = ledger.fails("verify-doc", out / "ten-mo-hinh-2024.docx")
    said = " ".join(res.stderr.split())
    assert "titles năm 2024" in said and "dvk không còn loại văn bản “titles”" in said


# ---------------------------------------------------------------- the registry itself

def test_every_registered_word_kind_has_a_template_that_passes_the_sandbox_check(full_entry, ledger):
    """Each kind's packaged template uses only what the kind's context gives, with the kind's
    shapes, and every placeholder the kind requires: checked on view models built from a ledger."""
    from dvk.ledger.stores import open_ledger
    from dvk.reports.jobs import plan_phase, plan_year
    from dvk.reports.sandbox import check_template, find_template

    ledger("register", "--year", "2024", "--unit", "CDC", "--title", "Chưa có báo cáo", "--field", "2",
           "--date", "12/02/2024")
    ledger("council", "add", "--db", ledger.db, "Nguyễn Văn An", "--year", "2024", "--role", "chair")  # its papers
    ledger("recognize", "--year", "2024", "--number", "3")
    ledger("recognize", "--revoke", "--year", "2024", "--reason", "Sai sót", "--number", "4")  # a revocation decision
    ledger("recognize", "--year", "2024", "--number", "5")
    ledger("propose", "--phase", "2021-2025", full_entry)
    with open_ledger(ledger.db) as led, led.read() as conn:
        jobs = plan_year(conn, 2024, Options(reminders=True, extra=("certificates", "launch")))[0]
        jobs += plan_year(conn, 2024, Options(), kinds=("reminder",), before_decision=True)[0]
        jobs += plan_phase(conn, "2021-2025", Options())[0]
    by_kind = {j.kind: j for j in jobs}
    assert set(by_kind) == set(KINDS), "every kind has a sample here"
    for kind in KINDS.values():
        if kind.template is None:
            assert kind.writer is not None and kind.context is None
            continue
        context = kinds.context_of(by_kind[kind.key].vm)
        assert set(kind.shapes) <= set(context), kind.key
        used = check_template(find_template(kind.template), context.keys(), kind.required,
                              template_name=kind.template)
        assert kind.required <= used, kind.key


def test_the_registry_is_the_one_table_of_kinds():
    assert list(KINDS) == ["decision", "revocation", "registrations", "score-sheets", "results", "workbook",
                           "reminder", "proposal", "phase-workbook", "council-minutes", "score-summary", "certificates",
                           "launch"]
    assert [k.key for k in kinds.kinds_of(YEAR)] == list(KINDS)[:7] + list(KINDS)[9:]
    assert [k.key for k in kinds.kinds_of(PHASE)] == ["proposal", "phase-workbook"]
    assert kinds.file_name("decision", 2025) == "quyet-dinh-cong-nhan-2025.docx"
    assert kinds.file_name("phase-workbook", "2021-2025") == "tong-hop-2021-2025.xlsx"
    assert kinds.label("results") == "Báo cáo kết quả" and kinds.label("không-có") == "không-có"
    assert set(kinds.TEMPLATE_NAMES) == {p.name for p in (ROOT / "templates").glob("*.docx")}
    assert kinds.REQUIRED_PLACEHOLDERS["phieu-cham-diem.docx"] == {"year", "sheets"}
    assert [k.key for k in KINDS.values() if k.needs_decision] == ["decision", "certificates"]
    assert [k.key for k in KINDS.values() if k.decision_dependent] == ["decision", "results", "workbook",
                                                                       "council-minutes", "score-summary",
                                                                       "certificates"]
    assert [k.key for k in KINDS.values() if k.on_request] == ["reminder", "certificates", "launch"]
    assert [k.key for k in KINDS.values() if not k.lists] == ["workbook"]


def test_the_derived_tables_follow_the_registry(titles_kind):
    assert "ten-mo-hinh.docx" in kinds.TEMPLATE_NAMES
    assert kinds.TEMPLATE_SHAPES["ten-mo-hinh.docx"] == {"rows": [{"title": None}]}
    assert kinds.for_template("ten-mo-hinh.docx") is TITLES
    assert kinds.for_view_model(TitlesDoc(2024, dt.date(2024, 5, 1), ("a",))) is TITLES
    assert kinds.context_of(TitlesDoc(2024, dt.date(2024, 5, 1), ("a",))) == {"year": 2024, "rows": [{"title": "a"}]}
    unregister("titles")
    assert "ten-mo-hinh.docx" not in kinds.TEMPLATE_NAMES
    with pytest.raises(TypeError, match="not a document view model"):
        kinds.context_of(TitlesDoc(2024, dt.date(2024, 5, 1), ("a",)))


def test_a_kind_is_registered_once_and_described_completely(titles_kind):
    with pytest.raises(ValueError, match="already registered"):
        register(TITLES)
    with pytest.raises(ValueError, match="already belongs"):
        register(DocKind("titles-2", "b-{}.docx", "B", YEAR, _titles, template="ten-mo-hinh.docx",
                         view_model=dict, context=dict))
    with pytest.raises(ValueError, match="already belongs"):
        register(DocKind("titles-3", "c-{}.docx", "C", YEAR, _titles, template="c.docx", view_model=TitlesDoc,
                         context=_titles_context))
    for bad in (dict(key="a:b"), dict(file_name="khong-co-cho-nam.docx"), dict(scope="month"),
                dict(template=None), dict(view_model=None), dict(scope=PHASE, needs_decision=True)):
        spec = dict(key="x", file_name="x-{}.docx", label="X", scope=YEAR, build=_titles, template="x.docx",
                    view_model=TitlesDoc, context=_titles_context) | bad
        with pytest.raises(ValueError, match="document kind"):
            DocKind(**spec)
    assert "x" not in KINDS


def test_a_workbook_alone_holds_no_list_of_the_year_and_is_the_same_file(demo_ledger, tmp_path, monkeypatch):
    """Issue 11: the workbook reads the year in a pass of its own; planned alone, the year is counted, not
    judged, and no list of it is kept. Its file is the one the whole export writes, in every demo year."""
    from dvk.cycle.year import years
    from dvk.ledger.stores import open_ledger
    from dvk.reports.build import NotRead, read_year
    from dvk.reports import jobs as planning
    from dvk.reports.jobs import plan_year

    states = []

    def read(*args, **kwargs):
        states.append(read_year(*args, **kwargs))
        return states[-1]

    monkeypatch.setattr(planning, "read_year", read)
    db, _ = demo_ledger
    with open_ledger(db) as led, led.read() as conn:
        for year in years(conn):
            whole, alone = read_year(conn, year), read_year(conn, year, lists=False)
            assert list(alone.by_unit_field.items()) == list(whole.by_unit_field.items()), year
            assert alone.counts["registered"] == whole.counts["registered"], year
            for name in ("registrations", "recognized", "ready", "not_recognized", "missing", "members"):
                with pytest.raises(RuntimeError, match="lists=True"):
                    len(getattr(alone, name))
            with pytest.raises(RuntimeError, match="lists=True"):
                alone.counts["recognized"]
            with pytest.raises(RuntimeError, match="lists=True"):
                alone.recognized.groups()
            on = Options(on=dt.date(year, 11, 20) if whole.decision is None else None)
            jobs, _ = plan_year(conn, year, on)
            book = next(j for j in jobs if j.kind == "workbook")
            assert not isinstance(states[-1].registrations, NotRead)
            [only], _ = plan_year(conn, year, on, kinds=("workbook",))
            assert isinstance(states[-1].registrations, NotRead) and isinstance(states[-1].stage, NotRead)
            a = book.write(conn, tmp_path / f"whole-{year}.xlsx", templates=None, force=False)
            b = only.write(conn, tmp_path / f"alone-{year}.xlsx", templates=None, force=False)
            assert a.sha256 == b.sha256, year
