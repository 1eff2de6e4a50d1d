"""Reading and writing the tables clerks exchange: .xlsx/.xlsm, .csv/.txt, .json.

Pure I/O and text, no database.  Everything is streamed so that a million-row
file is read in bounded memory:

* **CSV** is decoded from a first 64 KiB chunk (UTF-8 with BOM, UTF-16 LE/BE
  with BOM — Excel's "Unicode text", usually TAB-separated —, UTF-16 without
  BOM, plain UTF-8, else Windows-1258), then the binary file is wrapped in a
  ``TextIOWrapper`` and parsed by :mod:`csv` line by line.  The delimiter
  (``;``, ``,`` or TAB, or an Excel ``sep=`` first line) is chosen by looking
  for the header row with each candidate.
* **XLSX** is read with openpyxl in read-only mode (rows are streamed; note
  that openpyxl keeps the workbook's shared-strings table in memory).
* **JSON** (a list of objects, or an object whose ``"entries"``/``"rows"``
  member is that list) is streamed too: elements are decoded one at a time
  with :meth:`json.JSONDecoder.raw_decode` over a sliding buffer.

Public API::

    read_table(path, columns, *, sheet=None, legacy=None) -> Table
    Table: iterable of Row; .headers .columns .unknown_headers .missing
           .format .encoding .delimiter .sheet_info .header_line
           .reject_headers() .original(row) .close()
    Row(line, values, legacy, sheet=None, kind="line"): .location .where .get()
    TableError(message)                        # Vietnamese message
    fold_header(text) -> str                   # header comparison key
    decode_csv_bytes(data) -> (text, encoding) # whole-bytes helper
    open_csv_text(path) -> (text_stream, encoding)
    write_rejects(path, fmt, headers, rows, reason_key="reason", *,
                  delimiter=None, reason_header="Lý do") -> Path
    atomic_write_path(final) -> context manager yielding a temp Path
    check_regular_file(path) -> os.stat_result  # TableError unless a regular file within MAX_INPUT_BYTES
    LongNumber                                  # a JSON integer too long to convert

Every input is bounded (the MAX_* constants below): a file that would make dvk hold more is
refused with a message naming the file and the limit, before the bytes are read.

Header matching ignores case, diacritics (đ counts as d), spaces and
punctuation: "MÃ ĐƠN VỊ (*)", "ma don vi", "Mã_đơn_vị:" are the same header.
Each header may sit in any of the first 20 rows (forms often start with a
title); row numbers stay those the spreadsheet shows.
"""

from __future__ import annotations

import codecs
import csv
import datetime as _dt
import io
import json
import os
import re
import stat
import tempfile
import unicodedata
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from itertools import islice
from operator import itemgetter
from pathlib import Path
from typing import Any, TextIO

from dvk.errors import file_reason
from dvk.text.legacy import _MODERN_RE, fix_legacy, legacy_font, might_be_legacy

__all__ = [
    "TableError",
    "Row",
    "Table",
    "SheetInfo",
    "read_table",
    "fold_header",
    "decode_csv_bytes",
    "open_csv_text",
    "write_rejects",
    "atomic_write_path",
    "check_regular_file",
    "LongNumber",
    "REASON_HEADER",
    "INSTRUCTIONS_SHEET",
]

REASON_HEADER = "Lý do"
INSTRUCTIONS_SHEET = "Hướng dẫn"
HEADER_SCAN_ROWS = 20  # the header row is looked for among the first rows

# Bounds on what an input file may make dvk read and hold (issue 9: a 1 MB .xlsx held 1 GiB in one
# cell). Generous for a million real rows (bench/import_bench.py: 1,000,000 registrations are a
# 140 MB CSV, or an .xlsx whose sheet unzips to 550 MB); beyond them the file is refused with a
# message naming it and the limit, before the bytes are read into memory.
MAX_INPUT_BYTES = 1 << 30  # any input file on disk (CSV, JSON, XLSX)
MAX_CELL_CHARS = 100_000  # one cell, CSV field or JSON string (a report's aspect takes 20,000)
MAX_LINE_CHARS = 4 << 20  # one physical line of a CSV file
MAX_JSON_RECORD_CHARS = 4 << 20  # one JSON record while it is decoded
MAX_JSON_INT_DIGITS = 100  # a longer JSON integer is not converted (Python refuses 4,300 digits)
MAX_XLSX_UNCOMPRESSED = 4 << 30  # all members of an .xlsx together, unzipped
MAX_XLSX_SHEET_BYTES = 2 << 30  # one worksheet part, unzipped (read as a stream)
MAX_SHARED_STRINGS_BYTES = 256 << 20  # the shared-strings part, unzipped (openpyxl holds it all)
MAX_SHARED_STRINGS = 3_000_000  # entries of the shared-strings table
MAX_XLSX_PART_BYTES = 64 << 20  # any other XML part (styles, workbook…), parsed whole
MAX_XLSX_RATIO = 200  # unzipped / zipped size of one member (real sheets: 5–30)…
XLSX_RATIO_FROM = 16 << 20  # …for members that unzip to more than this
MAX_XLSX_SHEET_ROWS = 1_048_576  # rows of one sheet (Excel's own limit)
MAX_XLSX_CELLS = 60_000_000  # cells read from all sheets together (a million rows of 60 columns)
XLSX_RUN_BYTES = 1 << 20  # an XML text run this long (no "<" in it) is refused before parsing
LEGACY_PROBE_ROWS = 1000  # CSV/JSON: rows checked cell by cell for TCVN3/VNI
_HEAD_BYTES = 1 << 16
_JSON_CHUNK = 1 << 16
_JSON_PEEK = 100  # records looked at to list a JSON file's keys

