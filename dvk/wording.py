"""Wording (cách ghi) that dvk prints in more than one place, written once: decision titles and
references ("Quyết định số 05/QĐ-CĐN ngày 15/10/2024"), number formats, and the phrases that
depend on the issuing body (who signs, what its member units are called).

Pure functions of data — a decision's number, the symbol of the organisation profile in force, a
date, the profile's fields, the units' names — with no database and no I/O.  The number formats
are defined in `dvk.text.numbers` (the storage layer prints counts too, and may not import this
module) and offered here with the phrases built on them, so that code above the storage layer
imports all of its wording from one place.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from dvk.text.dates import DateError, fmt_date
from dvk.text.normalize import fold_marks
from dvk.text.numbers import doc_number, fmt_number, fmt_score, thousands

__all__ = [
    "GRASSROOTS", "SECTOR", "decision_note", "decision_number", "decision_ref", "decision_symbol", "decision_title",
    "default_award", "doc_number", "fmt_number", "fmt_score", "inner_quotes", "issuer_name", "issuing_level",
    "members_name", "office_name", "recognition_subject", "recognition_title", "signing_body", "standing_committee", "thousands", "unprintable",
]


# ---------------------------------------------------------------- decisions

def decision_number(number: int | str) -> str:
    """A decision's number as printed: 5 -> "05" (`doc_number`); a text (read back from a file's
    identifier, or a damaged ledger's cell) as it is."""
    if isinstance(number, int) and not isinstance(number, bool) and number >= 1:
        return doc_number(number)
    return str(number)


def _day(day: dt.date | str) -> str:
    """dd/mm/yyyy; a stored text that is not a date is shown as stored."""
    if isinstance(day, str):
        try:
            return fmt_date(day)
        except (DateError, ValueError):
            return day
    return fmt_date(day)


def decision_symbol(number: int | str, symbol: str) -> str:
    """The number and symbol of a decision (số, ký hiệu): ``decision_symbol(5, "CĐN")`` -> "05/QĐ-CĐN"."""
    return f"{decision_number(number)}/QĐ-{symbol}"


def decision_ref(number: int | str, symbol: str, decided_on: dt.date | str) -> str:
    """A decision as documents cite it: "05/QĐ-CĐN ngày 15/10/2024"."""
    return f"{decision_symbol(number, symbol)} ngày {_day(decided_on)}"


def decision_title(number: int | str, symbol: str | None = None, decided_on: dt.date | str | None = None) -> str:
    """"Quyết định số 05/QĐ-CĐN ngày 15/10/2024"; without a date "Quyết định số 05/QĐ-CĐN"; with the
    number only "Quyết định số 05"."""
    if symbol is None:
        return f"Quyết định số {decision_number(number)}"
    if decided_on is None:
        return f"Quyết định số {decision_symbol(number, symbol)}"
    return f"Quyết định số {decision_ref(number, symbol, decided_on)}"


def recognition_title(number: int | str, symbol: str, decided_on: dt.date | str) -> str:
    """The recognition decision named in a message: "Quyết định công nhận số 05/QĐ-CĐN ngày 15/10/2024"."""
    return f"Quyết định công nhận số {decision_ref(number, symbol, decided_on)}"


def decision_note(number: int | str, symbol: str) -> str:
    """The short reference in a list's note column: "QĐ số 05/QĐ-CĐN"."""
    return f"QĐ số {decision_symbol(number, symbol)}"


def recognition_subject(year: int) -> str:
    """What a recognition decision is about (trích yếu): "công nhận mô hình, điển hình “Dân vận khéo” năm 2024"."""
    return f"công nhận mô hình, điển hình “Dân vận khéo” năm {year}"


# ---------------------------------------------------------------- the issuing body

def signing_body(on_behalf: str) -> str:
    """The body a signer signs for, from the "TM." line: "TM. BAN THƯỜNG VỤ" -> "Ban Thường vụ";
    "" when the line is not "TM. …" (a head who signs in their own name)."""
    m = re.match(r"^\s*(?:TM|T/M)\s*\.?\s*(.+)$", on_behalf or "", flags=re.IGNORECASE)
    if not m:
        return ""
    words = m.group(1).split()
    return " ".join([w.capitalize() for w in words[:2]] + [w.lower() for w in words[2:]])


