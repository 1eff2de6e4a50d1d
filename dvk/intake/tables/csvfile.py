"""CSV and TSV files: the encoding sniffed from the first 64 KiB (UTF-8 with or without BOM, UTF-16,
else Windows-1258), the delimiter chosen by the header row, lines bounded, parsed line by line.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from dvk.errors import file_reason
from dvk.text.legacy import _MODERN_RE
from dvk.intake.tables.base import HEADER_SCAN_ROWS, MAX_CELL_CHARS, Row, SheetInfo, TableError, _Header, _LINE_WORD, _count, _fix_text, _legacy_iter, _name, _no_header, _norm, _open_binary, _pick_header, _tuple_new

if TYPE_CHECKING:
    from dvk.intake.tables.table import Table

MAX_LINE_CHARS = 4 << 20  # one physical line of a CSV file
_HEAD_BYTES = 1 << 16
_DELIMITERS = ("\t", ";", ",")  # order breaks ties


# ---------------------------------------------------------------------------
# Text decoding
# ---------------------------------------------------------------------------
def _sniff_encoding(head: bytes, name: str) -> str:
    """Encoding of a text file from its first bytes (see module doc)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith(codecs.BOM_UTF16_LE) or head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16"
    if head.startswith(b"PK\x03\x04"):
        raise TableError(f"Tệp {name} là tệp Excel (.xlsx) nhưng mang đuôi văn bản; "
                         "hãy đổi đuôi thành .xlsx.")
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise TableError(f"Tệp {name} là tệp Excel 97-2003 (.xls) nhưng mang đuôi văn bản; "
                         "hãy mở bằng Excel và lưu lại thành .xlsx hoặc CSV UTF-8.")
    if b"\x00" in head:
        sample = head[: len(head) - (len(head) % 2)]
        half = max(1, len(sample) // 2)
        odd_zeros, even_zeros = sample[1::2].count(0), sample[0::2].count(0)
        if odd_zeros > half * 0.3 and even_zeros < half * 0.05:
            return "utf-16-le"
        if even_zeros > half * 0.3 and odd_zeros < half * 0.05:
            return "utf-16-be"
        raise TableError(f"Tệp {name} không phải tệp văn bản (CSV) — có thể là tệp nhị phân "
                         "hoặc bị hỏng.")
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "cp1258"
    return "utf-8"


def _utf8_all_valid(f: Any) -> bool:
    dec = codecs.getincrementaldecoder("utf-8")()
    try:
        while True:
            chunk = f.read(1 << 20)
            if not chunk:
                dec.decode(b"", final=True)
                return True
            if chunk.isascii():
                continue
            dec.decode(chunk)
    except UnicodeDecodeError:
        return False


def _choose_encoding(f: Any, head: bytes, name: str) -> str:
    enc = _sniff_encoding(head, name)
    if enc == "utf-8" and head.isascii() and len(head) == _HEAD_BYTES:
        # the first chunk says nothing: make sure the rest is UTF-8 too
        if not _utf8_all_valid(f):
            enc = "cp1258"
    return enc


def _decode_head(head: bytes, encoding: str, complete: bool, name: str) -> str:
    dec = codecs.getincrementaldecoder(encoding)()
    try:
        text = dec.decode(head, final=complete)
    except UnicodeDecodeError as e:
        raise TableError(f"Tệp {name} có byte không giải mã được theo bảng mã {encoding} "
                         f"(vị trí {e.start}); hãy lưu lại dưới dạng CSV UTF-8.") from None
    if not complete:
        cut = max(text.rfind("\n"), text.rfind("\r"))
        if cut > 0:
            text = text[:cut + 1]
    return text


def decode_csv_bytes(data: bytes, name: str = "dữ liệu") -> tuple[str, str]:
    """Decode a whole CSV file's bytes: ``(NFC text, encoding)``."""
    enc = _sniff_encoding(data[:_HEAD_BYTES], _name(name))
    if enc == "utf-8" and not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            enc = "cp1258"
    try:
        text = data.decode(enc)
    except UnicodeDecodeError as e:
        raise TableError(f"Tệp {_name(name)} có byte không giải mã được ({enc}, vị trí {e.start}); "
                         "hãy lưu lại dưới dạng CSV UTF-8.") from None
    return unicodedata.normalize("NFC", text), enc


def open_csv_text(path: str | os.PathLike[str]) -> tuple[TextIO, str]:
    """Open a CSV file as a text stream (newline="") with the sniffed encoding.

    Only the first 64 KiB are read to decide (plus, for a file whose first
    chunk is pure ASCII, one streamed validation pass).  Text is not
    NFC-normalised here: :func:`read_table` does it cell by cell.
    """
    p = Path(path)
    f = _open_binary(p)
    try:
        head = f.read(_HEAD_BYTES)
        enc = _choose_encoding(f, head, _name(p))
        f.seek(0)
    except TableError:
        f.close()
        raise
    except OSError as e:
        f.close()
        raise TableError(f"Không đọc được tệp {_name(p)}: {file_reason(e)}.") from None
    return io.TextIOWrapper(f, encoding=enc, newline=""), enc


def _compile_csv_loop(keys: Sequence[str], index: Mapping[str, int], checked: bool) -> Any:
    """Build the per-row loop for a given header (the CSV/JSON hot path).

    Generated so that each column is a local expression and the values dict
    is a literal with constant keys — about twice as fast as a generic loop.
    Only ints from ``index`` and ``repr`` of keys are pasted into the code.
    """
    width = max(index.values(), default=-1) + 1
    body: list[str] = []
    for n, key in enumerate(keys):
        if key in index:
            i = int(index[key])
            body.append(f"v{n} = norm('NFC', row[{i}]).strip() or None")
            if checked:
                body.append(f"if v{n} is not None and (unescape or not (v{n}.isascii() or "
                            f"modern(v{n}))): v{n} = fix(v{n}, leg, {key!r}, None, unescape)")
        else:
            body.append(f"v{n} = None")
    dict_src = "{" + ", ".join(f"{k!r}: v{n}" for n, k in enumerate(keys)) + "}"
    all_none = " and ".join(f"v{n} is None" for n in range(len(keys))) or "True"
    # a short row (fewer cells than the header) raises IndexError: pad it and
    # redo the row; the try block costs nothing on the normal path
    cells = ["            " + b for b in body]
    src = [
        "def _loop(it, norm, tnew, Row, word, fix, unescape, found, modern=_MODERN_SEARCH):",
        "    pad = [''] * %d" % width,
        "    for line, row in it:",
        "        if not any(row):",
        "            continue",
        "        leg = {}",
        "        try:",
        *cells,
        "        except IndexError:",
        "            row = row + pad",
        *cells,
        f"        d = {dict_src}",
        f"        if {all_none} and not any(c.strip() for c in row):",
        "            continue",
        *(["        if leg:", "            found[0] = True"] if checked else []),
        "        yield tnew(Row, (line, d, leg, None, word))",
    ]
    ns: dict[str, Any] = {"_MODERN_SEARCH": _MODERN_RE.search}
    exec(compile("\n".join(src), "<dvk.tabular csv loop>", "exec"), ns)  # noqa: S102
    return ns["_loop"]


# -- CSV ---------------------------------------------------------------------
def _csv_records(text: str, delimiter: str) -> list[list[str]]:
    try:
        return list(islice(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter),
                           HEADER_SCAN_ROWS + 1))
    except csv.Error:
        return []


