"""What every table reader shares: the limits on what a file makes dvk read, `TableError` (a
Vietnamese message), `Row`, header matching (case, diacritics, spacing and punctuation ignored),
the regular-file check before anything is opened, and the legacy-encoding fix of a cell.
"""

from __future__ import annotations

import os
import re
import stat
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import islice
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dvk.errors import TableError, file_reason
from dvk.text.legacy import fix_legacy, might_be_legacy

if TYPE_CHECKING:
    from dvk.intake.tables.table import Table


REASON_HEADER = "Lý do"


HEADER_SCAN_ROWS = 20  # the header row is looked for among the first rows


# Bounds on what an input file may make dvk read and hold (issue 9: a 1 MB .xlsx held 1 GiB in one
# cell). Generous for a million real rows (bench/import_bench.py: 1,000,000 registrations are a
# 140 MB CSV, or an .xlsx whose sheet unzips to 550 MB); beyond them the file is refused with a
# message naming it and the limit, before the bytes are read into memory.
MAX_INPUT_BYTES = 1 << 30  # any input file on disk (CSV, JSON, XLSX)


MAX_CELL_CHARS = 100_000  # one cell, CSV field or JSON string (a report's aspect takes 20,000)


_LINE_WORD = "dòng"
_RECORD_WORD = "bản ghi"


# ---------------------------------------------------------------------------
# Errors and rows
# ---------------------------------------------------------------------------


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


def _is_blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())
