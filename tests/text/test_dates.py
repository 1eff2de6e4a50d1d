"""Tests for dvk.text.dates: reading typed dates and writing Decree 30 date lines."""

from __future__ import annotations

import datetime as dt
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dvk.text.dates import (
    MAX_YEAR,
    MIN_YEAR,
    DateError,
    date_line,
    date_words,
    fmt_date,
    month_end,
    parse_date,
)
from dvk.text.numbers import doc_number

FIRST = dt.date(MIN_YEAR, 1, 1)
LAST = dt.date(MAX_YEAR, 12, 31)
FORMS = "Dùng dạng dd/mm/yyyy hoặc yyyy-mm-dd."


# --------------------------------------------------------------------------- parse_date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("14/05/2021", dt.date(2021, 5, 14)),
        ("5/2/2026", dt.date(2026, 2, 5)),
        ("05/2/2026", dt.date(2026, 2, 5)),
        ("5/02/2026", dt.date(2026, 2, 5)),
        ("05-02-2026", dt.date(2026, 2, 5)),
        ("05.02.2026", dt.date(2026, 2, 5)),
        ("5.2.2026", dt.date(2026, 2, 5)),
        ("  14/05/2021\t", dt.date(2021, 5, 14)),
        ("\u00a014/05/2021\u00a0", dt.date(2021, 5, 14)),
        ("2021-05-14", dt.date(2021, 5, 14)),
        (" 2026-02-05 ", dt.date(2026, 2, 5)),
        ("29/02/2024", dt.date(2024, 2, 29)),
        ("29/02/2000", dt.date(2000, 2, 29)),
        ("31/12/2200", dt.date(2200, 12, 31)),
        ("01/01/1900", dt.date(1900, 1, 1)),
        ("１４/０５/２０２１", dt.date(2021, 5, 14)),  # fullwidth digits from an IME
        ("12/01/2024", dt.date(2024, 1, 12)),  # day first, never month first
    ],
)
def test_parse_date_accepts(text, expected):
    got = parse_date(text)
    assert got == expected
    assert type(got) is dt.date


def test_parse_date_accepts_date_objects():
    assert parse_date(dt.date(2024, 2, 29)) == dt.date(2024, 2, 29)
    got = parse_date(dt.datetime(2021, 5, 14, 23, 59))
    assert got == dt.date(2021, 5, 14)
    assert type(got) is dt.date


def test_exact_message():
    with pytest.raises(DateError) as err:
        parse_date("31/02/2024")
    assert str(err.value) == (
        'Ngày không hợp lệ: "31/02/2024" (ngày 31 không có trong tháng 02/2024). '
        "Dùng dạng dd/mm/yyyy hoặc yyyy-mm-dd."
    )
    assert err.value.value == "31/02/2024"
    assert err.value.reason == "ngày 31 không có trong tháng 02/2024"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("30/02/2024", "ngày 30 không có trong tháng 02/2024"),
        ("29/02/2023", "ngày 29 không có trong tháng 02/2023"),
        ("29/02/1900", "ngày 29 không có trong tháng 02/1900"),
        ("31/04/2024", "ngày 31 không có trong tháng 04/2024"),
        ("32/01/2024", "ngày 32 không có trong tháng 01/2024"),
        ("00/01/2024", "ngày 00 không có trong tháng 01/2024"),
        ("2024-06-31", "ngày 31 không có trong tháng 06/2024"),
        ("01/13/2024", "không có tháng 13"),
        ("01/00/2024", "không có tháng 00"),
        ("2024-13-01", "không có tháng 13"),
        ("14/05/1899", "năm phải từ 1900 đến 2200"),
        ("01/01/2201", "năm phải từ 1900 đến 2200"),
        ("0001-01-01", "năm phải từ 1900 đến 2200"),
        ("", "chưa nhập ngày"),
        ("   ", "chưa nhập ngày"),
        (None, "chưa nhập ngày"),
        (45000, "không phải là ngày tháng"),  # Excel serial: the importer's job
        (45000.5, "không phải là ngày tháng"),
        (dt.date(1800, 1, 1), "năm phải từ 1900 đến 2200"),
        (dt.datetime(1899, 12, 30), "năm phải từ 1900 đến 2200"),
    ],
)
def test_parse_date_rejects_with_reason(text, reason):
    with pytest.raises(DateError) as err:
        parse_date(text)
    msg = str(err.value)
    assert msg.startswith("Ngày không hợp lệ: ")
    assert f"({reason})" in msg
    assert msg.endswith(FORMS)
    assert unicodedata.is_normalized("NFC", msg)
    if isinstance(text, str) and text.strip():
        assert f'"{text.strip()}"' in msg


