"""Hostile Word templates: a template is data, never code.

A copy of a packaged template holding a Jinja payload (a shell command through `lipsum`, a walk over
`object.__subclasses__()`, the template's own context, `{% include %}`, `{% import %}`, a macro, a
dunder attribute) is refused — through `dvk export` with a `templates/` folder beside the ledger or
with `--templates`, and through `dvk verify-doc`, which renders a recorded document again — with one
Vietnamese message naming the template file and the construct: exit 1, the payload never ran (its
marker file does not exist), nothing is written into the out folder, the ledger is unchanged.
A template a clerk edited in Word (text reworded, a placeholder moved) still renders, and the export
says which templates came from which folder.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from docx import Document

from conftest import ledger_dump
from pg_support import PG
from dvk.reports.kinds import TEMPLATE_SHAPES
from safety_support import cached_ledger

TEMPLATE = "danh-sach-dang-ky.docx"
DOCUMENT = "danh-sach-dang-ky-2024.docx"


def packaged(name: str) -> Path:
    from dvk.reports.sandbox import find_template

    return find_template(name)


def edited(dst_folder: Path, edits: dict[str, list[tuple[str, str]]], name: str = TEMPLATE) -> Path:
    """Copy a packaged template into `dst_folder`, applying (old, new) replacements per zip member."""
    dst_folder.mkdir(exist_ok=True)
    dst = dst_folder / name
    with zipfile.ZipFile(packaged(name)) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            for old, new in edits.get(info.filename, []):
                text = data.decode("utf-8")
                assert old in text, (info.filename, old)
                data = text.replace(old, new, 1).encode("utf-8")
            zout.writestr(info, data)
    return dst


def body(old: str, new: str) -> dict[str, list[tuple[str, str]]]:
    return {"word/document.xml": [(old, escape(new))]}


def attacks(marker: Path) -> dict[str, tuple[dict, str]]:
    """name -> (edits to the template, a construct the message must name)."""
    touch = f"touch {marker}"
    return {
        "lipsum-popen": (body("{{ as_of }}", "{{ lipsum.__globals__['os'].popen('" + touch + "').read() }}"),
                         "lipsum"),
        "subclasses-walk": (body("{{ as_of }}",
                                 "{% for c in ''.__class__.__mro__[1].__subclasses__() %}"
                                 "{% if c.__name__ == 'Popen' %}{{ c(['touch', '" + str(marker) + "']) }}"
                                 "{% endif %}{% endfor %}"), "__subclasses__"),
        "template-reference": (body("{{ as_of }}", "{{ self._TemplateReference__context }}"),
                               "_TemplateReference__context"),
        "include": (body("{{ as_of }}", "{% include 'word/styles.xml' %}"), "{% include %}"),
        "import": (body("{{ as_of }}", "{% import 'word/styles.xml' as s %}{{ s }}"), "{% import %}"),
        "macro": (body("{{ as_of }}", "{% macro m() %}x{% endmacro %}{{ m() }}"), "{% macro %}"),
        "str-class": (body("{{ as_of }}", "{{ ''.__class__ }}"), "__class__"),
        "row-field-class": (body("{{ r.title }}", "{{ r.title.__class__ }}"), "r.title.__class__"),
        "in-core-properties": ({"docProps/core.xml": [(
            "<dc:title>", "<dc:title>" + escape("{{ lipsum.__globals__['os'].popen('" + touch + "').read() }}"))]},
            "lipsum"),
        "in-page-header": ({"word/header2.xml": [(
            "<w:t>2</w:t>", "<w:t>" + escape("{{ cycler.__init__.__globals__.os.popen('" + touch + "') }}")
            + "</w:t>")]}, "cycler"),
    }


ATTACKS = list(attacks(Path("/x")))


def out_files(out: Path) -> list[str]:
    return sorted(p.name for p in out.rglob("*")) if out.exists() else []


def refused(res, construct: str) -> None:
    out = res.stdout + res.stderr
    assert "Lỗi nội bộ" not in out and "Traceback" not in out, out
    err = " ".join(res.stderr.split())  # the console wraps long lines
    assert TEMPLATE in err, res.stderr
    assert construct in err, res.stderr
    assert "không được" in err, res.stderr  # says it is not allowed, in Vietnamese


@pytest.fixture
def led(dvk, tmp_path_factory):
    cached_ledger(tmp_path_factory, dvk.db)
    return dvk


def clerk_templates(led) -> tuple[Path, list]:
    """A clerk's template folder and the export options that use it: `templates/` beside a ledger file
    (found without an option); a server ledger has no folder beside it, so there `--templates` names it."""
    folder = led.db.parent / "templates"
    return folder, (["--templates", folder] if PG else [])


@pytest.mark.parametrize("where", [
    pytest.param("beside-ledger", marks=pytest.mark.sqlite_only("a templates/ folder beside the ledger file")),
    "--templates"])
@pytest.mark.parametrize("attack", ATTACKS)
def test_a_hostile_template_is_refused_by_export(led, tmp_path, attack, where):
    marker = tmp_path / "PWNED"
    edits, construct = attacks(marker)[attack]
    folder = led.db.parent / "templates" if where == "beside-ledger" else tmp_path / "mau-rieng"
    edited(folder, edits)
    before = ledger_dump(led.db)
    out = tmp_path / "van-ban"
    args = ["export", "--year", "2024", "--out", out]
    if where == "--templates":
        args += ["--templates", folder]
    res = led.fails(*args)
    refused(res, construct)
    assert str(folder) in " ".join(res.stderr.split())  # and from where it came
    assert not marker.exists(), "the template ran a command"
    assert out_files(out) == []
    assert ledger_dump(led.db) == before


@pytest.mark.parametrize("attack", ATTACKS)
def test_a_hostile_template_is_refused_by_verify_doc(led, tmp_path, attack):
    """A document exported with a clerk's template folder; the template is swapped for a hostile one
    afterwards: `verify-doc` renders the document again from the ledger and must not run it."""
    marker = tmp_path / "PWNED"
    folder = tmp_path / "mau-rieng"
    edited(folder, body("(Tính đến ngày {{ as_of }})", "(Số liệu tính đến ngày {{ as_of }})"))
    out = tmp_path / "van-ban"
    led("export", "--year", "2024", "--out", out, "--templates", folder)
    assert led("verify-doc", out / DOCUMENT).exit_code == 0
    edits, construct = attacks(marker)[attack]
    (folder / TEMPLATE).unlink()
    edited(folder, edits)
    before, files = ledger_dump(led.db), out_files(out)
    res = led.fails("verify-doc", out / DOCUMENT)
    refused(res, construct)
    assert not marker.exists(), "the template ran a command"
    assert out_files(out) == files
    assert ledger_dump(led.db) == before


def test_a_template_walking_to_popen_inside_a_loop_of_the_document_is_refused(led, tmp_path):
    """The payload inside the list's own row loop, as `{%tr for r in g.rows %}` leaves it."""
    marker = tmp_path / "PWNED"
    folder, opts = clerk_templates(led)
    edited(folder,
           body("{{ r.code }}", "{{ r.__class__.__mro__[1].__subclasses__()[0].__init__.__globals__ }}"
                                "{{ loop.cycle.__globals__ }}{{ loop.__class__ }}"))
    before = ledger_dump(led.db)
    res = led.fails("export", "--year", "2024", "--out", tmp_path / "van-ban", *opts)
    refused(res, "__subclasses__")
    err = " ".join(res.stderr.split())
    assert "loop.cycle" in err and "__class__" in err
    assert not (tmp_path / "van-ban").exists() and ledger_dump(led.db) == before