def issuer_name(org: str, on_behalf: str) -> str:
    """Who issues the documents, as their text names it: "Ban Thường vụ Công đoàn ngành Y tế" for a
    body that signs "TM. BAN THƯỜNG VỤ"; the organisation's name otherwise."""
    body = signing_body(on_behalf)
    return f"{body} {org}" if body else org


GRASSROOTS = "grassroots"  # công đoàn cơ sở: its member units are trade-union groups (tổ công đoàn)


SECTOR = "sector"  # công đoàn cấp trên cơ sở (ngành, huyện…): its member units are grassroots unions


def issuing_level(org: str, symbol: str = "") -> str:
    """The level of the issuing union, from its profile: `GRASSROOTS` for a "Công đoàn cơ sở …"
    (or the symbol CĐCS…), `SECTOR` otherwise."""
    name = fold_marks(" ".join((org or "").split()))
    sym = fold_marks(symbol or "")
    if name.startswith(("cong doan co so", "cdcs")) or sym.startswith("cdcs"):
        return GRASSROOTS
    return SECTOR


def members_name(unit_names: Iterable[str], level: str = SECTOR) -> str:
    """How Điều 3 names the member units, from what they are called in the ledger (diacritics
    ignored): "các tổ công đoàn trực thuộc", "các Công đoàn cơ sở trực thuộc" (more than half of
    them); else by the issuing level (a grassroots union's units are its trade-union groups); an
    empty list "các đơn vị trực thuộc"."""
    names = [fold_marks(n or "") for n in unit_names]
    if not names:
        return "các đơn vị trực thuộc"
    groups = sum(n.startswith(("to cong doan", "cong doan bo phan")) for n in names)
    unions = sum(n.startswith(("cong doan", "cdcs")) and not n.startswith("cong doan bo phan") for n in names)
    if groups * 2 > len(names):
        return "các tổ công đoàn trực thuộc"
    if unions * 2 > len(names):
        return "các Công đoàn cơ sở trực thuộc"
    return "các tổ công đoàn trực thuộc" if level == GRASSROOTS else "các đơn vị trực thuộc"


def default_award(level: str, parent_org: str) -> str:
    """The award a phase proposal asks for by default: the parent body's Bằng khen for a sector
    union (proposing to the provincial federation), its Giấy khen for a grassroots union."""
    what = "Giấy khen" if level == GRASSROOTS else "Bằng khen"
    return f"{what} của {' '.join(parent_org.split())}" if parent_org else what


def office_name(org: str) -> str:
    """The office that prepares and files the documents: "Văn phòng Công đoàn ngành Y tế"."""
    return f"Văn phòng {org}"


def standing_committee(org: str) -> str:
    """The standing committee of a body, to which a proposal is addressed: "Ban Thường vụ Liên đoàn Lao động tỉnh"."""
    return f"Ban Thường vụ {org}"


# ---------------------------------------------------------------- text in documents

def inner_quotes(title: str) -> str:
    """A title set inside “…” in a sentence: the quotes it holds become ‘…’ ("Phong trào “Xanh”" ->
    "Phong trào ‘Xanh’"), so the sentence reads “Phong trào ‘Xanh’”."""
    return (title or "").replace("“", "‘").replace("”", "’")


def _font_shows(ch: str) -> bool:
    """Whether Times New Roman (the documents' font) has a glyph for ``ch``: Latin with Vietnamese,
    Greek, Cyrillic, general punctuation, currency, letterlike and arrows, math operators; not
    emoji, pictographs or other scripts."""
    cp = ord(ch)
    return cp < 0x0530 or 0x1E00 <= cp <= 0x1FFF or 0x2000 <= cp <= 0x22FF or 0x2500 <= cp <= 0x25FF \
        or 0xFB00 <= cp <= 0xFB06


def unprintable(text: str) -> list[str]:
    """The characters of ``text`` the documents' font cannot show (emoji…), each once, as
    "😀 (U+1F600)"."""
    out: list[str] = []
    for ch in text or "":
        if not _font_shows(ch) and ch not in "\u200b\u200c\u200d\ufeff\ufe0e\ufe0f":
            label = f"{ch} (U+{ord(ch):04X})"
            if label not in out:
                out.append(label)
    return out