_CSV_EXT = {".csv", ".txt", ".tsv"}
_XLSX_EXT = {".xlsx", ".xlsm"}
_JSON_EXT = {".json"}
_DELIMITERS = ("\t", ";", ",")  # order breaks ties

_LINE_WORD = "dòng"
_RECORD_WORD = "bản ghi"


# ---------------------------------------------------------------------------
# Errors and rows
# ---------------------------------------------------------------------------
class TableError(Exception):
    """A file that cannot be read or written; ``message`` is Vietnamese."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _name(path: Path | str) -> str:
    return f"“{path}”"


class Row(tuple):
    """One data row: ``Row(line, values, legacy, sheet=None, kind="line")``.

    ``line`` is the row number the spreadsheet shows (header row = 1 when it
    is the first row) or, for JSON, the 1-based index of the object.
    ``values`` maps every canonical key to the cell value (None when empty or
    when the column is missing); ``legacy`` maps keys whose text was converted
    from TCVN3/VNI to the encoding name.  A tuple underneath, for speed.
    """

    __slots__ = ()

    def __new__(cls, line: int, values: dict[str, Any], legacy: dict[str, str] | None = None,
                sheet: str | None = None, kind: str = "line") -> Row:
        word = _RECORD_WORD if kind == "record" else _LINE_WORD
        return tuple.__new__(cls, (line, values, {} if legacy is None else legacy, sheet, word))

    line: int = property(itemgetter(0))  # type: ignore[assignment]
    values: dict[str, Any] = property(itemgetter(1))  # type: ignore[assignment]
    legacy: dict[str, str] = property(itemgetter(2))  # type: ignore[assignment]
    sheet: str | None = property(itemgetter(3))  # type: ignore[assignment]

    @property
    def kind(self) -> str:
        return "record" if self[4] == _RECORD_WORD else "line"

    @property
    def location(self) -> str:
        """``"dòng 5"`` (CSV/XLSX) or ``"bản ghi 5"`` (JSON)."""
        return f"{self[4]} {self[0]}"

    @property
    def where(self) -> str:
        """Like :attr:`location`, naming the sheet when there is one."""
        if self[3]:
            return f"trang tính “{self[3]}”, {self[4]} {self[0]}"
        return self.location

    def get(self, key: str, default: Any = None) -> Any:
        v = self[1].get(key)
        return default if v is None else v

    def __repr__(self) -> str:
        extra = f", sheet={self[3]!r}" if self[3] else ""
        return f"Row(line={self[0]}, values={self[1]!r}, legacy={self[2]!r}{extra})"

    def __getnewargs__(self) -> tuple[Any, ...]:  # pickling/copy
        return (self[0], self[1], self[2], self[3], self.kind)


_tuple_new = tuple.__new__


# ---------------------------------------------------------------------------
# Header matching
# ---------------------------------------------------------------------------
_NON_ALNUM = re.compile(r"[\W_]+")


def fold_header(text: object) -> str:
    """Header comparison key: no case, accents, đ→d, spaces or punctuation."""
    if text is None:
        return ""
    s = unicodedata.normalize("NFD", str(text))
    s = "".join(c for c in s if not unicodedata.combining(c))
    s = s.replace("đ", "d").replace("Đ", "d").replace("ð", "d").replace("Ð", "d").lower()
    return _NON_ALNUM.sub("", s)


def _spelling_map(columns: Mapping[str, Sequence[str]]) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for key, spellings in columns.items():
        if isinstance(spellings, str):
            spellings = [spellings]
        for sp in [key, *spellings]:
            f = fold_header(sp)
            if not f:
                continue
            other = lookup.setdefault(f, key)
            if other != key:
                raise ValueError(f"header spelling {sp!r} is given for both {other!r} and {key!r}")
    return lookup


class _Header:
    """Result of matching one header row."""

    __slots__ = ("texts", "index", "unknown", "legacy", "duplicates")

    def __init__(self) -> None:
        self.texts: list[str] = []  # cleaned header texts, file order
        self.index: dict[str, int] = {}  # key -> 0-based column
        self.unknown: list[str] = []
        self.legacy: dict[str, str] = {}  # header text -> encoding
        self.duplicates: dict[str, list[int]] = {}  # key -> every 0-based column matching it (2 or more)


def _clean_header_cell(value: object, font_name: str | None = None) -> tuple[str, str | None]:
    if value is None:
        return "", None
    text = value if isinstance(value, str) else str(value)
    enc = None
    if not text.isascii():
        text, enc = fix_legacy(text, font_name)
    return " ".join(text.split()), enc


def _match_header(cells: Sequence[object], lookup: dict[str, str],
                  fonts: Sequence[str | None] | None = None) -> _Header:
    h = _Header()
    for i, raw in enumerate(cells):
        text, enc = _clean_header_cell(raw, fonts[i] if fonts else None)
        h.texts.append(text)
        if not text:
            continue
        if enc:
            h.legacy[text] = enc
        key = lookup.get(fold_header(text))
        if key is not None and key not in h.index:
            h.index[key] = i
        else:
            if key is not None:  # a second column for one key: only the first is read
                h.duplicates.setdefault(key, [h.index[key]]).append(i)
            h.unknown.append(text)
    return h


def _pick_header(candidates: Iterable[tuple[int, Sequence[object], Sequence[str | None] | None]],
                 lookup: dict[str, str]) -> tuple[int, _Header] | None:
    """Best-matching row among (row_number, cells, fonts); ties: the earliest."""
    best: tuple[int, _Header] | None = None
    for number, cells, fonts in candidates:
        if not any(c not in (None, "") for c in cells):
            continue
        h = _match_header(cells, lookup, fonts)
        if not lookup and best is None:
            return number, h
        if h.index and (best is None or len(h.index) > len(best[1].index)):
            best = (number, h)
    return best


class SheetInfo:
    """Where the header of one sheet (or of the CSV/JSON file) was found."""

    __slots__ = ("name", "header_line", "headers", "columns", "unknown_headers", "missing",
                 "legacy_headers", "duplicates")

    def __init__(self, name: str | None, header_line: int, h: _Header,
                 keys: Sequence[str]) -> None:
        self.name = name
        self.header_line = header_line
        self.headers = [t for t in h.texts if t]
        self.columns = {k: h.texts[i] for k, i in h.index.items()}
        self.unknown_headers = list(h.unknown)
        self.missing = [k for k in keys if k not in h.index]
        self.legacy_headers = dict(h.legacy)
        # key -> [(0-based column, header text), ...] for a key two or more columns match
        self.duplicates = {k: [(i, h.texts[i]) for i in cols] for k, cols in h.duplicates.items()}

    def __repr__(self) -> str:
        return (f"SheetInfo(name={self.name!r}, header_line={self.header_line}, "
                f"missing={self.missing!r}, unknown_headers={self.unknown_headers!r})")


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


def _open_binary(p: Path) -> Any:
    """Open an input file for reading; only a regular file (a FIFO or a device is refused without
    waiting on it: opened non-blocking, checked, then read as usual)."""
    try:
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
        fd = os.open(p, flags)
        try:
            check_regular_file(p, os.fstat(fd))
            if flags & getattr(os, "O_NONBLOCK", 0):
                os.set_blocking(fd, True)
            return os.fdopen(fd, "rb")
        except BaseException:
            os.close(fd)
            raise
    except FileNotFoundError:
        raise TableError(f"Không tìm thấy tệp {_name(p)}.") from None
    except IsADirectoryError:
        raise TableError(f"{_name(p)} là một thư mục, không phải tệp.") from None
    except PermissionError:
        raise TableError(f"Không có quyền đọc tệp {_name(p)}.") from None
    except OSError as e:
        raise TableError(f"Không mở được tệp {_name(p)}: {file_reason(e)}.") from None


def _size(n: int) -> str:
    """A size for messages: "1 GB", "256 MB", "3,5 MB", "200 byte"."""
    for unit, shift in (("GB", 30), ("MB", 20), ("KB", 10)):
        if n >= 1 << shift:
            return f"{n / (1 << shift):.1f}".rstrip("0").rstrip(".").replace(".", ",") + f" {unit}"
    return f"{n} byte"


def _count(n: int) -> str:
    """A count for messages, Vietnamese style: 1.048.576."""
    return f"{n:,}".replace(",", ".")


_NOT_REGULAR = ((stat.S_ISFIFO, "một ống dẫn (FIFO)"), (stat.S_ISCHR, "một thiết bị"), (stat.S_ISBLK, "một thiết bị"),
                (stat.S_ISSOCK, "một socket"))


def check_regular_file(p: Path, st: os.stat_result | None = None) -> os.stat_result:
    """Refuse (TableError) an input that is not a regular file or is bigger than MAX_INPUT_BYTES.

    Nothing is opened: a FIFO with no writer or a device is refused at once, not waited on.
    """
    if st is None:
        try:
            st = os.stat(p)
        except FileNotFoundError:
            raise TableError(f"Không tìm thấy tệp {_name(p)}.") from None
        except PermissionError:
            raise TableError(f"Không có quyền đọc tệp {_name(p)}.") from None
        except OSError as e:
            raise TableError(f"Không mở được tệp {_name(p)}: {file_reason(e)}.") from None
    if stat.S_ISDIR(st.st_mode):
        raise TableError(f"{_name(p)} là một thư mục, không phải tệp.")
    if not stat.S_ISREG(st.st_mode):
        what = next((w for test, w in _NOT_REGULAR if test(st.st_mode)), "một tệp đặc biệt")
        raise TableError(f"{_name(p)} không phải là tệp thường (đây là {what}); hãy nhập từ một tệp .xlsx, .csv "
                         "hoặc .json đã lưu trên đĩa.")
    if st.st_size > MAX_INPUT_BYTES:
        raise TableError(f"Tệp {_name(p)} có dung lượng {_size(st.st_size)}, vượt giới hạn {_size(MAX_INPUT_BYTES)} "
                         "của một tệp nhập; hãy chia thành nhiều tệp nhỏ hơn.")
    return st


# ---------------------------------------------------------------------------
# Cell cleaning
# ---------------------------------------------------------------------------
_norm = unicodedata.normalize
_FORMULA_START = frozenset("=+-@")


def _fix_text(v: str, legacy: dict[str, str], key: str, font: str | None = None,
              unescape: bool = False) -> str | None:
    """Legacy conversion (+ apostrophe unescape) of a cleaned, non-empty text."""
    if unescape and len(v) > 1 and v[0] == "'" and v[1] in _FORMULA_START:
        v = v[1:]
    if not v.isascii() and (font is not None or might_be_legacy(v)):
        fixed, enc = fix_legacy(v, font)
        if enc:
            legacy[key] = enc
            v = fixed.strip()
    return v or None


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


# ---------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------
class Table:
    """A streamed table; iterate it for :class:`Row` objects.

    Attributes: ``path``, ``format`` ("csv"/"xlsx"/"json"), ``keys`` (the
    canonical keys asked for), ``headers`` (header texts as found, NFC),
    ``columns`` (key → header text found), ``unknown_headers``, ``missing``
    (keys with no column), ``legacy_headers``, ``header_line``, ``encoding``
    and ``delimiter`` (CSV), ``sheet`` (the sheet read, or "*"),
    ``sheet_info`` (one :class:`SheetInfo` per sheet read),
    ``skipped_sheets`` (sheets with no recognisable header, for ``sheet="*"``),
    ``is_rejects`` (the file has a "Lý do" column: one of our rejects files).
    """

    def __init__(self, path: Path, fmt: str, keys: list[str]) -> None:
        self.path = path
        self.format = fmt
        self.keys = keys
        self.encoding: str | None = None
        self.delimiter: str | None = None
        self.sheet: str | None = None
        self.sheet_info: list[SheetInfo] = []
        self.skipped_sheets: list[str] = []
        self.legacy_probe_rows = LEGACY_PROBE_ROWS
        self._legacy_mode: bool | None = None
        self._iter_impl: Any = None
        self._closer: Any = None

    # -- summary over sheets ------------------------------------------------
    @property
    def header_line(self) -> int:
        return self.sheet_info[0].header_line if self.sheet_info else 0

    @property
    def headers(self) -> list[str]:
        return self.sheet_info[0].headers if self.sheet_info else []

    @property
    def columns(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for info in self.sheet_info:
            for k, v in info.columns.items():
                out.setdefault(k, v)
        return {k: out[k] for k in self.keys if k in out}

    @property
    def unknown_headers(self) -> list[str]:
        out: list[str] = []
        for info in self.sheet_info:
            out.extend(u for u in info.unknown_headers if u not in out)
        return out

    @property
    def missing(self) -> list[str]:
        return [k for k in self.keys if any(k in info.missing for info in self.sheet_info)]

    @property
    def legacy_headers(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for info in self.sheet_info:
            out.update(info.legacy_headers)
        return out

    def column_ref(self, index: int) -> str:
        """Where a column is, for messages: "cột C" (XLSX), "cột thứ 3" (CSV), "" (JSON keys)."""
        if self.format == "xlsx":
            from openpyxl.utils import get_column_letter

            return f"cột {get_column_letter(index + 1)}"
        if self.format == "csv":
            return f"cột thứ {index + 1}"
        return ""

    @property
    def is_rejects(self) -> bool:
        return any(fold_header(REASON_HEADER) in map(fold_header, info.headers)
                   for info in self.sheet_info)

    # -- rejects helpers -----------------------------------------------------
    def reject_headers(self) -> list[str]:
        """Header texts of the known columns, in file order (for write_rejects)."""
        cols = self.columns
        order = {t: i for i, t in enumerate(self.headers)}
        return sorted(cols.values(), key=lambda t: order.get(t, len(order)))

    def original(self, row: Row) -> dict[str, Any]:
        """``row.values`` keyed by the header texts found in the file."""
        info = next((i for i in self.sheet_info if i.name == row.sheet), None)
        cols = info.columns if info else self.columns
        return {cols[k]: v for k, v in row.values.items() if k in cols}

    # -- iteration -----------------------------------------------------------
    def __iter__(self) -> Iterator[Row]:
        return self._iter_impl()

    def close(self) -> None:
        if self._closer is not None:
            closer, self._closer = self._closer, None
            try:
                closer()
            except Exception:  # noqa: BLE001 - closing must not fail the caller
                pass

    def __enter__(self) -> Table:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"Table({str(self.path)!r}, format={self.format!r}, missing={self.missing!r}, "
                f"unknown_headers={self.unknown_headers!r})")


def read_table(path: str | os.PathLike[str], columns: Mapping[str, Sequence[str]], *,
               sheet: str | None = None, legacy: bool | None = None) -> Table:
    """Open a table file and find its header; iterate the result for rows.

    ``columns`` maps canonical keys to accepted header spellings.  ``sheet``
    (XLSX only): a sheet name, None for the first sheet, or ``"*"`` for every
    sheet but "Hướng dẫn" (rows then carry ``Row.sheet``).  ``legacy`` (CSV and
    JSON): None = check each cell of the first 1000 rows for TCVN3/VNI text
    and keep checking only if some was found; True = check every cell; False =
    never.  XLSX cells are always checked (fonts tell).

    Raises :class:`TableError` (Vietnamese message) for a missing, unsupported,
    corrupt or undecodable file or one without a header row; iterating raises
    only TableError too.
    """
    p = Path(path)
    keys = list(columns)
    lookup = _spelling_map(columns)
    check_regular_file(p)
    ext = p.suffix.lower()
    if ext == ".xls":
        raise TableError(f"Tệp {_name(p)} là định dạng Excel 97-2003 (.xls) cũ; hãy mở bằng Excel "
                         "và lưu lại thành .xlsx.")
    if ext in _CSV_EXT:
        fmt = "csv"
    elif ext in _XLSX_EXT:
        fmt = "xlsx"
    elif ext in _JSON_EXT:
        fmt = "json"
    else:
        raise TableError(f"Không hỗ trợ định dạng “{p.suffix or '(không có đuôi)'}” của tệp "
                         f"{_name(p)}; hãy dùng .xlsx, .xlsm, .csv, .txt hoặc .json.")
    table = Table(p, fmt, keys)
    table._legacy_mode = legacy
    if fmt == "csv":
        _setup_csv(table, lookup)  # one "sheet": the sheet argument is ignored
    elif fmt == "json":
        _setup_json(table, lookup)
    else:
        _setup_xlsx(table, lookup, sheet)
    return table


def _no_header(p: Path, lookup: Mapping[str, str], sheet: str | None = None) -> TableError:
    where = f" (trang tính “{sheet}”)" if sheet else ""
    return TableError(f"Không tìm thấy dòng tiêu đề trong tệp {_name(p)}{where}: "
                      f"không có cột nào khớp với các tên cột mong đợi trong {HEADER_SCAN_ROWS} "
                      "dòng đầu.")


def _legacy_iter(table: Table, it: Iterator[Any], fast: Any, checked: Any,
                 args: tuple[Any, ...]) -> Iterator[Row]:
    """Run the checked loop on the first rows, then decide (see read_table).

    ``args[-1]`` is a one-item list the checked loop sets to True when it
    converted some legacy text.
    """
    mode = table._legacy_mode
    if mode is True or table.is_rejects:
        yield from checked(it, *args)
    elif mode is False:
        yield from fast(it, *args)
    else:
        yield from checked(islice(it, table.legacy_probe_rows), *args)
        yield from (checked if args[-1][0] else fast)(it, *args)


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


# -- XLSX --------------------------------------------------------------------
def _is_blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def _cell_value(v: Any) -> Any:
    if isinstance(v, _dt.datetime):
        if v.hour == v.minute == v.second == v.microsecond == 0:
            return v.date()
        return v
    if isinstance(v, str):
        return _norm("NFC", v).strip() or None
    return v


class _FontCache:
    """Legacy-font name of a read-only cell, cached by style id."""

    def __init__(self) -> None:
        self.cache: dict[Any, str | None] = {}

    def font(self, cell: Any) -> str | None:
        sid = getattr(cell, "_style_id", None)
        try:
            return self.cache[sid]
        except KeyError:
            pass
        name = None
        try:
            font = cell.font
            name = font.name if font is not None else None
        except Exception:  # noqa: BLE001 - styles are optional
            name = None
        result = name if legacy_font(name) else None
        if sid is not None:
            self.cache[sid] = result
        return result


MAX_XLSX_MEMBERS = 10_000  # parts of one .xlsx (a workbook of 100 sheets has a few hundred)
_XLSX_DIRECTORY_BYTES = 16 << 20  # its zip directory
_SHEET_PART = re.compile(r"(?:^|/)worksheets/[^/]+\.xml$")
_XML_PART = (".xml", ".rels", ".vml")
_SHARED_STRING_TAGS = (b"<si>", b"<si ", b"<si/", b":si>", b":si ", b":si/")


def _corrupt_xlsx(p: Path) -> TableError:
    return TableError(f"Không đọc được tệp Excel {_name(p)}: tệp bị hỏng hoặc không phải "
                      "định dạng .xlsx/.xlsm.")


def _check_xlsx(fh: Any, p: Path) -> None:
    """Refuse (TableError) an .xlsx that would unzip to more than the limits, before openpyxl reads it.

    First the zip directory alone (its size, the number of parts, each part's unzipped size and
    compression ratio: a 1 MB file cannot claim a gigabyte), then one streamed pass over the
    worksheets and the shared strings, a chunk at a time: a text run of XLSX_RUN_BYTES without
    a tag (one huge cell) and more than MAX_SHARED_STRINGS shared strings are refused. Python's
    zipfile never unzips a part beyond the size its directory declares, so these bounds hold
    whatever the file claims.
    """
    try:
        end = zipfile._EndRecData(fh)  # type: ignore[attr-defined] - the directory's size, before reading it
    except OSError:
        end = None
    if not end:
        raise _corrupt_xlsx(p)
    if end[zipfile._ECD_ENTRIES_TOTAL] > MAX_XLSX_MEMBERS or end[zipfile._ECD_SIZE] > _XLSX_DIRECTORY_BYTES:  # type: ignore[attr-defined]
        raise TableError(f"Tệp Excel {_name(p)} có quá nhiều phần ({_count(end[zipfile._ECD_ENTRIES_TOTAL])}), "  # type: ignore[attr-defined]
                         f"vượt giới hạn {_count(MAX_XLSX_MEMBERS)} phần của một tệp .xlsx; không đọc tệp này.")
    fh.seek(0)
    try:
        zf = zipfile.ZipFile(fh)
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise _corrupt_xlsx(p) from None
    total = 0
    scan: list[tuple[zipfile.ZipInfo, bool]] = []
    for info in infos:
        name, low, size = info.filename, info.filename.lower(), info.file_size
        total += size
        if size > XLSX_RATIO_FROM and size > MAX_XLSX_RATIO * max(info.compress_size, 1):
            raise TableError(f"Tệp Excel {_name(p)}: phần “{name}” nén {_size(info.compress_size)} thành "
                             f"{_size(size)} (tỉ lệ nén {size // max(info.compress_size, 1):,}:1, vượt giới hạn "
                             f"{MAX_XLSX_RATIO}:1) — có thể là “bom nén”; không đọc tệp này.".replace(",", "."))
        shared = low.endswith("sharedstrings.xml")
        if shared:
            limit, what = MAX_SHARED_STRINGS_BYTES, "bảng chuỗi dùng chung (sharedStrings)"
        elif _SHEET_PART.search(low):
            limit, what = MAX_XLSX_SHEET_BYTES, "trang tính"
        elif low.endswith(_XML_PART):
            limit, what = MAX_XLSX_PART_BYTES, "phần"
        else:
            continue
        if size > limit:
            raise TableError(f"Tệp Excel {_name(p)}: {what} “{name}” giải nén ra {_size(size)}, vượt giới hạn "
                             f"{_size(limit)}; không đọc tệp này.")
        if shared or what == "trang tính":
            scan.append((info, shared))
    if total > MAX_XLSX_UNCOMPRESSED:
        raise TableError(f"Tệp Excel {_name(p)} giải nén ra {_size(total)}, vượt giới hạn "
                         f"{_size(MAX_XLSX_UNCOMPRESSED)} của một tệp .xlsx; không đọc tệp này.")
    try:
        for info, shared in scan:
            run = XLSX_RUN_BYTES
            strings, tail = 0, b""
            with zf.open(info) as part:
                while True:
                    chunk = part.read(run)
                    if not chunk:
                        break
                    if len(chunk) == run and b"<" not in chunk:
                        raise TableError(f"Tệp Excel {_name(p)}: phần “{info.filename}” có một ô (một đoạn chữ liền) "
                                         f"dài hơn giới hạn {_size(run)}; không đọc tệp này.")
                    if shared:
                        data = tail + chunk
                        strings += sum(data.count(t) for t in _SHARED_STRING_TAGS)
                        tail = chunk[-3:]
                        if strings > MAX_SHARED_STRINGS:
                            raise TableError(f"Tệp Excel {_name(p)}: bảng chuỗi dùng chung (sharedStrings) có hơn "
                                             f"{_count(MAX_SHARED_STRINGS)} chuỗi, vượt giới hạn; không đọc tệp này.")
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError, zlib.error):
        raise _corrupt_xlsx(p) from None


def _load_workbook(p: Path) -> tuple[Any, Any]:
    """(workbook, file) of an .xlsx checked by _check_xlsx; close both when done."""
    try:
        from openpyxl import load_workbook
    except ImportError:  # pragma: no cover - a declared dependency
        raise TableError("Thiếu thư viện openpyxl để đọc tệp Excel.") from None
    import warnings
    fh = _open_binary(p)
    try:
        _check_xlsx(fh, p)
        fh.seek(0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return load_workbook(fh, read_only=True, data_only=True), fh
    except TableError:
        fh.close()
        raise
    except PermissionError:
        fh.close()
        raise TableError(f"Không có quyền đọc tệp {_name(p)}.") from None
    except Exception:  # noqa: BLE001 - zipfile, XML, KeyError…: all mean "corrupt"
        fh.close()
        raise _corrupt_xlsx(p) from None


def _sheet_rows(ws: Any) -> Iterator[tuple[Any, ...]]:
    try:
        ws.reset_dimensions()
    except Exception:  # noqa: BLE001
        pass
    return ws.iter_rows(min_row=1)


def _setup_xlsx(table: Table, lookup: dict[str, str], sheet: str | None) -> None:
    p = table.path
    wb, fh = _load_workbook(p)

    def close() -> None:
        try:
            wb.close()
        finally:
            fh.close()

    table._closer = close
    fonts = _FontCache()
    skip_name = fold_header(INSTRUCTIONS_SHEET)
    try:
        sheets = list(wb.worksheets)
        if sheet == "*":
            chosen = [ws for ws in sheets if fold_header(ws.title) != skip_name]
        elif sheet is None:
            chosen = [next((ws for ws in sheets if fold_header(ws.title) != skip_name),
                           sheets[0] if sheets else None)]
        else:
            match = [ws for ws in sheets if ws.title == sheet] or [
                ws for ws in sheets if fold_header(ws.title) == fold_header(sheet)]
            if not match:
                names = ", ".join(f"“{ws.title}”" for ws in sheets)
                raise TableError(f"Tệp {_name(p)} không có trang tính “{sheet}” "
                                 f"(có: {names}).")
            chosen = match[:1]
        chosen = [ws for ws in chosen if ws is not None]
        if not chosen:
            raise TableError(f"Tệp {_name(p)} không có trang tính nào để đọc.")
        plans: list[tuple[Any, SheetInfo, _Header]] = []
        for ws in chosen:
            head_rows = []
            for number, cells in enumerate(islice(_sheet_rows(ws), HEADER_SCAN_ROWS), 1):
                values = [getattr(c, "value", None) for c in cells]
                names = [fonts.font(c) if isinstance(v, str) else None
                         for c, v in zip(cells, values)]
                head_rows.append((number, values, names))
            found = _pick_header(head_rows, lookup)
            if found is None:
                if sheet == "*":
                    table.skipped_sheets.append(ws.title)
                    continue
                if not any(any(v not in (None, "") for v in r[1]) for r in head_rows):
                    raise TableError(f"Trang tính “{ws.title}” của tệp {_name(p)} trống.")
                raise _no_header(p, lookup, ws.title)
            number, h = found
            info = SheetInfo(ws.title if sheet == "*" else None, number, h, table.keys)
            plans.append((ws, info, h))
        if not plans:
            raise TableError(f"Không tìm thấy dòng tiêu đề trong trang tính nào của tệp {_name(p)}.")
    except TableError:
        table.close()
        raise
    except Exception:  # noqa: BLE001
        table.close()
        raise TableError(f"Không đọc được tệp Excel {_name(p)}: tệp bị hỏng.") from None
    table.sheet = sheet if sheet == "*" else plans[0][0].title
    table.sheet_info = [info for _ws, info, _h in plans]
    keys = table.keys

    def iterate() -> Iterator[Row]:
        unescape = table.is_rejects
        n_cells = 0
        for ws, info, h in plans:
            pairs = [(k, h.index[k]) for k in keys if k in h.index]
            label = ws.title if sheet == "*" else None
            number = 0
            max_rows, max_cells, max_chars = MAX_XLSX_SHEET_ROWS, MAX_XLSX_CELLS, MAX_CELL_CHARS
            try:
                for number, cells in enumerate(_sheet_rows(ws), 1):
                    if number > max_rows:
                        raise TableError(f"Trang tính “{ws.title}” của tệp {_name(p)} có hơn {_count(max_rows)} "
                                         "dòng, vượt giới hạn số dòng của một trang tính; không đọc tiếp.")
                    ncells = len(cells)
                    n_cells += ncells
                    if n_cells > max_cells:
                        raise TableError(f"Tệp {_name(p)} có hơn {_count(max_cells)} ô, vượt giới hạn số ô đọc "
                                         f"được (đến dòng {number} của trang tính “{ws.title}”); không đọc tiếp.")
                    if number <= info.header_line:
                        continue
                    values: dict[str, Any] = dict.fromkeys(keys)
                    leg: dict[str, str] = {}
                    empty = True
                    for key, i in pairs:
                        if i >= ncells:
                            continue
                        cell = cells[i]
                        v = cell.value
                        if v is None:
                            continue
                        v = _cell_value(v)
                        if isinstance(v, str):
                            if len(v) > max_chars:
                                raise TableError(f"Tệp {_name(p)}, trang tính “{ws.title}”, dòng {number}, cột "
                                                 f"“{h.texts[i]}”: ô dài {_count(len(v))} ký tự, vượt giới hạn "
                                                 f"{_count(max_chars)} ký tự của một ô.")
                            v = _fix_text(v, leg, key, fonts.font(cell), unescape)
                        if v is not None:
                            values[key] = v
                            empty = False
                    if empty and all(_is_blank(getattr(c, "value", None)) for c in cells):
                        continue
                    yield _tuple_new(Row, (number, values, leg, label, _LINE_WORD))
            except TableError:
                raise
            except Exception:  # noqa: BLE001 - broken sheet XML etc.
                where = f"trang tính “{ws.title}”, khoảng dòng {number + 1}"
                raise TableError(f"Không đọc được tệp Excel {_name(p)} ({where}): tệp bị hỏng."
                                 ) from None

    table._iter_impl = iterate


# ---------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------
def _umask() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


@contextmanager
def atomic_write_path(final: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``final``; rename it to ``final`` on
    success, delete it on failure.  The temp name keeps ``final``'s suffix
    (``.x.abc123.tmp.xlsx``) for libraries that look at it.  OSError from
    creating or renaming propagates as is.
    """
    final = Path(final)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{final.stem}.", suffix=f".tmp{final.suffix}",
                                    dir=final.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        try:
            mode = os.stat(final).st_mode & 0o777
        except OSError:
            mode = 0o666 & ~_umask()
        try:
            os.chmod(tmp, mode)
        except OSError:
            pass
        os.replace(tmp, final)
    except BaseException:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise


def _needs_text_guard(v: str) -> bool:
    return bool(v) and v[0] in _FORMULA_START


_NUMBER_RE = re.compile(r"[+-]?[0-9][0-9 .,]*")


def _looks_numeric(v: str) -> bool:
    """"-5", "+84 912 345 678": Excel reads a number, not a formula."""
    return _NUMBER_RE.fullmatch(v) is not None


def _csv_cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, _dt.datetime):
        return v.strftime("%d/%m/%Y %H:%M") if (v.hour or v.minute) else v.strftime("%d/%m/%Y")
    if isinstance(v, _dt.date):
        return v.strftime("%d/%m/%Y")
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    s = str(v)
    if isinstance(v, str) and _needs_text_guard(s) and not _looks_numeric(s):
        return "'" + s  # Excel: text, not a formula (read_table strips it back)
    return s


def _json_default(v: Any) -> Any:
    if isinstance(v, (_dt.date, _dt.time)):
        return v.isoformat()
    return str(v)


def _write_csv(tmp: Path, headers: Sequence[str], rows: Iterable[Mapping[str, Any]],
               reason_key: str, delimiter: str, reason_header: str) -> None:
    with open(tmp, "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f, delimiter=delimiter)
        w.writerow([*headers, reason_header])
        for row in rows:
            w.writerow([_csv_cell(row.get(h)) for h in headers] + [_csv_cell(row.get(reason_key))])


def _write_json(tmp: Path, headers: Sequence[str], rows: Iterable[Mapping[str, Any]],
                reason_key: str) -> None:
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("[")
        first = True
        for row in rows:
            obj = {h: row.get(h) for h in headers}
            obj[reason_key] = row.get(reason_key)
            f.write("\n  " if first else ",\n  ")
            f.write(json.dumps(obj, ensure_ascii=False, default=_json_default))
            first = False
        f.write("\n]\n" if not first else "]\n")


_ILLEGAL_XML = re.compile(r"[\000-\010\013\014\016-\037]")


def _write_xlsx(tmp: Path, headers: Sequence[str], rows: Iterable[Mapping[str, Any]],
                reason_key: str, reason_header: str) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Dòng bị loại")
    bold = Font(bold=True)

    def text_cell(value: str, font: Any = None) -> Any:
        value = _ILLEGAL_XML.sub("", value)
        c = WriteOnlyCell(ws, value=value)
        c.data_type = "s"  # never a formula or an error code
        if font is not None:
            c.font = font
        return c

    def cell(value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, str):
            return text_cell(value)
        if isinstance(value, (bool, int, float)):
            return value
        if isinstance(value, (_dt.date, _dt.datetime)):
            c = WriteOnlyCell(ws, value=value)
            c.number_format = "DD/MM/YYYY" if not isinstance(value, _dt.datetime) or not (
                value.hour or value.minute) else "DD/MM/YYYY HH:MM"
            return c
        return text_cell(str(value))

    ws.append([text_cell(h, bold) for h in [*headers, reason_header]])
    for row in rows:
        ws.append([cell(row.get(h)) for h in headers] + [cell(row.get(reason_key))])
    wb.save(tmp)


def write_rejects(path: str | os.PathLike[str], fmt: str, headers: Sequence[str],
                  rows: Iterable[Mapping[str, Any]], reason_key: str = "reason", *,
                  delimiter: str | None = None, reason_header: str = REASON_HEADER) -> Path:
    """Write rejected rows, in the input's format, with a reason column.

    ``headers`` are the columns (and the keys looked up in each row dict);
    ``row[reason_key]`` goes to a last column headed ``reason_header`` ("Lý
    do"; for JSON the member is named ``reason_key``).  CSV: UTF-8 with BOM,
    ``delimiter`` (default ","), dates dd/mm/yyyy, text starting with
    = + - @ prefixed by an apostrophe.  XLSX: streamed (write-only), every
    text cell typed as text, never as a formula.  Written to a temporary file
    then renamed.  Raises TableError on an unknown format or an OS error.
    """
    p = Path(path)
    fmt = fmt.lower().lstrip(".")
    if fmt in ("xlsm",):
        fmt = "xlsx"
    if fmt == "txt":
        fmt = "csv"
    if fmt not in ("csv", "xlsx", "json"):
        raise TableError(f"Không hỗ trợ ghi định dạng “{fmt}” (tệp {_name(p)}); "
                         "chỉ ghi được xlsx, csv hoặc json.")
    headers = list(headers)
    try:
        with atomic_write_path(p) as tmp:
            if fmt == "csv":
                _write_csv(tmp, headers, rows, reason_key, delimiter or ",", reason_header)
            elif fmt == "json":
                _write_json(tmp, headers, rows, reason_key)
            else:
                _write_xlsx(tmp, headers, rows, reason_key, reason_header)
    except PermissionError:
        raise TableError(f"Không ghi được tệp {_name(p)}: không có quyền ghi, hoặc tệp đang mở "
                         "trong Excel.") from None
    except FileNotFoundError:
        raise TableError(f"Không ghi được tệp {_name(p)}: thư mục “{p.parent}” không tồn tại."
                         ) from None
    except OSError as e:
        raise TableError(f"Không ghi được tệp {_name(p)}: {file_reason(e)}.") from None
    return p