@pytest.mark.parametrize("payload,construct", [
    ("{% autoescape false %}{{ as_of }}{% endautoescape %}", "{% autoescape %}"),
    ("{{ as_of|safe }}", "|safe"),
    ("{{ as_of|attr('__class__') }}", "|attr"),
    ("{{ range(10**9)|list }}", "range"),
    ("{{ 'x' * 1000000000 }}", "*"),
    ("{% extends 'word/styles.xml' %}", "{% extends %}"),
    ("{% set x = namespace() %}{{ x }}", "namespace"),
    ("{% with a = 1 %}{{ a }}{% endwith %}", "{% with %}"),
    ("{{ groups }}", "groups"),
    ("{{ joiner() }}", "joiner"),
    # work out of proportion to the data: a loop over the whole list inside a loop, a search of a
    # list for every row, a list printed or joined as text
    ("{% for g in groups %}{% for h in groups %}{% for i in groups %}x{% endfor %}{% endfor %}{% endfor %}",
     "{% for h in groups %}"),
    ("{% for g in groups %}{% for r in g.rows %}{% if r in g.rows %}x{% endif %}{% endfor %}{% endfor %}",
     "g.rows"),
    ("{{ groups|join }}", "|join"),
    ("{{ groups ~ '' }}", "groups"),
])
def test_other_constructs_outside_the_documented_family_are_refused(led, tmp_path, payload, construct):
    folder, opts = clerk_templates(led)
    edited(folder, body("{{ as_of }}", payload))
    before = ledger_dump(led.db)
    res = led.fails("export", "--year", "2024", "--out", tmp_path / "van-ban", *opts)
    refused(res, construct)
    assert not (tmp_path / "van-ban").exists() and ledger_dump(led.db) == before


