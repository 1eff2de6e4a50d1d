"""Forms out (biểu mẫu): the Excel files the units fill in, and the Word form of the achievement report.

`dvk template KIND --out FILE` writes an .xlsx with the data sheet first (the headers `dvk.intake`
reads), an instructions sheet "Hướng dẫn", drop-down validation from the ledger (unit codes, the
year's fields, Loại, Đối tượng, "x" ticks) and example rows marked "[VÍ DỤ]" that an import skips.
The reports, confirmations and scores forms come pre-filled with the year's entries that still need
them, so a unit only fills in the blanks; rows left blank are skipped on import.

`dvk template report-form --out FILE.docx` writes the achievement report as a Word form with one
heading per aspect; `read_report_docx` reads the five aspects back from a filled copy.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any, Iterable, Sequence

from sqlalchemy.engine import Connection

from dvk.text.dates import fmt_date
from dvk.cycle.common import MAX_YEAR, MIN_YEAR, check_year, today
from dvk.cycle.config import criteria_for
from dvk.cycle.entries import get_entry
from dvk.cycle.units import get_unit, list_units
from dvk.cycle.year import load_year
from dvk.criteria import ASPECTS, CriteriaSet
from dvk.errors import InvalidInput, OutputError, file_reason
from dvk.files import docx_size_problem
from dvk.intake.columns import CONFIRMATION_COLUMNS, EXAMPLE_MARK, MEMBER_COLUMN, REGISTRATION_COLUMNS, REPORT_COLUMNS, SCORE_BASE_COLUMNS
from dvk.text.normalize import clean, fold

INSTRUCTIONS = "Hướng dẫn"
LISTS = "Danh mục"
EXAMPLE_NOTE = f"{EXAMPLE_MARK} Dòng mẫu: dvk bỏ qua dòng này khi nhập (có thể xóa)."
MAX_ROWS = 2000  # rows that carry drop-downs and formats

REGISTRATION_HEADERS = [c.header for c in REGISTRATION_COLUMNS]
REPORT_HEADERS = [c.header for c in REPORT_COLUMNS]
CONFIRMATION_HEADERS = [c.header for c in CONFIRMATION_COLUMNS]
SCORE_HEADERS = [c.header for c in SCORE_BASE_COLUMNS if c.key != "member"]  # + the criteria codes

ASPECT_HINTS = {
    "approach": "Nêu cách làm: mô hình được xây dựng, tổ chức thực hiện như thế nào, có gì sáng tạo.",
    "experience": "Nêu những kinh nghiệm rút ra trong quá trình thực hiện.",
    "spread": "Nêu mức độ lan tỏa: được nhân rộng ở đâu, bao nhiêu đơn vị, khoa, phòng, người tham gia.",
    "effectiveness": "Nêu hiệu quả: kết quả cụ thể, số liệu, lợi ích kinh tế, xã hội, đối với đoàn viên.",
    "sustainability": "Nêu sự bền vững: thời gian duy trì, điều kiện để tiếp tục phát huy.",
}


# ---------------------------------------------------------------- entry points

def write_template(conn: Connection, kind: str, out: Path, *, year: int | None = None, members: Sequence[str] = (),
                   unit: str | None = None, entry_id: str | None = None, force: bool = False) -> str:
    """Write the form of `kind` to `out`; returns a short Vietnamese description of what it holds."""
    out = Path(out)
    if kind == "report-form" and out.suffix.lower() != ".docx":
        raise InvalidInput("Mẫu báo cáo Word phải là tệp .docx (ví dụ --out bao-cao.docx).")
    if kind != "report-form" and out.suffix.lower() not in (".xlsx", ".xlsm"):
        raise InvalidInput(f"Mẫu {kind} là tệp Excel: hãy đặt tên tệp có đuôi .xlsx.")
    if out.exists() and not force:
        raise OutputError(f"Tệp “{out}” đã có; dùng --force để ghi đè.")
    if not out.parent.exists():
        raise OutputError(f"Thư mục “{out.parent}” không tồn tại.")
    if kind == "report-form":
        return write_report_form(conn, out, entry_id)
    year = check_year(year if year is not None else today().year)
    unit_code = get_unit(conn, unit)["code"] if unit else None
    writer = {"registrations": _registrations, "reports": _reports, "confirmations": _confirmations,
              "scores": _scores}[kind]
    wb, info = writer(conn, year, unit_code, list(members))
    _save(wb, out)
    return info


def _save(wb: Any, out: Path) -> None:
    from dvk.intake.tables.rejects import atomic_write_path, schema_order_styles

    try:
        with atomic_write_path(out) as tmp:
            wb.save(tmp)
            schema_order_styles(tmp)
    except OSError as exc:
        raise OutputError(f"Không ghi được tệp “{out}”: {file_reason(exc)}.")


# ---------------------------------------------------------------- workbook helpers

def _styles() -> dict:
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    thin = Side(style="thin", color="999999")
    return {
        "head_font": Font(name="Times New Roman", bold=True, size=12),
        "head_fill": PatternFill("solid", fgColor="DDEBF7"),
        "head_align": Alignment(horizontal="center", vertical="center", wrap_text=True),
        "border": Border(left=thin, right=thin, top=thin, bottom=thin),
        "example_font": Font(name="Times New Roman", italic=True, color="7F7F7F", size=12),
        "body_font": Font(name="Times New Roman", size=12),
        "wrap": Alignment(vertical="top", wrap_text=True),
        "title_font": Font(name="Times New Roman", bold=True, size=14),
    }


def _data_sheet(ws: Any, headers: Sequence[str], widths: Sequence[int]) -> None:
    from openpyxl.utils import get_column_letter

    st = _styles()
    ws.append(list(headers))
    for i, (h, w) in enumerate(zip(headers, widths), 1):
        c = ws.cell(row=1, column=i)
        c.font, c.fill, c.alignment, c.border = st["head_font"], st["head_fill"], st["head_align"], st["border"]
        ws.column_dimensions[get_column_letter(i)].width = w
    ws.row_dimensions[1].height = 32
    ws.freeze_panes = "A2"


def _append(ws: Any, values: Sequence[Any], *, example: bool = False, wrap_cols: Iterable[int] = (),
            date_cols: Iterable[int] = ()) -> None:
    st = _styles()
    ws.append(list(values))
    r = ws.max_row
    wrap = set(wrap_cols)
    for i in range(1, len(values) + 1):
        c = ws.cell(row=r, column=i)
        c.font = st["example_font"] if example else st["body_font"]
        if i in wrap:
            c.alignment = st["wrap"]
    for i in date_cols:
        ws.cell(row=r, column=i).number_format = "DD/MM/YYYY"


def _date_format(ws: Any, col: int, first: int) -> None:
    """dd/mm/yyyy for the whole column (a column style: no empty cells are created)."""
    from openpyxl.utils import get_column_letter

    ws.column_dimensions[get_column_letter(col)].number_format = "DD/MM/YYYY"


def _list_validation(ws: Any, col_letter: str, formula: str, title: str, prompt: str, *,
                     allow_blank: bool = True) -> None:
    from openpyxl.worksheet.datavalidation import DataValidation

    dv = DataValidation(type="list", formula1=formula, allow_blank=allow_blank, showDropDown=False)
    dv.error = prompt
    dv.errorTitle = title
    dv.prompt = prompt
    dv.promptTitle = title
    dv.showErrorMessage = True
    dv.showInputMessage = True
    ws.add_data_validation(dv)
    dv.add(f"{col_letter}2:{col_letter}{MAX_ROWS}")


def _quoted_list(values: Iterable[Any]) -> str:
    return '"' + ",".join(str(v) for v in values) + '"'


def _instructions(wb: Any, title: str, lines: Sequence[str], tables: Sequence[tuple[str, list[str], list[list[Any]]]]
                  = ()) -> None:
    st = _styles()
    ws = wb.create_sheet(INSTRUCTIONS)
    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["B"].width = 60
    ws.column_dimensions["C"].width = 50
    ws.append([title])
    ws.cell(row=1, column=1).font = st["title_font"]
    ws.append([])
    for line in lines:
        ws.append([line])
        ws.cell(row=ws.max_row, column=1).font = st["body_font"]
    for caption, heads, rows in tables:
        ws.append([])
        ws.append([caption])
        ws.cell(row=ws.max_row, column=1).font = st["head_font"]
        ws.append(heads)
        for i in range(1, len(heads) + 1):
            c = ws.cell(row=ws.max_row, column=i)
            c.font, c.fill, c.border = st["head_font"], st["head_fill"], st["border"]
        for r in rows:
            ws.append(r)
            for i in range(1, len(heads) + 1):
                ws.cell(row=ws.max_row, column=i).border = st["border"]


def _lists_sheet(wb: Any, columns: Sequence[tuple[str, Sequence[Any]]]) -> dict[str, str]:
    """A hidden sheet of drop-down values; returns header -> absolute range formula."""
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(LISTS)
    ws.sheet_state = "hidden"
    out = {}
    for i, (head, values) in enumerate(columns, 1):
        letter = get_column_letter(i)
        ws.cell(row=1, column=i, value=head)
        for r, v in enumerate(values, 2):
            ws.cell(row=r, column=i, value=v)
        last = max(2, len(values) + 1)
        out[head] = f"='{LISTS}'!${letter}$2:${letter}${last}"
    return out


def _new_workbook(first_title: str) -> tuple[Any, Any]:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = first_title
    return wb, ws


def _common_lines(year: int) -> list[str]:
    return [
        "• Giữ nguyên dòng tiêu đề (dòng 1) và tên các cột; có thể thêm cột riêng, dvk sẽ bỏ qua và báo lại.",
        f"• Các dòng có chữ “{EXAMPLE_MARK}” là dòng mẫu: dvk bỏ qua khi nhập, có thể xóa hoặc để nguyên.",
        "• Ngày ghi dạng dd/mm/yyyy (ví dụ 15/02/" + str(year) + ") hoặc để Excel định dạng ngày.",
        "• Có thể lưu lại dưới dạng CSV (UTF-8) thay cho Excel; dvk đọc cả .xlsx, .csv và .json.",
        "• Trước khi nhập có thể chạy thử: thêm --dry-run vào lệnh nhập để xem kết quả mà chưa ghi gì.",
        "• Nếu có dòng lỗi, dvk liệt kê mọi lỗi (dòng, cột, giá trị, lý do) và không ghi gì; sửa rồi nhập lại.",
    ]


def _entries_needing(conn: Connection, year: int, unit: str | None, need: str) -> tuple[list[dict], CriteriaSet]:
    yd = load_year(conn, year)
    out = []
    for e in yd.entries:
        if unit and e["unit_code"] != unit:
            continue
        rep = yd.reports.get(e["id"])
        conf = yd.confirmations.get(e["id"])
        if need == "report":
            ok = rep is None or any(not rep.get(k) for k, _ in ASPECTS)
        elif need == "confirmation":
            ok = rep is not None and conf is None
        else:  # score: confirmed, not refused
            ok = conf is not None and not conf["rejected"]
        if ok:
            out.append(e)
    return out, yd.crit


def _units_table(conn: Connection, unit: str | None) -> list[list[Any]]:
    return [[u["code"], u["name"], u.get("committee") or ""] for u in list_units(conn)
            if not unit or u["code"] == unit]


# ---------------------------------------------------------------- registrations

def _registrations(conn: Connection, year: int, unit: str | None, _members: list[str]) -> tuple[Any, str]:
    crit = criteria_for(conn, year)
    units = list_units(conn)
    codes = [u["code"] for u in units if not unit or u["code"] == unit]
    wb, ws = _new_workbook("Đăng ký")
    _data_sheet(ws, REGISTRATION_HEADERS, [8, 14, 50, 13, 13, 24, 24, 10, 14, 10, 40])
    start, end = crit.window(year)
    on = min(max(dt.date(year, 2, 15), start), end)
    ex_unit = codes[0] if codes else "MÃ_ĐƠN_VỊ"
    fields = [f.number for f in crit.fields]
    _append(ws, [year, ex_unit, "Quỹ “Tấm lòng vàng” hỗ trợ đoàn viên có hoàn cảnh khó khăn", "Mô hình", "Tập thể",
                 None, None, fields[0], on, None, EXAMPLE_NOTE], example=True, date_cols=[9])
    _append(ws, [year, ex_unit, "Điều dưỡng tận tâm, gần gũi người bệnh", "Điển hình", "Cá nhân", "Nguyễn Thị Hoa",
                 "Điều dưỡng trưởng khoa Nhi", fields[-1], on, None, EXAMPLE_NOTE], example=True, date_cols=[9])
    _date_format(ws, 9, 4)
    lists = _lists_sheet(wb, [("Mã đơn vị", codes or [""]), ("Lĩnh vực", fields), ("Loại", ["Mô hình", "Điển hình"]),
                              ("Đối tượng", ["Tập thể", "Cá nhân"]), ("Đột xuất", ["x"])])
    from openpyxl.worksheet.datavalidation import DataValidation

    yv = DataValidation(type="whole", operator="between", formula1=str(MIN_YEAR), formula2=str(MAX_YEAR))
    yv.error, yv.errorTitle, yv.showErrorMessage = "Năm phải là số, ví dụ " + str(year), "Năm", True
    ws.add_data_validation(yv)
    yv.add(f"A2:A{MAX_ROWS}")
    _list_validation(ws, "B", lists["Mã đơn vị"], "Mã đơn vị", "Chọn mã đơn vị trong danh sách (xem trang Hướng dẫn).",
                     allow_blank=False)
    _list_validation(ws, "D", lists["Loại"], "Loại", "Mô hình hoặc Điển hình (để trống: Mô hình).")
    _list_validation(ws, "E", lists["Đối tượng"], "Đối tượng", "Tập thể hoặc Cá nhân (cá nhân: ghi Họ và tên).")
    _list_validation(ws, "H", lists["Lĩnh vực"], "Lĩnh vực", f"Lĩnh vực 1–{len(fields)} theo bộ tiêu chí năm {year} (trang Hướng dẫn).")
    _list_validation(ws, "J", lists["Đột xuất"], "Đột xuất", "Ghi “x” nếu là thành tích đột xuất; không thì để trống.")
    dv = DataValidation(type="date", operator="between", formula1="DATE(2000,1,1)", formula2="DATE(2100,12,31)")
    dv.errorStyle, dv.error, dv.showErrorMessage = "warning", "Ngày dạng dd/mm/yyyy.", True
    ws.add_data_validation(dv)
    dv.add(f"I2:I{MAX_ROWS}")
    s, e = fmt_date(start), fmt_date(end)
    lines = [
        f"Mẫu đăng ký mô hình, điển hình “Dân vận khéo” năm {year}. Mỗi mô hình, điển hình một dòng ở trang "
        "“Đăng ký”.",
        "",
        "• Năm: năm đăng ký (số). Mã đơn vị: chọn trong danh sách (bảng dưới).",
        "• Tên mô hình, điển hình: bắt buộc. Loại: “Mô hình” hoặc “Điển hình” (trống: Mô hình).",
        "• Đối tượng: “Tập thể” hoặc “Cá nhân”. Cá nhân phải ghi Họ và tên (đủ họ và tên) và có thể ghi Chức vụ; "
        "tập thể để trống hai cột này.",
        f"• Lĩnh vực: số 1–{len(fields)} (bảng dưới).",
        f"• Ngày đăng ký: thời hạn đăng ký năm {year} là {s}–{e}; đăng ký ngoài thời hạn vẫn được ghi nhận là "
        "đăng ký muộn. Để trống: lấy ngày nhập vào sổ.",
        "• Đột xuất: ghi “x” nếu là thành tích đột xuất (không phải đăng ký); không thì để trống.",
        "• Nhập vào sổ: dvk register --from TỆP.xlsx (nhập lại cùng tệp không tạo trùng).",
        "",
        *_common_lines(year),
    ]
    _instructions(wb, "HƯỚNG DẪN ĐIỀN MẪU ĐĂNG KÝ", lines, [
        ("Danh sách đơn vị", ["Mã đơn vị", "Tên đơn vị", "Cấp ủy"], _units_table(conn, unit)),
        ("Lĩnh vực", ["Số", "Lĩnh vực", ""], [[f.number, f.title, ""] for f in crit.fields]),
    ])
    return wb, f"mẫu đăng ký năm {year}, {len(codes)} mã đơn vị trong danh sách chọn."


# ---------------------------------------------------------------- reports

def _reports(conn: Connection, year: int, unit: str | None, _members: list[str]) -> tuple[Any, str]:
    entries, _crit = _entries_needing(conn, year, unit, "report")
    wb, ws = _new_workbook("Báo cáo")
    _data_sheet(ws, REPORT_HEADERS, [11, 40, 12, 45, 45, 45, 45, 45, 14])
    wrap = range(2, 9)
    _append(ws, [f"{year}-000", f"{EXAMPLE_MARK} Tên mô hình (dòng mẫu, dvk bỏ qua)", "MÃ_ĐƠN_VỊ",
                 "Thành lập tổ tư vấn, phân công từng đoàn viên phụ trách…", "Phải có sự đồng thuận của lãnh đạo…",
                 "Đã nhân rộng ra 12 khoa, phòng…", "Hỗ trợ 45 đoàn viên, tiết kiệm 120 triệu đồng…",
                 "Duy trì liên tục 3 năm, có quy chế hoạt động…", dt.date(year, 8, 15)],
            example=True, wrap_cols=wrap, date_cols=[9])
    for e in entries:
        _append(ws, [e["id"], e["title"], e["unit_code"], None, None, None, None, None, None], wrap_cols=wrap)
    _date_format(ws, 9, 3)
    lines = [
        f"Mẫu báo cáo thành tích mô hình, điển hình “Dân vận khéo” năm {year}. Mỗi mô hình một dòng ở trang "
        "“Báo cáo”; các dòng đã điền sẵn mã, tên, đơn vị của những mô hình còn thiếu báo cáo.",
        "",
        "• Mã: mã mô hình do dvk cấp (dạng 2024-007). Tên và Mã đơn vị để đối chiếu, không sửa.",
        "• Năm nội dung của báo cáo thành tích: Cách làm, Kinh nghiệm, Tính lan tỏa, Hiệu quả, Sự bền vững. "
        "Cần đủ 5 nội dung để được xét công nhận. Trong một ô có thể xuống dòng (Alt+Enter).",
        "• Ngày báo cáo: để trống thì lấy ngày nhập vào sổ. Dòng chưa điền nội dung nào được bỏ qua.",
        "• Nhập vào sổ: dvk report --from TỆP.xlsx. Báo cáo đã có mà khác nội dung: dvk báo xung đột; thêm --update "
        "để cập nhật.",
        "",
        *_common_lines(year),
    ]
    _instructions(wb, "HƯỚNG DẪN ĐIỀN MẪU BÁO CÁO THÀNH TÍCH", lines)
    return wb, f"{len(entries)} mô hình, điển hình năm {year} còn thiếu báo cáo."


# ---------------------------------------------------------------- confirmations

def _confirmations(conn: Connection, year: int, unit: str | None, _members: list[str]) -> tuple[Any, str]:
    entries, _crit = _entries_needing(conn, year, unit, "confirmation")
    wb, ws = _new_workbook("Xác nhận")
    _data_sheet(ws, CONFIRMATION_HEADERS, [11, 40, 12, 34, 30, 14, 45, 14, 35])
    _append(ws, [f"{year}-000", f"{EXAMPLE_MARK} Tên mô hình (dòng mẫu, dvk bỏ qua)", "MÃ_ĐƠN_VỊ",
                 "Đảng ủy Bệnh viện …", "Bí thư Nguyễn Văn A", dt.date(year, 9, 10),
                 "Mô hình thiết thực, được đoàn viên hưởng ứng.", None, None],
            example=True, wrap_cols=[2, 7, 9], date_cols=[6])
    for e in entries:
        _append(ws, [e["id"], e["title"], e["unit_code"], None, None, None, None, None, None], wrap_cols=[2, 7, 9])
    _date_format(ws, 6, 3)
    lists = _lists_sheet(wb, [("Không xác nhận", ["x"])])
    _list_validation(ws, "H", lists["Không xác nhận"], "Không xác nhận",
                     "Ghi “x” nếu cấp ủy không xác nhận (khi đó phải ghi Lý do); xác nhận thì để trống.")
    lines = [
        f"Mẫu xác nhận của cấp ủy cùng cấp vào báo cáo thành tích năm {year}. "
        "Các dòng đã điền sẵn những mô hình đã có báo cáo, chưa có xác nhận.",
        "",
        "• Cấp ủy: tên cấp ủy xác nhận; để trống thì lấy cấp ủy của đơn vị đã khai trong sổ (bảng dưới).",
        "• Người xác nhận: bắt buộc (họ tên, chức vụ người ký). Ngày xác nhận: trống thì lấy ngày nhập.",
        "• Không xác nhận: ghi “x” nếu cấp ủy không xác nhận, khi đó phải ghi Lý do.",
        "• Mô hình phải có báo cáo thành tích trong sổ trước khi nhập xác nhận.",
        "• Nhập vào sổ: dvk confirm --from TỆP.xlsx.",
        "",
        *_common_lines(year),
    ]
    _instructions(wb, "HƯỚNG DẪN ĐIỀN MẪU XÁC NHẬN CỦA CẤP ỦY", lines, [
        ("Cấp ủy của các đơn vị", ["Mã đơn vị", "Tên đơn vị", "Cấp ủy"], _units_table(conn, unit)),
    ])
    return wb, f"{len(entries)} mô hình, điển hình năm {year} chờ xác nhận."


# ---------------------------------------------------------------- scores

_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def sheet_title(member: str) -> str:
    """The sheet name standing for a member (Excel: at most 31 characters, no []:*?/\\)."""
    return _BAD_SHEET_CHARS.sub(" ", member).strip()[:31].strip()


def _scores(conn: Connection, year: int, unit: str | None, members: list[str]) -> tuple[Any, str]:
    from openpyxl.comments import Comment
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    from dvk.cycle.council import council_of

    names = [clean(m) for m in members if clean(m)]
    council = council_of(conn, year)
    if council is not None and council.has_members:  # the year's council: its members, their sheets only
        if not names:
            names = [m["member"] for m in council.members]
        strangers = [n for n in names if council.member_of(n) is None]
        if strangers:
            raise InvalidInput(f"{', '.join(strangers)} không phải thành viên Hội đồng năm {year}; Hội đồng gồm: "
                               f"{council.names()} (--member).")
        names = [council.member_of(n)["member"] for n in names]
    if not names:
        raise InvalidInput("Hãy nêu tên các thành viên Hội đồng: --member \"Nguyễn Văn An\" (lặp lại cho mỗi "
                           "thành viên); mỗi thành viên một trang tính.")
    seen: dict[str, str] = {}
    for n in names:
        t = sheet_title(n)
        if fold(t) in seen or fold(t) in (fold(INSTRUCTIONS), fold(LISTS)):
            raise InvalidInput(f"Hai thành viên có cùng tên trang tính “{t}”; hãy ghi tên phân biệt.")
        seen[fold(t)] = n
    entries, crit = _entries_needing(conn, year, unit, "score")
    codes = crit.codes
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    lo, hi = ops_num(crit.scale_min), ops_num(crit.scale_max)
    for name in names:
        title = sheet_title(name)
        ws = wb.create_sheet(title)
        with_member = title != name
        heads = [*SCORE_HEADERS, *([MEMBER_COLUMN.header] if with_member else []), *codes]
        _data_sheet(ws, heads, [11, 45, 12, *([28] if with_member else []), *([7] * len(codes))])
        first_code = len(heads) - len(codes) + 1
        for i, c in enumerate(crit.criteria):
            cell = ws.cell(row=1, column=first_code + i)
            cell.comment = Comment(f"{c.code}: {c.title} (trọng số {ops_num(c.weight)}; "
                                   + ("ghi na nếu không áp dụng" if c.allow_na else "bắt buộc chấm") + ")", "dvk")
        example = [f"{year}-000", f"{EXAMPLE_MARK} Tên mô hình (dòng mẫu, dvk bỏ qua)", "MÃ_ĐƠN_VỊ",
                   *([name] if with_member else []),
                   *[("na" if c.allow_na and i == len(codes) - 1 else 8) for i, c in enumerate(crit.criteria)]]
        _append(ws, example, example=True, wrap_cols=[2])
        for e in entries:
            if council is not None and council.problem(e, name)[1]:
                continue  # in conflict on this entry, or abstained: no row to fill in
            _append(ws, [e["id"], e["title"], e["unit_code"], *([name] if with_member else []), *[None] * len(codes)],
                    wrap_cols=[2])
        for i, c in enumerate(crit.criteria):
            letter = get_column_letter(first_code + i)
            ref = f"{letter}2"
            number = f"AND(ISNUMBER({ref}),{ref}>={lo},{ref}<={hi})"
            formula = f'OR({number},LOWER({ref})="na")' if c.allow_na else number
            dv = DataValidation(type="custom", formula1=formula, allow_blank=True)
            dv.error = (f"Điểm {c.code}: số từ {lo} đến {hi}" + (" hoặc na (không áp dụng)." if c.allow_na else "."))
            dv.errorTitle, dv.showErrorMessage = c.code, True
            ws.add_data_validation(dv)
            dv.add(f"{letter}2:{letter}{MAX_ROWS}")
    lines = [
        f"Phiếu chấm điểm mô hình, điển hình “Dân vận khéo” năm {year}: mỗi thành viên Hội đồng một trang tính, "
        "tên trang tính là tên thành viên (hoặc cột “Thành viên”). Các dòng đã điền sẵn những mô hình đã được "
        "cấp ủy xác nhận, sẵn sàng chấm.",
        "",
        f"• Mỗi tiêu chí một cột, tiêu đề là mã tiêu chí. Điểm từ {lo} đến {hi}, tối đa {crit.decimals} chữ số thập "
        "phân (7,5 hoặc 7.5). Tiêu chí cụ thể (S) không áp dụng thì ghi na; tiêu chí chung (G) phải chấm.",
        "• Một dòng phải chấm đủ mọi tiêu chí; dòng chưa chấm tiêu chí nào được bỏ qua.",
        "• Nhập vào sổ: dvk score --from TỆP.xlsx (mọi trang tính). Cùng thành viên chấm lại mà khác điểm: dvk báo "
        "xung đột; thêm --update để thay điểm cũ.",
        "• Điểm nhập từ tệp cho kết quả đúng như gõ lệnh dvk score từng mô hình.",
        "",
        *_common_lines(year),
    ]
    _instructions(wb, "HƯỚNG DẪN CHẤM ĐIỂM", lines, [
        ("Tiêu chí (" + crit.phase + ")", ["Mã", "Tiêu chí", "Trọng số"],
         [[c.code, c.title, ops_num(c.weight)] for c in crit.criteria]),
    ])
    return wb, (f"{len(names)} trang tính (thành viên), {len(entries)} mô hình, điển hình năm {year} sẵn sàng chấm, "
                f"{len(codes)} tiêu chí.")


def ops_num(x: Any) -> str:
    from dvk.text.numbers import fmt_number

    return fmt_number(x).replace(",", ".")


# ---------------------------------------------------------------- the Word report form

FORM_TITLE = "BÁO CÁO THÀNH TÍCH"
CONFIRMATION_HEADING = "XÁC NHẬN CỦA CẤP ỦY"
ID_LABEL = "Mã mô hình, điển hình"


def _hint(key: str) -> str:
    return f"({ASPECT_HINTS[key]} Xóa dòng hướng dẫn này khi viết.)"


def write_report_form(conn: Connection, out: Path, entry_id: str | None) -> str:
    """The achievement report as a Word form: A4, Times New Roman, one heading per aspect."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt, RGBColor

    entry = get_entry(conn, entry_id) if entry_id else None
    doc = Document()
    sec = doc.sections[0]
    sec.page_width, sec.page_height = Cm(21), Cm(29.7)
    sec.top_margin, sec.bottom_margin, sec.left_margin, sec.right_margin = Cm(2), Cm(2), Cm(3), Cm(1.5)
    normal = doc.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(14)
    rpr = normal.element.get_or_add_rPr()
    fonts = rpr.get_or_add_rFonts()
    fonts.set("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia", "Times New Roman")
    h1 = doc.styles["Heading 1"]
    h1.font.name = "Times New Roman"
    h1.font.size = Pt(14)
    h1.font.bold = True
    h1.font.color.rgb = RGBColor(0, 0, 0)

    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    r = p.add_run(FORM_TITLE)
    r.bold = True
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    r = p.add_run("Mô hình, điển hình “Dân vận khéo”" + (f" năm {entry['year']}" if entry else ""))
    r.bold = True
    doc.add_paragraph(f"{ID_LABEL}: " + (entry["id"] if entry else "…………"))
    doc.add_paragraph("Tên mô hình, điển hình: " + (entry["title"] if entry else "…………"))
    doc.add_paragraph("Đơn vị: " + (entry["unit_code"] if entry else "…………"))
    for i, (key, label) in enumerate(ASPECTS, 1):
        doc.add_heading(f"{i}. {label}", level=1)
        hp = doc.add_paragraph()
        run = hp.add_run(_hint(key))
        run.italic = True
        run.font.color.rgb = RGBColor(0x7F, 0x7F, 0x7F)
    doc.add_heading(CONFIRMATION_HEADING, level=1)
    doc.add_paragraph("(Cấp ủy cùng cấp nhận xét, đánh giá và xác nhận; ký tên, đóng dấu.)")
    from dvk.intake.tables.rejects import atomic_write_path

    for rid, rel in list(doc.part.rels.items()):  # python-docx's default template: an optional Word 2010
        if rel.reltype.endswith("/stylesWithEffects"):  # part that disagrees with styles.xml
            doc.part.drop_rel(rid)
    try:
        with atomic_write_path(out) as tmp:
            doc.save(str(tmp))
    except OSError as exc:
        raise OutputError(f"Không ghi được tệp “{out}”: {file_reason(exc)}.")
    what = f"mẫu báo cáo thành tích cho {entry['id']}" if entry else "mẫu báo cáo thành tích"
    return f"{what}; viết xong rồi nhập: dvk report MÃ --from-docx “{out.name}”."


