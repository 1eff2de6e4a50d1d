"""The one rule set (dvk.rules), pure: every rule returns every problem with the field it concerns,
and the fast paths the imports take (texts already cleaned, cells cleaned by a cache) give what the
plain call gives."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dvk import rules
from dvk.criteria import default_text, load_text
from dvk.errors import InvalidInput, NotFound
from dvk.text.normalize import clean

CRIT = load_text(default_text())
UNITS = rules.Units(["BVDK", "CDC", "Bv1", "BV1"])  # "Bv1" and "BV1" fold alike: neither found folded
TODAY = dt.date(2024, 2, 10)
TEXTS = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)


def _reg(**kw):
    values = dict(year=2024, unit="BVDK", title="Chăm lo đoàn viên", field=1)
    values.update(kw)
    return rules.registration(**values, units=UNITS, crit_of=lambda _y: CRIT, today=TODAY)


# ---------------------------------------------------------------- registration

def test_a_good_registration_is_the_row_to_insert():
    row, issues = _reg(title="  Chăm lo\u00a0 đoàn viên ", unit="bvdk", person="Trần  Thị Thuỷ", position="Điều dưỡng",
                       kind="exemplar", registered_on=dt.date(2024, 3, 5), note=" n ")
    assert issues == []
    assert row == {"id": None, "year": 2024, "seq": 0, "unit_code": "BVDK", "title": "Chăm lo đoàn viên",
                   "kind": "exemplar", "subject": "individual", "person": "Trần Thị Thuỷ", "position": "Điều dưỡng",
                   "field": 1, "registered_on": dt.date(2024, 3, 5), "late": True, "sudden": False, "note": "n",
                   "match_key": rules.match_key("BVDK", "Chăm lo đoàn viên", "Trần Thị Thuỷ")}
    row, _ = _reg()
    assert row["subject"] == "collective" and row["registered_on"] == TODAY and row["late"] is False


def test_every_problem_of_a_registration_names_its_field():
    row, issues = _reg(year=2024, unit="XX", title=" ", kind="other", subject="collective", person="Lê An",
                       position="Trưởng khoa", field=9, note="a\x01b")
    assert row is None
    assert [i.field for i in issues] == ["unit_code", "title", "kind", "person", "position", "field", "note"]
    unit = issues[0]
    assert unit.missing and unit.value == "XX" and "“XX”" in unit.text and "“XX”" not in unit.reason
    assert "chỉ có 1, 2, 3, 4, 5" in issues[5].reason and issues[5].value == 9
    assert "U+0001" in issues[6].reason


@pytest.mark.parametrize("kw,field,fragment", [
    (dict(year=1999), "year", "2000–2100"),
    (dict(year="hai nghìn"), "year", "năm “hai nghìn” không hợp lệ"),
    (dict(year=None), "year", "thiếu năm"),
    (dict(unit=None), "unit_code", "thiếu mã đơn vị"),
    (dict(unit="bv1"), "unit_code", "không có đơn vị"),  # two codes fold to it: it names neither
    (dict(title=None), "title", "thiếu tên"),
    (dict(title="x" * 501), "title", "quá dài (501 ký tự, tối đa 500)"),
    (dict(subject="individual"), "person", "phải có họ và tên"),
    (dict(subject="individual", person="An"), "person", "ít nhất họ và tên"),
    (dict(subject="group"), "subject", "đối tượng không hợp lệ"),
    (dict(field=None), "field", "thiếu lĩnh vực"),
    (dict(field="3"), "field", "không hợp lệ"),  # a whole number, never a text that reads as one
    (dict(person="Nguyễn \x1b[2JVăn"), "person", "ký tự điều khiển"),
])
def test_one_broken_rule_is_one_issue(kw, field, fragment):
    row, issues = _reg(**kw)
    assert row is None and len(issues) == 1, issues
    assert issues[0].field == field and fragment in issues[0].text


def test_units_are_found_as_typed_or_folded_when_that_is_one_code():
    assert UNITS.find("BVDK") == "BVDK" and UNITS.find(" bvdk ") == "BVDK" and UNITS.find("cdc") == "CDC"
    assert UNITS.find("Bv1") == "Bv1" and UNITS.find("bv1") is None and UNITS.find("ZZ") is None
    assert rules.unit_key("B V  dk") == rules.unit_key("b v dk")


@settings(max_examples=200, deadline=None)
@given(TEXTS, st.one_of(st.none(), TEXTS))
def test_match_key_of_cleaned_texts_is_the_match_key(title, person):
    """Intake gives the key texts it has cleaned (`cleaned=True`): the same key as from the raw texts."""
    t, p = clean(title), (clean(person) or None) if person else None
    assert rules.match_key("BVDK", t, p, cleaned=True) == rules.match_key("BVDK", t, p) \
        == rules.match_key("BVDK", title, person if p else None)


@settings(max_examples=200, deadline=None)
@given(TEXTS, st.one_of(st.none(), TEXTS), st.one_of(st.none(), TEXTS))
def test_registration_with_the_import_cache_equals_the_plain_rule(title, person, note):
    """`dvk register --from` cleans cells through intake.cells.clean_fast: the same rows and issues."""
    from dvk.intake.cells import clean_fast

    kw = dict(title=title, person=person, note=note, subject="individual" if person else "collective")
    plain = _reg(**kw)
    fast = rules.registration(year=2024, unit="BVDK", field=1, **kw, units=UNITS, crit_of=lambda _y: CRIT,
                              today=TODAY, clean=clean_fast)
    assert fast == plain


def test_issues_are_listed_in_field_order_wherever_found():
    found = [rules.Issue("registered_on", "ngày"), rules.Issue(None, "cả dòng"), rules.Issue("title", "tên")]
    assert [i.field for i in rules.in_field_order(found)] == ["title", "registered_on", None]


# ---------------------------------------------------------------- years and entry ids

@given(st.integers(-10_000, 10_000))
def test_year_range(year):
    ok = rules.MIN_YEAR <= year <= rules.MAX_YEAR
    assert (rules.year_issue(year) is None) == ok
    if ok:
        assert rules.check_year(year) == year
    else:
        with pytest.raises(InvalidInput, match="2000–2100"):
            rules.check_year(year)


@pytest.mark.parametrize("typed,spelled", [("2024-7", "2024-007"), (" 2024 - 0007 ", "2024-007"),
                                           ("2024-1234", "2024-1234"), ("abc ", "abc"), ("2024", "2024")])
def test_entry_id_spelling(typed, spelled):
    assert rules.entry_id_of(typed) == spelled


def test_entry_ids_and_their_year():
    assert rules.make_id(2024, 7) == "2024-007" and rules.entry_year("2024-007") == 2024
    assert rules.entry_year("x-1") is None


# ---------------------------------------------------------------- lateness

WINDOW = (dt.date(2024, 2, 1), dt.date(2024, 2, 29))


@given(st.one_of(st.none(), st.dates(dt.date(2023, 12, 1), dt.date(2024, 4, 30))), st.booleans())
def test_lateness_one_definition(on, sudden):
    late = rules.is_late(on, sudden, WINDOW)
    if sudden:
        assert not late  # a sudden achievement needs no registration
    else:
        assert late == (on is None or not (WINDOW[0] <= on <= WINDOW[1]))


def test_late_changes_lists_only_the_flags_that_change():
    entries = [{"id": "2024-001", "year": 2024, "registered_on": dt.date(2024, 3, 5), "sudden": False, "late": True},
               {"id": "2024-002", "year": 2024, "registered_on": dt.date(2024, 2, 10), "sudden": False, "late": False},
               {"id": "2024-003", "year": 2024, "registered_on": dt.date(2024, 3, 5), "sudden": True, "late": False}]
    march = lambda _y: (dt.date(2024, 2, 1), dt.date(2024, 3, 31))  # noqa: E731
    assert rules.late_changes(entries, march) == [{**entries[0], "late": False}]
    assert rules.late_changes(entries, lambda _y: WINDOW) == []
    mid = lambda _y: (dt.date(2024, 2, 15), dt.date(2024, 2, 29))  # noqa: E731
    assert [e["id"] for e in rules.late_changes(entries, mid)] == ["2024-002"]


# ---------------------------------------------------------------- report, confirmation

def test_a_report_blank_aspect_never_erases_and_every_problem_is_listed():
    texts, blank, issues = rules.report_aspects({"approach": " Cách  làm ", "spread": "  ", "experience": None,
                                                 "effectiveness": "a\x07", "sustainability": "x" * 20001})
    assert texts == {"approach": "Cách làm"} and blank == ["spread"]
    assert [i.field for i in issues] == ["effectiveness", "sustainability"]
    assert rules.report_blank({"approach": None, "file_path": None}).field == "aspects"
    assert rules.report_blank({"approach": "x"}) is None and rules.report_blank({"file_path": "a.pdf"}) is None


@pytest.mark.parametrize("kw,fields", [
    (dict(by=None, rejected=False, reason=None), ["confirmed_by"]),
    (dict(by="B", rejected=True, reason=None), ["reason"]),
    (dict(by="B", rejected=False, reason="vì"), ["reason"]),
    (dict(by=" ", rejected=True, reason=" ", committee="c\x01"), ["committee", "confirmed_by", "reason"]),
    (dict(by="B", rejected=True, reason="Chưa lan tỏa"), []),
])
def test_confirmation_rules(kw, fields):
    values, issues = rules.confirmation(committee=kw.pop("committee", None), comment=None, **kw)
    assert [i.field for i in issues] == fields
    if not fields:
        assert values == {"committee": None, "confirmed_by": "B", "comment": None, "rejected": True,
                          "reason": "Chưa lan tỏa"}


def test_a_confirmation_needs_a_report_and_a_committee():
    committee, issues = rules.confirmable("2024-001", reported=False, committee=None, unit_code="BVDK",
                                          unit_committee=None)
    assert committee is None and [i.field for i in issues] == ["entry_id", "committee"]
    assert rules.confirmable("2024-001", reported=True, committee=None, unit_code="BVDK",
                             unit_committee="Đảng ủy") == ("Đảng ủy", [])


# ---------------------------------------------------------------- score sheet, unit

def test_a_score_sheet_lists_every_problem_by_criterion():
    values, issues = rules.score_pairs(["g1=8", "G1=9", "G2=11", "S1=na", "G3=na", "nonsense"], CRIT)
    assert values["G1"] == 8 and values["S1"] is None
    by = {i.field: i.reason for i in issues[:-1]}
    assert "hai lần" in by["G1"] and "ngoài thang" in by["G2"] and "tiêu chí chung" in by["G3"]
    assert "MÃ=ĐIỂM" in by[None] and [i.value for i in issues if i.field is None][0] == "nonsense"
    assert issues[-1].field is None and "chưa chấm các tiêu chí: G4, G5, S2" in issues[-1].reason
    with pytest.raises(InvalidInput) as exc:
        rules.parse_score_args(["G1=11"], CRIT)
    assert len(exc.value.details) == 2  # the value out of the scale, and the criteria not scored


def test_member_name():
    assert rules.member_name("  Nguyễn  Văn An ") == ("Nguyễn Văn An", None)
    assert rules.member_name(None)[1].reason == "thiếu tên thành viên Hội đồng"
    assert rules.member_name(None, required=False) == (None, None)
    assert "quá dài" in rules.member_name("x" * 201)[1].reason


def test_unit_rules():
    assert rules.unit(" BVDK ", "Công đoàn  BV") == ({"code": "BVDK", "name": "Công đoàn BV", "committee": None}, [])
    row, issues = rules.unit(None, " ", "c" * 301)
    assert row is None and [i.field for i in issues] == ["code", "name", "committee"]
    assert issues[2].value == "c" * 301  # what would be stored, for the table of problems


# ---------------------------------------------------------------- the refusal

def test_the_refusal_names_each_problem_where_the_clerk_wrote_it():
    one = rules.refusal([rules.Issue("confirmed_by", "thiếu người ký xác nhận")], {"confirmed_by": "--by"},
                        what="Xác nhận của cấp ủy")
    assert isinstance(one, InvalidInput) and one.message == "Thiếu người ký xác nhận (--by)."
    _, issues = _reg(unit="XX", title=None, field=7)
    several = rules.refusal(issues, {"unit_code": "--unit", "title": "--title", "field": "--field"}, what="Đăng ký")
    assert several.message == "Đăng ký không hợp lệ (3 lỗi); sổ không thay đổi:"
    assert several.details[0].startswith("--unit: không có đơn vị mã “XX”")
    assert several.details[1] == "--title: thiếu tên mô hình, điển hình"
    assert several.details[2].startswith("--field: lĩnh vực “7” không hợp lệ")
    alone = rules.refusal(issues[:1], {"unit_code": "--unit"}, what="Đăng ký")
    assert isinstance(alone, NotFound) and alone.message.startswith("Không có đơn vị mã “XX” trong sổ")
    headline = rules.refusal(issues[2:], {"field": "--field"}, what="Đăng ký", headline=True)
    assert headline.message.startswith("Đăng ký không hợp lệ (--field): lĩnh vực “7”")
