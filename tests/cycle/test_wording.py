"""dvk.wording and dvk.text.numbers: the wording printed in many places, written once.

The functions are pure; the CLI tests at the end show the places that used to write it their own way.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dvk import criteria, scoring, wording
from dvk.text import numbers
from dvk.wording import (decision_note, decision_number, decision_ref, decision_symbol, decision_title, doc_number,
                         fmt_number, fmt_score, issuer_name, members_name, office_name, recognition_subject,
                         recognition_title, signing_body, standing_committee, thousands)

ON = dt.date(2024, 10, 15)


# ---------------------------------------------------------------- decisions

def test_decision_titles_and_references():
    assert decision_symbol(5, "CĐN") == "05/QĐ-CĐN"
    assert decision_ref(5, "CĐN", ON) == "05/QĐ-CĐN ngày 15/10/2024"
    assert decision_title(5, "CĐN", ON) == "Quyết định số 05/QĐ-CĐN ngày 15/10/2024"
    assert decision_title(12, "CĐN") == "Quyết định số 12/QĐ-CĐN"
    assert decision_title(7) == "Quyết định số 07"
    assert recognition_title(5, "CĐN", ON) == "Quyết định công nhận số 05/QĐ-CĐN ngày 15/10/2024"
    assert decision_note(5, "LĐLĐ") == "QĐ số 05/QĐ-LĐLĐ"
    assert recognition_subject(2024) == "công nhận mô hình, điển hình “Dân vận khéo” năm 2024"


def test_a_number_or_date_read_back_as_text_is_shown_as_it_is():
    """A number from a file's identifier ("05") or a damaged ledger's cell is never reformatted or refused."""
    assert decision_title("05", "CĐN") == "Quyết định số 05/QĐ-CĐN"
    assert decision_number(0) == "0" and decision_number("x") == "x" and decision_number(True) == "True"
    assert decision_ref(3, "CĐN", "2024-10-15") == "03/QĐ-CĐN ngày 15/10/2024"
    assert decision_ref(3, "CĐN", "hôm qua") == "03/QĐ-CĐN ngày hôm qua"


@given(st.integers(min_value=1, max_value=10**6), st.dates(min_value=dt.date(1900, 1, 1)))
def test_every_title_is_built_from_the_same_number_and_reference(n, day):
    number = doc_number(n)
    assert len(number) >= 2 and int(number) == n
    assert decision_number(n) == number
    ref = decision_ref(n, "CĐN", day)
    assert ref == f"{number}/QĐ-CĐN ngày {day:%d/%m}/{day.year:04d}"
    assert decision_title(n, "CĐN", day) == f"Quyết định số {ref}"
    assert recognition_title(n, "CĐN", day) == f"Quyết định công nhận số {ref}"
    assert decision_note(n, "CĐN") == f"QĐ số {number}/QĐ-CĐN"


# ---------------------------------------------------------------- numbers

@given(st.integers(min_value=-10**15, max_value=10**15))
def test_thousands_groups_digits_by_three_with_dots(n):
    text = thousands(n)
    assert text.replace(".", "") == str(n)
    head, *groups = text.lstrip("-").split(".")
    assert 1 <= len(head) <= 3 and all(len(g) == 3 for g in groups)


@pytest.mark.parametrize(("n", "text"), [(0, "0"), (999, "999"), (1000, "1.000"), (100000, "100.000"),
                                         (1048576, "1.048.576"), (-1234, "-1.234")])
def test_thousands(n, text):
    assert thousands(n) == text


@given(st.decimals(min_value=-1000, max_value=1000, places=3, allow_nan=False, allow_infinity=False))
def test_a_number_is_printed_exactly_and_as_short_as_it_can_be(x):
    """Weights, bounds and marks have at most three decimals: printed with a decimal comma, exact,
    and without trailing zeros (8 -> "8", 8.50 -> "8,5", 0.125 -> "0,125")."""
    for value in (x, Fraction(x), float(x)):
        text = fmt_number(value)
        assert "." not in text
        assert Decimal(text.replace(",", ".")) == x
        if "," in text:
            assert not text.endswith("0")
        else:
            assert x == x.to_integral_value()


@pytest.mark.parametrize(("x", "text"), [(8, "8"), (Fraction(17, 2), "8,5"), (Fraction(1, 8), "0,125"),
                                         (0.1, "0,1"), (10.0, "10"), (Decimal("83.250"), "83,25"),
                                         (Fraction(1, 3), "0,333")])
def test_fmt_number(x, text):
    assert fmt_number(x) == text


@given(st.floats(min_value=0, max_value=100, allow_nan=False))
def test_a_score_has_two_decimals_and_a_decimal_comma(x):
    text = fmt_score(x)
    whole, frac = text.split(",")
    assert len(frac) == 2 and abs(float(f"{whole}.{frac}") - x) <= 0.005 + 1e-9


def test_scores_and_numbers_have_one_definition():
    """The rules, the wording and the text layer print with the same functions."""
    assert fmt_score(83.25) == "83,25" and fmt_score(None) == "—"
    assert scoring.fmt_score is numbers.fmt_score is wording.fmt_score
    assert criteria.fmt_number is scoring.fmt_number is numbers.fmt_number is wording.fmt_number
    assert not hasattr(criteria, "_num") and not hasattr(criteria, "fmt_score")  # no second copy
    assert wording.thousands is numbers.thousands and wording.doc_number is numbers.doc_number


# ---------------------------------------------------------------- the issuing body

@pytest.mark.parametrize(("on_behalf", "body"), [
    ("TM. BAN THƯỜNG VỤ", "Ban Thường vụ"), ("T/M BAN CHẤP HÀNH", "Ban Chấp hành"),
    ("tm. ban thường vụ công đoàn", "Ban Thường vụ công đoàn"), ("KT. CHỦ TỊCH", ""), ("", ""),
])
def test_signing_body(on_behalf, body):
    assert signing_body(on_behalf) == body


def test_issuer_office_and_standing_committee():
    assert issuer_name("Công đoàn ngành Y tế", "TM. BAN THƯỜNG VỤ") == "Ban Thường vụ Công đoàn ngành Y tế"
    assert issuer_name("Công đoàn ngành Y tế", "KT. CHỦ TỊCH") == "Công đoàn ngành Y tế"
    assert office_name("Công đoàn ngành Y tế") == "Văn phòng Công đoàn ngành Y tế"
    assert standing_committee("Liên đoàn Lao động tỉnh") == "Ban Thường vụ Liên đoàn Lao động tỉnh"


@pytest.mark.parametrize(("names", "text"), [
    ([], "các đơn vị trực thuộc"),
    (["Cong doan Benh vien A", "CDCS Trung tam B", "Truong C"], "các Công đoàn cơ sở trực thuộc"),
    (["To cong doan Khoa A", "TO CONG DOAN khoa B", "Cong doan C"], "các tổ công đoàn trực thuộc"),
    (["Cong doan A", "Truong B", "Tram C", "Khoa D"], "các đơn vị trực thuộc"),
])
def test_how_article_3_names_the_member_units(names, text):
    assert members_name(names) == text


# ---------------------------------------------------------------- through the CLI

def _said(res) -> str:
    return " ".join((res.stdout + res.stderr).split())


def test_the_decision_is_named_the_same_way_everywhere(full_entry, ledger, tmp_path):
    ledger("recognize", "--year", "2024", "--number", "5", "--date", "15/10/2024")
    assert "Đã có Quyết định số 05/QĐ-CĐN ngày 15/10/2024" in _said(ledger("status", "--year", "2024"))
    locked = ledger.fails("register", "--year", "2024", "--unit", "BVDK", "--title", "Mô hình mới", "--field", "1")
    assert "Quyết định công nhận số 05/QĐ-CĐN ngày 15/10/2024" in _said(locked)
    out = tmp_path / "out"
    ledger("export", "--year", "2024", "--out", out)
    res = ledger("verify-doc", out / "quyet-dinh-cong-nhan-2024.docx")
    assert ("Quyết định số 05/QĐ-CĐN ngày 15/10/2024 công nhận mô hình, điển hình “Dân vận khéo” năm 2024"
            in _said(res))
    with zipfile.ZipFile(out / "bao-cao-ket-qua-2024.docx") as z:
        assert "Quyết định số 05/QĐ-CĐN ngày 15/10/2024" in z.read("word/document.xml").decode()


def test_a_criteria_file_too_big_is_named_as_it_is(ledger, tmp_path):
    """The size message used to turn every comma of the sentence (and of the file's name) into a dot."""
    big = tmp_path / "tiêu chí, bản 2.toml"
    with open(big, "wb") as fh:
        fh.truncate(3 * 1024 * 1024)
    said = _said(ledger.fails("criteria", "use", str(big), "--from-year", "2026"))
    assert "“" + str(big) + "”" in said
    assert "quá lớn (3.145.728 byte, tối đa 1.048.576 byte)" in said


def test_a_weight_with_three_decimals_is_printed_exactly(ledger, tmp_path):
    """Weights may have three decimals: `criteria show` printed 8.125 as "8,12"."""
    text = criteria.default_text().replace("weight = 8\n", "weight = 8.125\n", 1)
    path = tmp_path / "tieu-chi.toml"
    path.write_text(text, encoding="utf-8")
    ledger("criteria", "use", str(path), "--from-year", "2026")
    shown = ledger("criteria", "show", "--year", "2026").stdout
    assert "8,125" in shown and "8,12 " not in shown