_NUMBERING = re.compile(r"^\s*(?:[0-9]+|[IVXivx]+|[a-eA-E])\s*[.)/-]\s*")


def _aspect_of_heading(text: str) -> str | None:
    from dvk.intake.tables.base import fold_header

    t = _NUMBERING.sub("", text).strip().rstrip(":").strip()
    key = fold_header(t)
    if not key:
        return None
    for k, label in ASPECTS:
        fl = fold_header(label)
        if key == fl or key == fold_header(k):
            return k
    # "Tính lan tỏa" / "Lan tỏa", "Sự bền vững" / "Bền vững"
    alias = {"lantoa": "spread", "benvung": "sustainability", "tinhbenvung": "sustainability",
             "cachlamsangtao": "approach", "kinhnghiemrutra": "experience"}
    return alias.get(key)


def _ends_report(text: str) -> bool:
    from dvk.intake.tables.base import fold_header

    key = fold_header(_NUMBERING.sub("", text))
    return key.startswith(("xacnhancuacapuy", "ykiencuacapuy", "nhanxetcuacapuy", "noinhan"))


def _block_texts(doc: Any) -> Iterable[tuple[str, bool]]:
    """(text, is_heading) of the body in order; a table's cells come as plain paragraphs."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    body = doc.element.body
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            p = Paragraph(child, doc)
            style = (p.style.name if p.style is not None else "") or ""
            yield p.text, style.lower().startswith(("heading", "title"))
        elif tag == "tbl":
            t = Table(child, doc)
            for row in t.rows:
                seen = set()
                for cell in row.cells:
                    if id(cell._tc) in seen:
                        continue
                    seen.add(id(cell._tc))
                    for p in cell.paragraphs:
                        yield p.text, False


def read_report_docx(path: Path, entry_id: str | None = None) -> dict[str, str | None]:
    """The five aspects of a report written in the Word form (None for an aspect left empty).

    Headings are found by their text (numbering, case and diacritics ignored); the form's hint lines
    are dropped. If the form names an entry id that differs from `entry_id`, it is refused.
    """
    from docx import Document

    path = Path(path)
    if not path.exists():
        raise InvalidInput(f"Không tìm thấy tệp “{path}”.")
    if path.suffix.lower() != ".docx":
        raise InvalidInput(f"Tệp “{path.name}” không phải tệp Word .docx (mẫu: dvk template report-form).")
    problem = docx_size_problem(path, what=f"Tệp báo cáo “{path.name}”")
    if problem:
        raise InvalidInput(problem)
    try:
        doc = Document(str(path))
    except Exception:  # noqa: BLE001 - zip/XML errors: the file is not a readable .docx
        raise InvalidInput(f"Không đọc được tệp Word “{path.name}”: tệp hỏng hoặc không phải .docx.")
    hints = {fold(_hint(k)) for k in ASPECT_HINTS}
    found: dict[str, list[str]] = {}
    current: str | None = None
    stated_id: str | None = None
    for text, is_heading in _block_texts(doc):
        t = (text or "").strip()
        if t.startswith(ID_LABEL) and stated_id is None:
            stated_id = t[len(ID_LABEL):].strip(" :.…")
        key = _aspect_of_heading(t) if t and (is_heading or len(t) <= 40) else None
        if t and _ends_report(t):
            current = None  # the Party committee's part, signatures…: not the report's aspects
            continue
        if key is not None:
            current = key
            found.setdefault(key, [])
            continue
        if is_heading and t:
            current = None  # another heading ends the aspect
            continue
        if current is not None and t and fold(t) not in hints:
            found[current].append(text.rstrip())
    if not found:
        raise InvalidInput(f"Tệp “{path.name}” không có các mục Cách làm, Kinh nghiệm, Tính lan tỏa, Hiệu quả, "
                           "Sự bền vững (hãy dùng mẫu: dvk template report-form).")
    if entry_id and stated_id and re.fullmatch(r"\d{4}-\d+", stated_id) and stated_id != entry_id.strip():
        raise InvalidInput(f"Tệp “{path.name}” là báo cáo của {stated_id}, không phải {entry_id}.")
    out: dict[str, str | None] = {}
    for key, _label in ASPECTS:
        lines = found.get(key) or []
        text = "\n".join(lines).strip()
        out[key] = text or None
    if not any(out.values()):
        raise InvalidInput(f"Tệp “{path.name}” chưa có nội dung nào dưới các mục của báo cáo.")
    return out