@pytest.mark.parametrize(
    "text",
    [
        "abc",
        "hôm nay",
        "45000",
        "14/05/21",  # two-digit year
        "14/05/02021",
        "2021/05/14",  # year first needs ISO dashes
        "14/05-2021",  # mixed separators
        "14 05 2021",
        "14/5",
        "14//05/2021",
        "2021-05-14T10:00",
        "14/05/2021 08:00",
        "ngày 14 tháng 5 năm 2021",
        "1e5",
        "-1/05/2021",
        "١٤/٠٥/٢٠٢١",  # Arabic-Indic digits are not dates
    ],
)
def test_parse_date_rejects_garbage(text):
    with pytest.raises(ValueError) as err:  # DateError is a ValueError
        parse_date(text)
    assert isinstance(err.value, DateError)
    assert str(err.value) == f'Ngày không hợp lệ: "{text.strip()}". {FORMS}'


def test_date_error_is_constructible_by_callers():
    err = DateError("Ô B3: ngày không hợp lệ.")
    assert isinstance(err, ValueError)
    assert str(err) == "Ô B3: ngày không hợp lệ."
    assert err.value is None and err.reason is None


def _all_days():
    d, one = FIRST, dt.timedelta(days=1)
    while d <= LAST:
        yield d
        d += one


def test_round_trip_every_day_in_range():
    n = 0
    for d in _all_days():
        text = fmt_date(d)
        assert parse_date(text) == d
        n += 1
    assert n == (LAST - FIRST).days + 1 == 109_938  # 301 years, 73 leap days


@given(
    st.dates(min_value=FIRST, max_value=LAST),
    st.sampled_from("/-."),
    st.booleans(),
    st.booleans(),
    st.sampled_from(["", " ", "  ", "\t"]),
)
def test_round_trip_variants(d, sep, pad_day, pad_month, space):
    day = f"{d.day:02d}" if pad_day else str(d.day)
    month = f"{d.month:02d}" if pad_month else str(d.month)
    assert parse_date(f"{space}{day}{sep}{month}{sep}{d.year}{space}") == d
    assert parse_date(d.isoformat()) == d
    assert parse_date(d) == d


@given(st.dates().filter(lambda d: not MIN_YEAR <= d.year <= MAX_YEAR))
def test_years_outside_range_rejected(d):
    with pytest.raises(DateError):
        parse_date(d)
    if d.year >= 1000:
        with pytest.raises(DateError):
            parse_date(f"{d.day:02d}/{d.month:02d}/{d.year}")


@given(st.integers(0, 99), st.integers(0, 99), st.integers(MIN_YEAR, MAX_YEAR))
def test_parse_accepts_exactly_the_real_dates(day, month, year):
    text = f"{day:02d}/{month:02d}/{year}"
    try:
        real = dt.date(year, month, day)
    except ValueError:
        with pytest.raises(DateError):
            parse_date(text)
    else:
        assert parse_date(text) == real


# --------------------------------------------------------------------------- fmt_date


@pytest.mark.parametrize(
    ("d", "text"),
    [
        (dt.date(2026, 2, 5), "05/02/2026"),
        (dt.date(2021, 5, 14), "14/05/2021"),
        (dt.date(2024, 12, 31), "31/12/2024"),
        (dt.date(1900, 1, 1), "01/01/1900"),
        (dt.datetime(2024, 3, 9, 17, 30), "09/03/2024"),
        ("2024-03-09", "09/03/2024"),
        ("9/3/2024", "09/03/2024"),
    ],
)
def test_fmt_date(d, text):
    assert fmt_date(d) == text


@given(st.dates(min_value=FIRST, max_value=LAST))
def test_fmt_date_shape(d):
    s = fmt_date(d)
    assert len(s) == 10 and s[2] == s[5] == "/"
    assert s.replace("/", "").isdigit()


