"""The kinds of document dvk writes: file name, label, and which depend on a decision."""

from __future__ import annotations

#: kind -> (file name pattern, what it is in Vietnamese).  ``{}`` is the year or the phase.
FILE_KINDS: dict[str, tuple[str, str]] = {
    "decision": ("quyet-dinh-cong-nhan-{}.docx", "Quyết định công nhận"),
    "registrations": ("danh-sach-dang-ky-{}.docx", "Danh sách đăng ký"),
    "score-sheets": ("phieu-cham-diem-{}.docx", "Phiếu chấm điểm"),
    "results": ("bao-cao-ket-qua-{}.docx", "Báo cáo kết quả"),
    "workbook": ("tong-hop-{}.xlsx", "Bảng tổng hợp năm (Excel)"),
    "reminder": ("cong-van-nhac-{}.docx", "Công văn đôn đốc"),
    "proposal": ("to-trinh-khen-thuong-{}.docx", "Tờ trình khen thưởng"),
    "phase-workbook": ("tong-hop-{}.xlsx", "Bảng tổng hợp giai đoạn (Excel)"),
}


YEAR_KINDS = ("decision", "registrations", "score-sheets", "results", "workbook", "reminder")


DECISION_KINDS = ("decision", "results", "workbook")  # files whose content depends on the decision


PHASE_KINDS = ("proposal", "phase-workbook")


def file_name(kind: str, key: int | str) -> str:
    """The file name of a document: ``file_name("decision", 2025)`` -> "quyet-dinh-cong-nhan-2025.docx"."""
    return FILE_KINDS[kind][0].format(key)
