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

import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from dvk.intake.tables.base import REASON_HEADER, Row, SheetInfo, TableError, _name, _spelling_map, check_regular_file, fold_header
from dvk.intake.tables.csvfile import _setup_csv
from dvk.intake.tables.jsonfile import _setup_json
from dvk.intake.tables.xlsxfile import _setup_xlsx

LEGACY_PROBE_ROWS = 1000  # CSV/JSON: rows checked cell by cell for TCVN3/VNI
_CSV_EXT = {".csv", ".txt", ".tsv"}
_XLSX_EXT = {".xlsx", ".xlsm"}
_JSON_EXT = {".json"}


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
