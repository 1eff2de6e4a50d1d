"""What every operation of the cycle shares: the domain's words (kinds, subjects, statuses), the year
range, the date of today, and one check of a text value (NFC, no control characters, its limit) --
the rules themselves are dvk.rules's.
"""

from __future__ import annotations

import datetime as dt

from dvk.errors import InvalidInput
from dvk.rules import KINDS, MAX_YEAR, MIN_YEAR, SUBJECTS, check_year, entry_year, text_issue
from dvk.text.normalize import clean, clean_lines

__all__ = ["KINDS", "SUBJECTS", "STATUSES", "MIN_YEAR", "MAX_YEAR", "BASE_YEAR", "check_year", "entry_year",
           "today", "text_field"]


STATUSES = {
    "registered": "Đã đăng ký",
    "reported": "Đã có báo cáo",
    "confirmed": "Đã xác nhận",
    "scored": "Đã chấm điểm",
    "recognized": "Được công nhận",
    "not_recognized": "Không được công nhận",
}


BASE_YEAR = 0  # a profile or criteria set "from the beginning"


def today() -> dt.date:
    return dt.date.today()


def text_field(value: str | None, label: str, *, required: bool = False, max_len: int = 2000,
               multiline: bool = False) -> str | None:
    """A text field cleaned for storage; InvalidInput naming `label` when it is missing (`required`),
    holds a control character or is longer than `max_len` (dvk.rules.text_issue)."""
    v, why = text_issue("", None if value is None else str(value), label, max_len,
                        clean=clean_lines if multiline else clean)
    if why:
        raise InvalidInput(f"{why.reason[:1].upper()}{why.reason[1:]}.")
    if required and not v:
        raise InvalidInput(f"Thiếu {label}.")
    return v

