"""JSON files: a list of objects (or an object whose "entries"/"rows" member is that list), decoded one
element at a time over a sliding buffer; records, strings and integers bounded.
"""

from __future__ import annotations

import codecs
import io
import json
import re
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from dvk.errors import file_reason
from dvk.intake.tables.base import _RECORD_WORD, _is_blank, MAX_CELL_CHARS, Row, SheetInfo, TableError, _Header, _clean_header_cell, _count, _fix_text, _name, _norm, _open_binary, _tuple_new, fold_header

if TYPE_CHECKING:
    from dvk.intake.tables.table import Table

MAX_JSON_RECORD_CHARS = 4 << 20  # one JSON record while it is decoded
MAX_JSON_INT_DIGITS = 100  # a longer JSON integer is not converted (Python refuses 4,300 digits)
_JSON_CHUNK = 1 << 16
_JSON_PEEK = 100  # records looked at to list a JSON file's keys


# -- JSON --------------------------------------------------------------------
class _JsonStream:
    """Yield the elements of a JSON array (top level, or an object's
    "entries"/"rows" member) one at a time, with bounded memory."""

    _WS = re.compile(r"[ \t\r\n]*")

    def __init__(self, stream: TextIO, name: str) -> None:
        self.stream = stream
        self.name = name
        self.buf = ""
        self.pos = 0
        self.eof = False
        self.decoder = json.JSONDecoder(parse_int=_json_int)
        self.count = 0
        self.line0 = 1  # line and column (0-based) where self.buf starts in the file
        self.col0 = 0

    def _more(self, size: int = _JSON_CHUNK) -> bool:
        if self.eof:
            return False
        if self.pos > 0:
            nl = self.buf.count("\n", 0, self.pos)
            if nl:
                self.line0 += nl
                self.col0 = self.pos - self.buf.rfind("\n", 0, self.pos) - 1
            else:
                self.col0 += self.pos
            self.buf = self.buf[self.pos:]
            self.pos = 0
        chunk = self.stream.read(max(size, _JSON_CHUNK))
        if not chunk:
            self.eof = True
            return False
        self.buf += chunk
        return True

    def _skip_ws(self) -> str:
        """Skip whitespace; return the next char ('' at end of input)."""
        while True:
            self.pos = self._WS.match(self.buf, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self._more():
                return ""

    def _where(self) -> str:
        """"dòng 3, cột 7" of the current position."""
        nl = self.buf.count("\n", 0, self.pos)
        col = self.pos - self.buf.rfind("\n", 0, self.pos) if nl else self.col0 + self.pos + 1
        return f"dòng {self.line0 + nl}, cột {col}"

    def _value(self) -> Any:
        while True:
            try:
                obj, end = self.decoder.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as e:
                if len(self.buf) - self.pos > MAX_JSON_RECORD_CHARS:
                    raise TableError(f"Tệp {self.name}: bản ghi {self.count + 1} dài hơn giới hạn "
                                     f"{_count(MAX_JSON_RECORD_CHARS)} ký tự của một bản ghi; không đọc tiếp."
                                     ) from None
                if self._more(min(len(self.buf), MAX_JSON_RECORD_CHARS)):
                    continue
                raise self._error(f"JSON không hợp lệ ({e.msg})") from None
            if end >= len(self.buf) and not self.eof and self._more():
                continue  # a number may go on in the next chunk
            self.pos = end
            return obj

    def _error(self, what: str) -> TableError:
        where = f" ở bản ghi {self.count + 1}" if self.count else ""
        return TableError(f"Tệp {self.name}: {what}{where}.")

    def _expect(self, ch: str) -> None:
        if self._skip_ws() != ch:
            got = self.buf[self.pos] if self.pos < len(self.buf) else "hết tệp"
            raise self._error(f"JSON không hợp lệ (cần “{ch}”, gặp “{got}”)")
        self.pos += 1

    def elements(self) -> Iterator[Any]:
        first = self._skip_ws()
        if first == "":
            raise TableError(f"Tệp {self.name} trống.")
        if first == "{":
            self.pos += 1
            if not self._find_member():
                raise TableError(f"Tệp {self.name} phải là một danh sách bản ghi JSON, hoặc một "
                                 "đối tượng có khóa “entries” hay “rows” chứa danh sách đó.")
        elif first != "[":
            raise TableError(f"Tệp {self.name} phải là một danh sách bản ghi JSON ([…]).")
        self.pos += 1
        if self._skip_ws() == "]":
            self.pos += 1
            self._finish(first == "{")
            return
        while True:
            self._skip_ws()
            value = self._value()
            self.count += 1
            yield value
            nxt = self._skip_ws()
            if nxt == ",":
                self.pos += 1
            elif nxt == "]":
                self.pos += 1
                self._finish(first == "{")
                return
            else:
                raise self._error("JSON không hợp lệ (thiếu dấu phẩy hoặc “]”)")

    def _finish(self, in_object: bool) -> None:
        """After the list: the rest of the enclosing object, then nothing but spaces to the end."""
        if in_object:
            while True:
                nxt = self._skip_ws()
                if nxt == "}":
                    self.pos += 1
                    break
                if nxt != ",":
                    raise self._trailing()
                self.pos += 1
                self._skip_ws()
                self._value()
                self._expect(":")
                self._skip_ws()
                self._value()
        if self._skip_ws() != "":
            raise self._trailing()

    def _trailing(self) -> TableError:
        shown = "".join(c if c.isprintable() else " " for c in self.buf[self.pos:self.pos + 20]).strip()
        return TableError(f"Tệp {self.name} có nội dung thừa sau danh sách bản ghi JSON ({self._where()}: "
                          f"“{shown}…”); hãy sửa lại tệp.")

    def _find_member(self) -> bool:
        """Inside a top-level object: move to the '[' of entries/rows."""
        if self._skip_ws() == "}":
            return False
        while True:
            self._skip_ws()
            key = self._value()
            self._expect(":")
            nxt = self._skip_ws()
            if isinstance(key, str) and key.strip().lower() in ("entries", "rows") and nxt == "[":
                return True
            self._value()
            nxt = self._skip_ws()
            if nxt == ",":
                self.pos += 1
                continue
            if nxt == "}":
                return False
            raise self._error("JSON không hợp lệ (thiếu dấu phẩy hoặc “}”)")


class LongNumber:
    """A JSON integer longer than MAX_JSON_INT_DIGITS, kept as its digits (never converted): the
    importer reports it as a problem of its row and column."""

    __slots__ = ("digits",)

    def __init__(self, digits: str) -> None:
        self.digits = digits

    def __str__(self) -> str:
        return self.digits

    def __repr__(self) -> str:
        return f"LongNumber({len(self.digits)} digits)"


def _json_int(text: str) -> Any:
    return int(text) if len(text) <= MAX_JSON_INT_DIGITS else LongNumber(text)


def _open_json_text(p: Path) -> TextIO:
    f = _open_binary(p)
    try:
        head = f.read(4)
        f.seek(0)
    except OSError as e:
        f.close()
        raise TableError(f"Không đọc được tệp {_name(p)}: {file_reason(e)}.") from None
    if head.startswith(codecs.BOM_UTF8):
        enc = "utf-8-sig"
    elif head.startswith(codecs.BOM_UTF16_LE) or head.startswith(codecs.BOM_UTF16_BE):
        enc = "utf-16"
    else:
        enc = "utf-8"
    return io.TextIOWrapper(f, encoding=enc)


def _json_rows(table: Table, lookup: dict[str, str]) -> Iterator[tuple[int, Any]]:
    """(index, element) pairs, with every failure turned into TableError."""
    p = table.path
    stream = _open_json_text(p)
    js = _JsonStream(stream, _name(p))
    try:
        for n, element in enumerate(js.elements(), 1):
            yield n, element
    except UnicodeDecodeError:
        raise TableError(f"Tệp {_name(p)} không phải văn bản UTF-8 (JSON phải được lưu bằng "
                         "UTF-8).") from None
    except RecursionError:
        raise TableError(f"Tệp {_name(p)}: JSON lồng nhau quá sâu.") from None
    except OSError as e:
        raise TableError(f"Lỗi khi đọc tệp {_name(p)}: {file_reason(e)}.") from None
    finally:
        stream.close()


def _setup_json(table: Table, lookup: dict[str, str]) -> None:
    p = table.path
    keys = table.keys
    gen = _json_rows(table, lookup)
    try:
        peek = list(islice(gen, _JSON_PEEK))
    finally:
        gen.close()
    h = _Header()
    seen: dict[str, None] = {}
    for _n, obj in peek:
        if isinstance(obj, dict):
            for k in obj:
                seen.setdefault(str(k), None)
    for k in seen:
        text, enc = _clean_header_cell(k)
        if enc:
            h.legacy[text] = enc
        key = lookup.get(fold_header(text))
        if key is None:
            h.unknown.append(text)
        elif key not in h.index:  # objects may spell a key differently
            h.index[key] = len(h.texts)
        h.texts.append(text)
    if peek and not h.index and lookup:
        raise TableError(f"Tệp {_name(p)}: không có khóa nào khớp với các tên cột mong đợi "
                         "(xét 100 bản ghi đầu).")
    position = {t: i for i, t in reversed(list(enumerate(h.texts)))}
    for _n, obj in peek:  # two keys of one object for one column ("G1" and "g1")
        if isinstance(obj, dict) and len(obj) > 1:
            mine: dict[str, list[int]] = {}
            for k in obj:
                text = _clean_header_cell(k)[0]
                key = lookup.get(fold_header(text))
                if key is not None and text in position:
                    mine.setdefault(key, []).append(position[text])
            for key, cols in mine.items():
                if len(cols) > 1 and key not in h.duplicates:
                    h.duplicates[key] = cols
    info = SheetInfo(None, 0, h, keys)
    table.encoding = "utf-8"
    table.sheet_info = [info]
    key_cache: dict[str, str | None] = {}

    def key_of(k: str) -> str | None:
        try:
            return key_cache[k]
        except KeyError:
            text, _enc = _clean_header_cell(k)
            canon = lookup.get(fold_header(text))
            key_cache[k] = canon
            if canon is None and text and text not in info.unknown_headers:
                info.unknown_headers.append(text)
            return canon

    def convert(n: int, obj: Any, checked: bool, unescape: bool) -> Row | None:
        if not isinstance(obj, dict):
            raise TableError(f"Tệp {_name(p)}: bản ghi {n} không phải một đối tượng JSON "
                             "({…}).")
        values: dict[str, Any] = dict.fromkeys(keys)
        leg: dict[str, str] = {}
        for k, v in obj.items():
            canon = key_of(k)
            if canon is None or values[canon] is not None:
                continue
            if isinstance(v, str):
                if len(v) > MAX_CELL_CHARS:
                    raise TableError(f"Tệp {_name(p)}: bản ghi {n}, khóa “{k}” dài hơn giới hạn "
                                     f"{_count(MAX_CELL_CHARS)} ký tự của một ô.")
                v = _norm("NFC", v).strip() or None
                if v is not None and checked:
                    v = _fix_text(v, leg, canon, None, unescape)
            values[canon] = v
        if all(v is None for v in values.values()) and all(map(_is_blank, obj.values())):
            return None
        return _tuple_new(Row, (n, values, leg, None, _RECORD_WORD))

    def iterate() -> Iterator[Row]:
        unescape = table.is_rejects
        mode = table._legacy_mode
        checked = mode is not False
        found = False
        for n, obj in _json_rows(table, lookup):
            row = convert(n, obj, checked, unescape)
            if row is None:
                continue
            if row[2]:
                found = True
            if mode is None and not found and n >= table.legacy_probe_rows:
                checked = unescape
            yield row

    table._iter_impl = iterate