def _setup_csv(table: Table, lookup: dict[str, str]) -> None:
    p = table.path
    f = _open_binary(p)
    try:
        head = f.read(_HEAD_BYTES)
        complete = len(head) < _HEAD_BYTES
        enc = _choose_encoding(f, head, _name(p))
    except OSError as e:
        raise TableError(f"Không đọc được tệp {_name(p)}: {file_reason(e)}.") from None
    finally:
        f.close()
    text = _decode_head(head, enc, complete, _name(p))
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise TableError(f"Tệp {_name(p)} trống: không có dòng tiêu đề.")
    text = unicodedata.normalize("NFC", text)

    skip = 0
    candidates: tuple[str, ...] = _DELIMITERS
    first_line = text.lstrip("\r\n").split("\n", 1)[0].strip().strip('"')
    m = re.fullmatch(r"(?i)sep=(.|\\t)", first_line)
    if m:  # Excel's "sep=;" hint line: not a row of the sheet
        candidates = ("\t" if m.group(1) == "\\t" else m.group(1),)
        skip = 1
    best: tuple[tuple[int, int, int], str, int, _Header] | None = None
    for prio, d in enumerate(reversed(candidates)):
        records = _csv_records(text, d)[skip:]
        found = _pick_header(((n, r, None) for n, r in enumerate(records[:HEADER_SCAN_ROWS], 1)),
                             lookup)
        if found is None:
            continue
        number, h = found
        score = (len(h.index), len([t for t in h.texts if t]), prio)
        if best is None or score > best[0]:
            best = (score, d, number, h)
    if best is None:
        if not re.sub(r'[\s;,"|]+', "", text):
            raise TableError(f"Tệp {_name(p)} trống: không có dòng tiêu đề.")
        raise _no_header(p, lookup)
    _, delimiter, header_line, header = best
    table.encoding = enc
    table.delimiter = delimiter
    table.sheet_info = [SheetInfo(None, header_line, header, table.keys)]
    keys = table.keys
    fast = _compile_csv_loop(keys, header.index, checked=False)
    checked = _compile_csv_loop(keys, header.index, checked=True)

    def iterate() -> Iterator[Row]:
        stream = io.TextIOWrapper(_open_binary(p), encoding=enc, newline="")
        reader = csv.reader(_bounded_lines(stream, MAX_LINE_CHARS), delimiter=delimiter)
        field_limit = csv.field_size_limit(MAX_CELL_CHARS)
        try:
            for _ in range(skip + header_line):
                next(reader, None)
            it = enumerate(reader, header_line + 1)
            args = (_norm, _tuple_new, Row, _LINE_WORD, _fix_text, table.is_rejects, [False])
            yield from _legacy_iter(table, it, fast, checked, args)
        except _LineTooLong:
            raise TableError(f"Tệp {_name(p)}: dòng {reader.line_num + 1} dài hơn giới hạn "
                             f"{_count(MAX_LINE_CHARS)} ký tự của một dòng (tệp không phải CSV, hoặc thiếu "
                             "dấu xuống dòng); không đọc tiếp.") from None
        except csv.Error as e:
            if "field larger than field limit" in str(e):
                raise TableError(f"Tệp {_name(p)}: một ô ở khoảng dòng {reader.line_num} dài hơn giới hạn "
                                 f"{_count(MAX_CELL_CHARS)} ký tự của một ô (có thể thiếu dấu ngoặc kép đóng)."
                                 ) from None
            raise TableError(f"Tệp {_name(p)} bị lỗi định dạng CSV ở khoảng dòng "
                             f"{reader.line_num}: {e}.") from None
        except UnicodeDecodeError:
            raise TableError(f"Tệp {_name(p)} có ký tự không giải mã được theo bảng mã {enc} "
                             f"(khoảng dòng {reader.line_num + 1}); hãy lưu lại dưới dạng "
                             "CSV UTF-8.") from None
        except OSError as e:
            raise TableError(f"Lỗi khi đọc tệp {_name(p)} (khoảng dòng {reader.line_num + 1}): "
                             f"{file_reason(e)}.") from None
        finally:
            csv.field_size_limit(field_limit)
            stream.close()

    table._iter_impl = iterate


class _LineTooLong(Exception):
    """A physical line of a CSV file longer than MAX_LINE_CHARS."""


def _bounded_lines(stream: TextIO, limit: int) -> Iterator[str]:
    """The lines of `stream`, each read with a bound: a line without end is never held whole."""
    readline = stream.readline
    while True:
        line = readline(limit)
        if len(line) >= limit and line[-1] not in "\r\n":
            raise _LineTooLong
        if not line:
            return
        yield line
