"""The columns of each kind of file (and of the forms dvk writes): the key a value goes to, the header
written, and the other spellings accepted (case, diacritics, spacing and punctuation ignored).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable


EXAMPLE_MARK = "[VÍ DỤ]"  # rows of the forms' examples start a cell with this; they are skipped


REJECT_REASON_KEY = "Lý do bị loại"  # JSON member / column of a rejects file for confirmations


KINDS = ("registrations", "reports", "confirmations", "scores")


KIND_LABELS = {
    "registrations": "đăng ký",
    "reports": "báo cáo thành tích",
    "confirmations": "xác nhận của cấp ủy",
    "scores": "điểm chấm",
}


@dataclass(frozen=True)
class Column:
    """One column of an import file: canonical key, the form's header, other accepted spellings."""

    key: str
    header: str
    aliases: tuple[str, ...] = ()

    @property
    def spellings(self) -> list[str]:
        return [self.header, self.key, *self.aliases]


REGISTRATION_COLUMNS: tuple[Column, ...] = (
    Column("year", "Năm"),
    Column("unit", "Mã đơn vị", ("unit_code", "Mã ĐV")),
    Column("title", "Tên mô hình, điển hình", ("Tên mô hình", "Tên điển hình", "Tên mô hình điển hình")),
    Column("kind", "Loại", ("Loại hình",)),
    Column("subject", "Đối tượng"),
    Column("person", "Họ và tên", ("Họ tên", "Họ và tên cá nhân")),
    Column("position", "Chức vụ"),
    Column("field", "Lĩnh vực"),
    Column("registered_on", "Ngày đăng ký", ("date",)),
    Column("sudden", "Đột xuất", ("Thành tích đột xuất",)),
    Column("note", "Ghi chú"),
)


# Keys of `dvk list --json` that a registration import ignores without a warning.
REGISTRATION_IGNORED: tuple[Column, ...] = (
    Column("_id", "id", ("Mã mô hình", "Mã")),
    Column("_unit_name", "unit_name", ("Tên đơn vị",)),
    Column("_late", "late", ("Muộn", "Đăng ký muộn")),
    Column("_status", "status", ("Trạng thái",)),
    Column("_score", "score", ("Điểm",)),
    Column("_eligible", "eligible"),
    Column("_reasons", "reasons"),
)


ID_COLUMN = Column("id", "Mã", ("Mã mô hình", "Mã mô hình, điển hình", "entry_id", "Mã số"))


TITLE_INFO = Column("_title", "Tên mô hình, điển hình", ("title", "Tên mô hình", "Tên"))


UNIT_INFO = Column("_unit", "Mã đơn vị", ("unit", "unit_code", "Đơn vị"))


REPORT_COLUMNS: tuple[Column, ...] = (
    ID_COLUMN, TITLE_INFO, UNIT_INFO,
    Column("approach", "Cách làm"),
    Column("experience", "Kinh nghiệm"),
    Column("spread", "Tính lan tỏa", ("Lan tỏa", "Tính lan toả", "Lan toả")),
    Column("effectiveness", "Hiệu quả"),
    Column("sustainability", "Sự bền vững", ("Bền vững", "Tính bền vững")),
    Column("reported_on", "Ngày báo cáo", ("date", "Ngày")),
)


CONFIRMATION_COLUMNS: tuple[Column, ...] = (
    ID_COLUMN, TITLE_INFO, UNIT_INFO,
    Column("committee", "Cấp ủy", ("Cấp ủy xác nhận", "Cấp uỷ")),
    Column("by", "Người xác nhận", ("confirmed_by", "Người ký xác nhận", "Người ký")),
    Column("on", "Ngày xác nhận", ("confirmed_on", "date")),
    Column("comment", "Nhận xét", ("Nhận xét, đánh giá",)),
    Column("rejected", "Không xác nhận", ("reject",)),
    Column("reason", "Lý do", ("Lý do không xác nhận",)),
)


MEMBER_COLUMN = Column("member", "Thành viên", ("Thành viên Hội đồng", "Người chấm"))


SCORE_BASE_COLUMNS: tuple[Column, ...] = (ID_COLUMN, TITLE_INFO, UNIT_INFO, MEMBER_COLUMN)


_REQUIRED = {
    "registrations": ("unit", "title", "field"),
    "reports": ("id",),
    "confirmations": ("id",),
    "scores": ("id",),
}


# Sheet names Excel and LibreOffice give by default: never a council member's name.
_DEFAULT_SHEET = re.compile(r"^(sheet|trang tính|trang|feuil|tabelle|hoja|foglio|planilha|blad)\s*\d*$", re.I)


_LISTS_SHEET = "Danh mục"  # the forms' hidden sheet of drop-down values


def column_spec(columns: Iterable[Column]) -> dict[str, list[str]]:
    return {c.key: c.spellings for c in columns}
