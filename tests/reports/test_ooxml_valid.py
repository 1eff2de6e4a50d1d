"""Every file dvk writes is valid OOXML: one exported file of every document kind (.docx and .xlsx),
every packaged Word template and every form of `dvk template`, run through an OOXML validator
(openxml-audit, the `test` extra).  Findings of severity "error" fail; warnings are allowed (the
workbooks' inline strings, written in constant-memory mode, are a warning: Excel converts them to
shared strings when the file is saved again).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from test_export import _build, _propose_recognised

openxml_audit = pytest.importorskip("openxml_audit")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("ledger") / "so.sqlite"
    _build(path)
    return path


def _errors(path: Path) -> list[str]:
    result = openxml_audit.OpenXmlValidator().validate(str(path))
    return [f"{path.name}: {e.description} ({getattr(e, 'part', '')} {getattr(e, 'path', '')})"
            for e in result.errors if str(getattr(e.severity, "value", e.severity)).lower() == "error"]


@pytest.fixture(scope="module")
def exported(built, tmp_path_factory) -> dict[str, Path]:
    """One file of every registered kind: 2024 (decided), 2025 (undecided, with the reminder), the phase."""
    from typer.testing import CliRunner

    from dvk.cli import app
    from dvk.reports.kinds import KINDS

    work = tmp_path_factory.mktemp("export")
    db = work / "so.sqlite"
    shutil.copy(built, db)
    _propose_recognised(db)
    out = work / "out"
    runner = CliRunner()
    for name, role in (("Nguyễn Văn An", "chair"), ("Trần Thị Bình", "secretary"), ("Lê Văn Cường", "member")):
        res = runner.invoke(app, ["council", "add", "--db", str(db), "--user", "thư ký", "--year", "2025", name,
                                  "--role", role])
        assert res.exit_code == 0, res.output
    for args in (["--year", "2024", "--certificates"], ["--year", "2025", "--reminders"],
                 ["--year", "2025", "--launch"], ["--phase", "2021-2025"]):
        res = runner.invoke(app, ["export", "--db", str(db), "--user", "thư ký", "--out", str(out), *args])
        assert res.exit_code == 0, res.output
    # The revocation decision: 2024 revoked with a number of its own, exported again (another folder).
    res = runner.invoke(app, ["recognize", "--db", str(db), "--user", "thư ký", "--revoke", "--year", "2024",
                              "--reason", "Sai sót trong hồ sơ", "--number", "11", "--date", "01/11/2024"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["export", "--db", str(db), "--user", "thư ký", "--out", str(work / "revoked"),
                              "--year", "2024"])
    assert res.exit_code == 0, res.output
    files: dict[str, Path] = {"revocation": work / "revoked" / KINDS["revocation"].file(2024)}
    for key, kind in KINDS.items():
        for of in (2024, 2025, "2021-2025"):
            path = out / kind.file(of)
            if path.exists():
                files.setdefault(key, path)
    assert set(files) == set(KINDS), f"no file of {set(KINDS) - set(files)}"
    return files


KINDS_COVERED = ["decision", "revocation", "registrations", "score-sheets", "results", "workbook", "reminder", "proposal",
                 "phase-workbook", "council-minutes", "score-summary", "certificates", "launch"]


@pytest.mark.parametrize("key", KINDS_COVERED)
def test_every_exported_kind_validates(exported, key):
    assert _errors(exported[key]) == []


def test_every_kind_is_covered():
    from dvk.reports.kinds import KINDS

    assert set(KINDS) == set(KINDS_COVERED)


def test_every_packaged_template_validates():
    templates = sorted((Path(__file__).resolve().parents[2] / "templates").glob("*.docx"))
    assert templates
    problems = [p for t in templates for p in _errors(t)]
    assert problems == []


def test_every_form_validates(built, tmp_path):
    from typer.testing import CliRunner

    from dvk.cli import app

    db = tmp_path / "so.sqlite"
    shutil.copy(built, db)
    runner = CliRunner()
    forms = []
    for kind, extra in (("registrations", []), ("reports", []), ("confirmations", []),
                        ("scores", ["--member", "Trần Thị Mai"]), ("report-form", [])):
        out = tmp_path / (f"{kind}.docx" if kind == "report-form" else f"{kind}.xlsx")
        res = runner.invoke(app, ["template", kind, "--db", str(db), "--year", "2025", "--out", str(out), *extra])
        assert res.exit_code == 0, res.output
        forms.append(out)
    assert [p for f in forms for p in _errors(f)] == []
