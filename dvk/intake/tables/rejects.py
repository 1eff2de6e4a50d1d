"""The rejects file (`--rejects`): the rows an import refused, in the input's format, with the reason of
each, written atomically (formula-looking text kept as text).
"""

from __future__ import annotations

import csv
import datetime as _dt
import json
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dvk.errors import file_reason
from dvk.intake.tables.base import REASON_HEADER, TableError, _FORMULA_START, _name


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


#: The order the OOXML schema gives a font's children (CT_Font); openpyxl writes name first.
_FONT_ORDER = ("b", "i", "strike", "condense", "extend", "outline", "shadow", "u", "vertAlign", "sz", "color",
               "name", "family", "charset", "scheme")


def schema_order_styles(path: Path) -> None:
    """Put each font's children of an openpyxl workbook's xl/styles.xml in the schema's order, so the
    form passes an OOXML validator (Excel reads both orders; a strict validator does not)."""
    import shutil
    import zipfile

    from lxml import etree

    tmp = path.with_name(path.name + ".order")
    try:
        with zipfile.ZipFile(path) as zin, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
            for info in zin.infolist():
                data = zin.read(info.filename)
                if info.filename == "xl/styles.xml":
                    root = etree.fromstring(data)
                    for font in root.iter("{*}font"):
                        kids = list(font)
                        rank = {n: i for i, n in enumerate(_FONT_ORDER)}
                        kids.sort(key=lambda k: rank.get(etree.QName(k).localname, len(rank)))
                        font[:] = kids
                    data = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
                zout.writestr(info, data)
        shutil.move(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
