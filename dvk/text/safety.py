"""What a text field may hold, and how any text is printed on a terminal.

Standard library only and cheap to import (the CLI's printing helpers use it on every command).

* :data:`MAX_LEN` -- the longest text each field accepts (one place for every path: typed
  options, imported files, the domain's validators), :data:`FIELD_LABELS` their names.
* :func:`control_char` / :func:`text_problem` -- a field never holds a control character
  (terminal escapes such as ``ESC ]0;…``, BEL, NUL, DEL, C1, bidi overrides); tab and line breaks
  are whitespace and stay allowed.
* :func:`visible` -- any text about to reach a terminal, with every control character shown as
  an escape (``\\x1b``), for ledgers that hold them already (old data, SQL edits);
  :func:`json_safe` the same for JSON text; :func:`shorten` cuts a value quoted in a message.
"""

from __future__ import annotations

import re

# The longest text each field accepts, in characters after cleaning: typed or imported alike.
MAX_LEN: dict[str, int] = {
    "title": 500,  # tên mô hình, điển hình
    "person": 200,  # họ và tên
    "position": 200,  # chức vụ
    "note": 2000,  # ghi chú
    "unit_code": 40,  # mã đơn vị
    "unit_name": 300,  # tên đơn vị
    "committee": 300,  # cấp ủy
    "confirmed_by": 200,  # người ký xác nhận
    "comment": 5000,  # nhận xét của cấp ủy
    "aspect": 20000,  # each of the five contents of an achievement report
    "reason": 2000,  # lý do (không xác nhận, thu hồi)
    "member": 200,  # thành viên Hội đồng
    "profile": 300,  # each field of the organisation profile
    "recipient": 300,  # one line of "Nơi nhận"
    "user": 200,  # --user / DVK_USER
}
VALUE_SHOWN = 200  # characters of a value quoted in a message ("…" after)
MAX_RECIPIENTS = 50  # lines of "Nơi nhận"
# How each field is named in messages (a caller may name it more precisely: "Cách làm").
FIELD_LABELS: dict[str, str] = {
    "title": "Tên mô hình, điển hình", "person": "Họ và tên", "position": "Chức vụ", "note": "Ghi chú",
    "unit_code": "Mã đơn vị", "unit_name": "Tên đơn vị", "committee": "Tên cấp ủy",
    "confirmed_by": "Người ký xác nhận", "comment": "Nhận xét", "aspect": "Nội dung báo cáo", "reason": "Lý do",
    "member": "Tên thành viên Hội đồng", "profile": "Thông tin đơn vị ban hành", "recipient": "Nơi nhận",
    "user": "Người thực hiện",
}

# Characters no field may hold: C0 controls but tab and line breaks, DEL, C1 controls, and the
# bidirectional embeddings/overrides/isolates that reorder what a terminal shows.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# What is never printed raw: the same, plus the tab and carriage return, and lone surrogates (bytes
# of another encoding kept undecoded), which a UTF-8 terminal cannot even receive.
_UNPRINTABLE_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_SURROGATE_RE = re.compile(r"[\ud800-\udfff]")
_CHAR_NAMES = {0x00: "NUL", 0x07: "BEL", 0x08: "BS", 0x1B: "ESC", 0x7F: "DEL", 0x9B: "CSI", 0x202E: "RLO",
               0x202D: "LRO", 0x2066: "LRI", 0x2067: "RLI", 0x2068: "FSI", 0x2069: "PDI"}


def control_char(s: str) -> str | None:
    """The first character of *s* that no text field may hold (see :data:`MAX_LEN`), or None.

    Tab, line feed and carriage return are allowed: :func:`clean` turns them into spaces, and
    multi-line fields keep their line breaks.
    """
    if s.isprintable():  # the common case: no control, format or separator character at all
        return None
    m = _CONTROL_RE.search(s)
    return m.group() if m else None


def char_name(ch: str) -> str:
    """"U+001B (ESC)": a character named for a message."""
    name = _CHAR_NAMES.get(ord(ch))
    return f"U+{ord(ch):04X}" + (f" ({name})" if name else "")


def text_problem(raw: str, cleaned: str | None, max_len: int) -> str | None:
    """Why a text cannot be stored, as a clause to follow the field's name, or None.

    *raw* is the text as given (control characters are looked for there, before cleaning turns
    some of them into spaces), *cleaned* what would be stored.
    """
    ch = control_char(raw)
    if ch is None and not raw.isprintable():
        bad = _SURROGATE_RE.search(raw)  # bytes of another encoding, kept by Python as lone surrogates
        if bad:
            return (f"có byte không phải Unicode UTF-8 ở vị trí {bad.start() + 1} (cửa sổ lệnh hoặc tệp "
                    "dùng bảng mã khác); hãy nhập lại bằng Unicode")
    if ch is not None:
        return f"có ký tự điều khiển {char_name(ch)} ở vị trí {raw.index(ch) + 1}, không được phép"
    if cleaned and len(cleaned) > max_len:
        return f"quá dài ({len(cleaned)} ký tự, tối đa {max_len})"
    return None


def _escape(m: re.Match[str]) -> str:
    c = ord(m.group())
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def visible(s: str, *, keep_tabs: bool = True) -> str:
    r"""*s* ready for a terminal: every control character shown as an escape (``\x1b``, ``\u202e``).

    Line feeds are kept (multi-line fields, tables); tabs too unless *keep_tabs* is false.
    """
    if s.isprintable():
        return s
    out = _UNPRINTABLE_RE.sub(_escape, s)
    return out if keep_tabs else out.replace("\t", "\\t")


def shorten(s: object, limit: int = VALUE_SHOWN) -> str:
    """*s* cut to *limit* characters with "…" (for a value quoted in a message)."""
    text = str(s)
    return text if len(text) <= limit else text[:limit] + "…"


# What json.dumps(ensure_ascii=False) leaves raw though a terminal must not get it.
_JSON_UNSAFE_RE = re.compile(r"[\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _json_escape(m: re.Match[str]) -> str:
    return f"\\u{ord(m.group()):04x}"


def json_safe(text: str) -> str:
    """JSON text with DEL, C1 controls, bidi controls and lone surrogates written as ``\\uXXXX``.

    These can only occur inside JSON strings, so the result is the same JSON value; json.dumps
    already escapes the C0 controls.
    """
    return _JSON_UNSAFE_RE.sub(_json_escape, text)


_QUOTED_LONG_RE = re.compile("“([^”]{%d})[^”]+”" % VALUE_SHOWN)
MESSAGE_MAX = 3000  # characters of one message line printed at most


def for_message(text: str) -> str:
    """A message ready for the terminal: every quoted value (“…”) cut to VALUE_SHOWN characters, the
    whole cut to MESSAGE_MAX (its end kept: it often says what to do), control characters visible."""
    if len(text) > VALUE_SHOWN:
        text = _QUOTED_LONG_RE.sub(lambda m: f"“{m.group(1)}…”", text)
        if len(text) > MESSAGE_MAX:
            text = text[:MESSAGE_MAX - 400] + " … " + text[-400:]
    return visible(text)
