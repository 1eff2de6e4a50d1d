"""Dates as Vietnamese clerks write them, and as Decree 30/2020/NĐ-CP prints them.

Pure Python, standard library only.

* :func:`parse_date` reads ``dd/mm/yyyy`` (also ``d/m/yyyy``, ``dd-mm-yyyy``,
  ``dd.mm.yyyy``) and ISO ``yyyy-mm-dd``; anything else raises
  :class:`DateError` with a Vietnamese message.
* :func:`fmt_date` writes ``dd/mm/yyyy`` for screens and tables.
* :func:`date_line` / :func:`date_words` write the place-and-date line of an
  official document: "Đồng Nai, ngày 05 tháng 02 năm 2026".

Document numbers ("05") and the other number formats are in :mod:`dvk.text.numbers`.
"""

from __future__ import annotations

import calendar
import datetime as _dt
import re
import unicodedata

from dvk.errors import DateError

__all__ = [
    "DateError",
    "MIN_YEAR",
    "MAX_YEAR",
    "parse_date",
    "fmt_date",
    "date_words",
    "date_line",
    "month_end",
]

MIN_YEAR = 1900
MAX_YEAR = 2200

_FORMS = "Dùng dạng dd/mm/yyyy hoặc yyyy-mm-dd."
_DAY_FIRST = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4})", re.ASCII)
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})", re.ASCII)


def _error(value: object, reason: str | None = None) -> DateError:
    shown = f'"{value}"' if isinstance(value, str) else repr(value)
    message = f"Ngày không hợp lệ: {shown}"
    if reason:
        message += f" ({reason})"
    return DateError(f"{message}. {_FORMS}", value=value, reason=reason)


def _checked(shown: object, year: int, month: int, day: int) -> _dt.date:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise _error(shown, f"năm phải từ {MIN_YEAR} đến {MAX_YEAR}")
    if not 1 <= month <= 12:
        raise _error(shown, f"không có tháng {month:02d}")
    if not 1 <= day <= calendar.monthrange(year, month)[1]:
        raise _error(shown, f"ngày {day:02d} không có trong tháng {month:02d}/{year}")
    return _dt.date(year, month, day)


def parse_date(text: str | _dt.date) -> _dt.date:
    """Read a date typed by a user.

    Accepts ``dd/mm/yyyy`` with one- or two-digit day and month and ``/``,
    ``-`` or ``.`` as separator (the same one twice), ISO ``yyyy-mm-dd``,
    and :class:`datetime.date` / :class:`datetime.datetime` objects (the time
    is dropped).  Surrounding whitespace is ignored.  Years run from 1900 to
    2200.  Excel serial numbers are not dates here.

    Raises :class:`DateError` (a :class:`ValueError`) otherwise.
    """
    if isinstance(text, _dt.datetime):
        text = text.date()
    if isinstance(text, _dt.date):
        return _checked(text.isoformat(), text.year, text.month, text.day)
    if text is None:
        raise _error("", "chưa nhập ngày")
    if not isinstance(text, str):
        raise _error(text, "không phải là ngày tháng")
    shown = text.strip()
    if not shown:
        raise _error(shown, "chưa nhập ngày")
    s = unicodedata.normalize("NFKC", shown).strip()  # fullwidth digits too
    m = _DAY_FIRST.fullmatch(s)
    if m:
        return _checked(shown, int(m.group(4)), int(m.group(3)), int(m.group(1)))
    m = _ISO.fullmatch(s)
    if m:
        return _checked(shown, int(m.group(1)), int(m.group(2)), int(m.group(3)))
    raise _error(shown)


def _as_date(d: str | _dt.date) -> _dt.date:
    if isinstance(d, _dt.datetime):
        return d.date()
    if isinstance(d, _dt.date):
        return d
    if isinstance(d, str):
        return parse_date(d)
    raise TypeError(f"expected a date, got {type(d).__name__}")


def fmt_date(d: str | _dt.date) -> str:
    """``dd/mm/yyyy`` with two-digit day and month: "05/02/2026"."""
    d = _as_date(d)
    return f"{d.day:02d}/{d.month:02d}/{d.year:04d}"


def date_words(d: str | _dt.date) -> str:
    """The date part of the Decree 30 line: "ngày 05 tháng 02 năm 2026".

    Days under 10 and the months 1 and 2 take a leading zero (so that nobody
    can add a digit); the other months do not: "ngày 14 tháng 5 năm 2021".
    """
    d = _as_date(d)
    month = f"{d.month:02d}" if d.month < 3 else str(d.month)
    return f"ngày {d.day:02d} tháng {month} năm {d.year}"


def date_line(place: str, d: str | _dt.date) -> str:
    """Place-and-date line of an official document.

    ``date_line("Đồng Nai", date(2021, 5, 14))`` -> "Đồng Nai, ngày 14 tháng 5 năm 2021".
    """
    where = " ".join(unicodedata.normalize("NFC", place or "").split())
    if not where:
        raise ValueError("Thiếu địa danh cho dòng ngày tháng của văn bản.")
    return f"{where}, {date_words(d)}"


def month_end(year: int, month: int) -> _dt.date:
    """Last day of the month: ``month_end(2024, 2)`` -> 2024-02-29."""
    if not 1 <= month <= 12:
        raise ValueError(f"Tháng không hợp lệ: {month} (tháng phải từ 1 đến 12).")
    return _dt.date(year, month, calendar.monthrange(year, month)[1])
