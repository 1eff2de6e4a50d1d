"""What every operation of the cycle shares: the domain's words (kinds, subjects, statuses), the year
range, the date of today, and one check of a text value (NFC, no control characters, its limit).
"""

from __future__ import annotations

import datetime as dt

from dvk.errors import InvalidInput
from dvk.text.normalize import clean, clean_lines
from dvk.text.safety import text_problem


KINDS = {"model": "Mô hình", "exemplar": "Điển hình"}


SUBJECTS = {"collective": "Tập thể", "individual": "Cá nhân"}


STATUSES = {
    "registered": "Đã đăng ký",
    "reported": "Đã có báo cáo",
    "confirmed": "Đã xác nhận",
    "scored": "Đã chấm điểm",
    "recognized": "Được công nhận",
    "not_recognized": "Không được công nhận",
}


MIN_YEAR, MAX_YEAR = 2000, 2100


BASE_YEAR = 0  # a profile or criteria set "from the beginning"


def check_year(year: int) -> int:
    if not (MIN_YEAR <= int(year) <= MAX_YEAR):
        raise InvalidInput(f"Năm “{year}” không hợp lệ (phải trong khoảng {MIN_YEAR}–{MAX_YEAR}).")
    return int(year)


def entry_year(entry_id: str) -> int | None:
    head = entry_id.split("-", 1)[0]
    return int(head) if head.isdigit() else None


def today() -> dt.date:
    return dt.date.today()


def text_field(value: str | None, label: str, *, required: bool = False, max_len: int = 2000,
          multiline: bool = False) -> str | None:
    """A text field cleaned for storage; InvalidInput naming `label` when it is missing (`required`),
    holds a control character or is longer than `max_len` (dvk.text.safety.text_problem)."""
    v = None
    if value is not None:
        raw = str(value)
        v = clean_lines(raw) if multiline else clean(raw)
        why = text_problem(raw, v, max_len)
        if why:
            raise InvalidInput(f"{label[:1].upper()}{label[1:]} {why}.")
    if required and not v:
        raise InvalidInput(f"Thiếu {label}.")
    return v or None


def text_field_problem(value: str | None, label: str, max_len: int) -> str | None:
    """`text_field`'s check as a clause for a list of problems (None when the text may be stored)."""
    if value is None:
        return None
    why = text_problem(value, clean(value), max_len)
    return f"{label} {why}" if why else None
