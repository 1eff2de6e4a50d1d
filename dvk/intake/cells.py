"""Cells as a clerk types them, made values: text (NFC, clean), whole numbers, "x" ticks, the words of
Loại/Đối tượng, entry ids, "[VÍ DỤ]" rows — each a cheap function an import calls per cell (the
registration rules themselves are `dvk.rules`'s).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from fractions import Fraction
from functools import lru_cache
from typing import Any

from dvk.text.numbers import fmt_number
from dvk.rules import entry_id_of
from dvk.text.dates import fmt_date
from dvk.intake.tables.base import fold_header
from dvk.text.normalize import clean, fold, nfc
from dvk.intake.columns import EXAMPLE_MARK


def _text(v: Any) -> str | None:
    """A one-line text cell, NFC with tidy spaces; None when empty."""
    if v is None:
        return None
    if isinstance(v, str):
        return clean_fast(v) or None
    if isinstance(v, bool):
        return "x" if v else None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (dt.date, dt.datetime)):
        return fmt_date(v)
    return clean(str(v)) or None


def _as_text(raw: Any) -> str | None:
    """A text cell as the rules (dvk.rules) take it: a str as typed (they clean it); a number or a
    date as it reads."""
    return raw if raw is None or type(raw) is str else _text(raw)


_is_nfc = unicodedata.is_normalized


def clean_fast(text: str) -> str:
    """`dvk.text.normalize.clean(text)`, returning at once the common text that is already clean.

    Printable text has no tab, line break, NBSP, zero-width or other odd space (they are all
    "Other"/"Separator" characters), so NFC text without double, leading or trailing spaces is
    what `clean` would give back unchanged.
    """
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " " and _is_nfc("NFC", text):
        return text
    return clean(text) or ""


def _shown(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (dt.datetime, dt.date)):
        return fmt_date(v)
    return str(v)


_INT_RE = re.compile(r"\s*(\d{1,6})(?:[.,]0+)?\s*")


def _int(v: Any) -> int | None:
    """An integer cell ("3", 3, 3.0); None when it is not one."""
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        return int(v) if v.is_integer() else None
    if isinstance(v, str):
        m = _INT_RE.fullmatch(v)
        return int(m.group(1)) if m else None
    return None


@lru_cache(maxsize=1024)
def _word(v: Any) -> str:
    """Key to compare a word value: no case, accents, spaces or punctuation ("Mô hình" -> "mohinh")."""
    return fold_header(v)


_KIND_WORDS = {"mohinh": "model", "model": "model", "dienhinh": "exemplar", "exemplar": "exemplar"}


_SUBJECT_WORDS = {"tapthe": "collective", "collective": "collective", "canhan": "individual",
                  "individual": "individual"}


_YES = {"x", "co", "yes", "y", "true", "1", "dotxuat", "sudden", "khongxacnhan", "v"}


_NO = {"", "khong", "no", "n", "false", "0"}


def _flag(v: Any) -> bool | None:
    """A tick cell: "x"/"có"/True/1 -> True, empty/"không"/False/0 -> False, else None."""
    if v is None:
        return False
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        return {1: True, 0: False}.get(v)  # type: ignore[call-overload]
    w = _word(v)
    if w in _YES:
        return True
    if w in _NO:
        return False
    return None


def _is_example(v: Any) -> bool:
    return isinstance(v, str) and nfc(v).lstrip().upper().startswith(EXAMPLE_MARK)


def _entry_id(v: Any) -> str | None:
    """An entry id as typed ("2024-007", "2024-7") in the ledger's spelling (dvk.rules.entry_id_of)."""
    t = _text(v)
    return None if t is None else entry_id_of(t)


def _same_text(a: str | None, b: str | None) -> bool:
    return fold(a or "") == fold(b or "")


def _show_bool(v: Any) -> str:
    return "x" if v else "(trống)"


def _show(v: Any) -> str:
    if v is None or v == "":
        return "(trống)"
    if isinstance(v, bool):
        return _show_bool(v)
    return _shown(v)


def _show_score(v: Any) -> str:
    if v == "":
        return "(trống)"
    if v is None:
        return "na"
    return fmt_number(Fraction(str(v)))