def test_a_template_that_is_not_a_docx_or_too_big_is_refused(led, tmp_path):
    folder, opts = clerk_templates(led)
    folder.mkdir()
    (folder / TEMPLATE).write_bytes(b"PK\x03\x04" + b"\0" * 100)
    res = led.fails("export", "--year", "2024", "--out", tmp_path / "a", *opts)
    assert TEMPLATE in res.stderr and "Lỗi nội bộ" not in res.stderr
    # a zip whose parts claim more than a template can hold is refused before it is read
    (folder / TEMPLATE).unlink()
    with zipfile.ZipFile(folder / TEMPLATE, "w", zipfile.ZIP_DEFLATED) as z:
        with zipfile.ZipFile(packaged(TEMPLATE)) as src:
            for info in src.infolist():
                z.writestr(info, src.read(info.filename))
        z.writestr("word/media/big.bin", b"\0" * (120 << 20))
    res = led.fails("export", "--year", "2024", "--out", tmp_path / "b", *opts)
    err = " ".join(res.stderr.split())
    assert TEMPLATE in err and "quá lớn" in err and "Lỗi nội bộ" not in err
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_an_edited_template_still_renders_and_the_export_says_where_it_came_from(led, tmp_path):
    folder, opts = clerk_templates(led)
    # reworded text, a placeholder moved from the title line into the subtitle
    edited(folder, {"word/document.xml": [
        ("Đăng ký mô hình, điển hình “Dân vận khéo” năm {{ year }}", "Danh sách đăng ký “Dân vận khéo” (bản sửa)"),
        ("(Tính đến ngày {{ as_of }})", "(Năm {{ year }}, tính đến ngày {{ as_of }})")]})
    out = tmp_path / "van-ban"
    res = led("export", "--year", "2024", "--out", out, *opts)
    text = " ".join(res.stdout.split())
    assert str(folder) in text and TEMPLATE in text, res.stdout
    assert "mẫu có sẵn" in text  # the other documents came from the packaged templates
    doc = "\n".join(p.text for p in Document(str(out / DOCUMENT)).paragraphs)
    assert "Danh sách đăng ký “Dân vận khéo” (bản sửa)" in doc and "(Năm 2024, tính đến ngày" in doc
    assert led("verify-doc", out / DOCUMENT).exit_code == 0
    # --json says the same, for scripts
    data = json.loads(led("export", "--year", "2024", "--out", tmp_path / "json", "--json", *opts).stdout)
    assert data["templates"]["folder"] == str(folder)
    assert data["templates"]["files"] == [TEMPLATE]
    assert any(str(folder) in n for n in data["notes"])