def test_fmt_date_rejects_non_dates():
    with pytest.raises(TypeError):
        fmt_date(20240309)  # type: ignore[arg-type]
    with pytest.raises(DateError):
        fmt_date("31/02/2024")


# --------------------------------------------------------------------------- Decree 30 lines


@pytest.mark.parametrize(
    ("d", "words"),
    [
        (dt.date(2026, 2, 5), "ngày 05 tháng 02 năm 2026"),
        (dt.date(2021, 5, 14), "ngày 14 tháng 5 năm 2021"),
        (dt.date(2024, 10, 15), "ngày 15 tháng 10 năm 2024"),
        (dt.date(2025, 3, 3), "ngày 03 tháng 3 năm 2025"),
        (dt.date(2025, 1, 1), "ngày 01 tháng 01 năm 2025"),
        (dt.date(2024, 11, 10), "ngày 10 tháng 11 năm 2024"),
        (dt.date(2024, 12, 31), "ngày 31 tháng 12 năm 2024"),
        (dt.date(2022, 9, 9), "ngày 09 tháng 9 năm 2022"),
        (dt.datetime(2023, 2, 28, 8, 0), "ngày 28 tháng 02 năm 2023"),
        ("2026-02-05", "ngày 05 tháng 02 năm 2026"),
    ],
)
def test_date_words(d, words):
    assert date_words(d) == words


@pytest.mark.parametrize("month", range(1, 13))
def test_date_words_month_rule(month):
    # Decree 30: a leading zero for days under 10 and for months 1 and 2 only.
    for day in (1, 9, 10, 28):
        words = date_words(dt.date(2024, month, day))
        expected_month = f"{month:02d}" if month in (1, 2) else str(month)
        assert words == f"ngày {day:02d} tháng {expected_month} năm 2024"


def test_date_line():
    assert date_line("Đồng Nai", dt.date(2021, 5, 14)) == "Đồng Nai, ngày 14 tháng 5 năm 2021"
    assert date_line("Đồng Nai", dt.date(2026, 2, 5)) == "Đồng Nai, ngày 05 tháng 02 năm 2026"
    assert date_line("Biên Hòa", "15/10/2024") == "Biên Hòa, ngày 15 tháng 10 năm 2024"
    line = date_line(unicodedata.normalize("NFD", "  Đồng   Nai "), dt.date(2025, 3, 3))
    assert line == "Đồng Nai, ngày 03 tháng 3 năm 2025"
    assert unicodedata.is_normalized("NFC", line)


@pytest.mark.parametrize("place", ["", "   ", None])
def test_date_line_needs_a_place(place):
    with pytest.raises(ValueError, match="địa danh"):
        date_line(place, dt.date(2024, 1, 1))  # type: ignore[arg-type]


# --------------------------------------------------------------------------- doc_number / month_end


@pytest.mark.parametrize(("n", "text"), [(1, "01"), (5, "05"), (9, "09"), (10, "10"), (12, "12"),
                                         (99, "99"), (100, "100"), (1234, "1234")])
def test_doc_number(n, text):
    assert doc_number(n) == text


@pytest.mark.parametrize("n", [0, -1, -12, True, False, 1.0, "5", None])
def test_doc_number_rejects(n):
    with pytest.raises(ValueError, match="Số văn bản"):
        doc_number(n)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("year", "month", "day"),
    [(2024, 1, 31), (2024, 2, 29), (2023, 2, 28), (1900, 2, 28), (2000, 2, 29), (2100, 2, 28),
     (2024, 4, 30), (2024, 6, 30), (2024, 9, 30), (2024, 11, 30), (2024, 12, 31), (2025, 7, 31)],
)
def test_month_end(year, month, day):
    assert month_end(year, month) == dt.date(year, month, day)


@given(st.integers(MIN_YEAR, MAX_YEAR), st.integers(1, 12))
def test_month_end_is_last_day(year, month):
    end = month_end(year, month)
    assert (end.year, end.month) == (year, month)
    assert (end + dt.timedelta(days=1)).day == 1


@pytest.mark.parametrize("month", [0, 13, -1])
def test_month_end_rejects_bad_month(month):
    with pytest.raises(ValueError, match="Tháng không hợp lệ"):
        month_end(2024, month)
