"""Excel files: the zip checked part by part before openpyxl opens it (no "zip bomb"), then read
in read-only mode, sheet by sheet, with the cells' fonts for legacy encodings.
"""

from __future__ import annotations

import datetime as _dt
import re
import zipfile
import zlib
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dvk.text.legacy import legacy_font
from dvk.intake.tables.base import _is_blank, HEADER_SCAN_ROWS, MAX_CELL_CHARS, Row, SheetInfo, TableError, _Header, _LINE_WORD, _count, _fix_text, _name, _no_header, _norm, _open_binary, _pick_header, _size, _tuple_new, fold_header

if TYPE_CHECKING:
    from dvk.intake.tables.table import Table

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
INSTRUCTIONS_SHEET = "Hướng dẫn"


# -- XLSX --------------------------------------------------------------------


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