def test_the_allowed_family_renders(led, tmp_path):
    """Filters, tests, conditions, a set, loop counters, indexes and nested loops over an item's list."""
    folder = tmp_path / "mau"
    edited(folder, body("{{ as_of }}", "{{ as_of }} [{{ year|upper }}|{{ count_detail|truncate(40) }}"
                        "{% if groups|length > 1 %}|{{ groups[0].heading|lower }}{% endif %}"
                        "{% set n = count %}|{{ n }}|{{ preparer if preparer else 'chưa ghi' }}"
                        "{% for g in groups if g.rows is defined %}|{{ loop.index }}.{{ g.rows|length }}"
                        "{% for r in g.rows %}/{{ r.code ~ ' ' ~ loop.index }}{% endfor %}{% endfor %}]"))
    out = tmp_path / "van-ban"
    led("export", "--year", "2024", "--out", out, "--templates", folder)
    doc = "\n".join(p.text for p in Document(str(out / DOCUMENT)).paragraphs)
    assert "[2024|gồm 1 tập thể|1|chưa ghi|1.1/2024-001 1]" in doc, doc


def test_packaged_templates_only_say_nothing_about_a_template_folder(led, tmp_path):
    data = json.loads(led("export", "--year", "2024", "--out", tmp_path / "o", "--json").stdout)
    assert data["templates"] == {"folder": None, "files": []}
    assert not any("mẫu" in n.lower() and "thư mục" in n for n in data["notes"])


@pytest.mark.sqlite_only("a templates/ folder appearing beside the ledger file")
def test_verify_doc_of_a_document_rendered_with_packaged_templates_ignores_a_new_folder(led, tmp_path):
    """A `templates/` folder that appears beside the ledger later is not used to re-render documents
    recorded with the packaged templates (they are checked against what they were made with)."""
    marker = tmp_path / "PWNED"
    out = tmp_path / "van-ban"
    led("export", "--year", "2024", "--out", out)
    edits, _ = attacks(marker)["lipsum-popen"]
    edited(led.db.parent / "templates", edits)
    assert led("verify-doc", out / DOCUMENT).exit_code == 0
    assert not marker.exists()
    shutil.rmtree(led.db.parent / "templates")


@pytest.mark.parametrize("name", sorted(TEMPLATE_SHAPES))
def test_the_declared_shapes_are_what_the_contexts_hold(name):
    """`TEMPLATE_SHAPES` (what a template may loop over and which fields an item has) matches the
    context each view model really gives, so a documented field is never refused and no other is allowed."""
    from dvk.reports.kinds import context_of
    from test_reports_render import decision, proposal_doc, registration_doc, reminder_doc, report_doc, score_doc

    def revocation_doc():
        from test_reports_render import ISSUED, LH

        from dvk.reports.models import RevocationDoc

        return RevocationDoc(letterhead=LH, year=2026, number="07", issued_on=ISSUED, revoked="Quyết định số 05/QĐ-CĐN",
                             reason="Sai sót", legal_bases=("Căn cứ Điều lệ Công đoàn Việt Nam;",),
                             recipients=("Như Điều 3",))

    from test_reports_render import _council_docs

    vm = {"quyet-dinh-cong-nhan.docx": decision, "danh-sach-dang-ky.docx": registration_doc,
          "phieu-cham-diem.docx": score_doc, "bao-cao-ket-qua.docx": report_doc,
          "cong-van-nhac.docx": lambda: __import__("dataclasses").replace(reminder_doc(), unregistered=("CĐCS X",)),
          "to-trinh-khen-thuong.docx": proposal_doc, "quyet-dinh-thu-hoi.docx": revocation_doc,
          **{k: (lambda v=v: v) for k, v in _council_docs().items()}}[name]()
    shapes = TEMPLATE_SHAPES[name]

    def conforms(value, shape, where):
        if shape is None:
            assert value is None or isinstance(value, (str, int, float)), where
        elif isinstance(shape, dict):
            assert isinstance(value, dict) and set(value) == set(shape), (where, sorted(value), sorted(shape))
            for k, v in value.items():
                conforms(v, shape[k], f"{where}.{k}")
        else:
            assert isinstance(value, (list, tuple)) and value, where  # the sample fills every list
            for item in value:
                conforms(item, shape[0], f"{where}[]")

    ctx = context_of(vm)
    assert set(shapes) <= set(ctx)
    for key, value in ctx.items():
        conforms(value, shapes.get(key), key)
