"""Every error dvk raises on purpose, typed (one module, the bottom of the layers).

The CLI's one handler (`dvk.cli.DvkGroup`) turns each into one Vietnamese line on stderr (with its
details) and its exit code: 1 for a user, data or environment error, 2 for a usage error; no
traceback ever reaches a clerk for a user or data mistake.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass, field

from dvk.text.safety import shorten


def clause(message: str) -> str:
    """A message made part of another sentence: no final full stop, and a lower-case first letter
    unless the first word is an abbreviation ("Năm 1999 …." -> "năm 1999 …", "CĐN …" unchanged).

    Whoever embeds a message in a sentence of their own calls this, so "…(2000–2100).." cannot happen.
    """
    text = message.strip().rstrip(".").rstrip()
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        text = text[0].lower() + text[1:]
    return text


class DvkError(Exception):
    """A user, data or environment error with a Vietnamese message."""

    exit_code = 1

    def __init__(self, message: str, *, details: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = list(details or [])


class NotFound(DvkError):
    """An entry, unit or decision that does not exist."""


class InvalidInput(DvkError):
    """A value that breaks a rule (field outside 1–5, score outside 0–10, bad date…)."""


class LockedYear(DvkError):
    """The year has a recognition decision in force; its entries cannot change."""


class LedgerError(DvkError):
    """The ledger file is missing, unreadable, too new, read-only or the disk is full."""


class OutputError(DvkError):
    """An output file cannot be written (exists already, template broken…)."""


class TableError(InvalidInput):
    """A file of rows (.xlsx, .csv, .json) that cannot be read or written as a whole: its encoding, its
    header row, a limit on what dvk reads (a "zip bomb"), a rejects file that cannot be written."""


class UsageProblem(InvalidInput):
    """A command typed incompletely (`dvk register --year 2024` without --unit…): a usage error, exit 2."""

    exit_code = 2


class DateError(InvalidInput, ValueError):
    """A date that cannot be read; ``str(err)`` / ``message`` is a Vietnamese sentence.

    ``value`` is the input as given and ``reason`` the short Vietnamese explanation (or None), for
    callers that build their own message (an import's row problem).
    """

    def __init__(self, message: str, *, value: object = None, reason: str | None = None) -> None:
        super().__init__(message)
        self.value = value
        self.reason = reason


class VerifyFailed(DvkError):
    """`dvk verify`: the ledger does not agree with its history or schema (every problem listed);
    `report` is the verification report."""

    def __init__(self, report) -> None:
        super().__init__(report.summary(), details=report.details())
        self.report = report


class DocumentMismatch(DvkError):
    """`dvk verify-doc`: the file is unknown, was modified, or no longer matches the ledger."""



class TemplateError(OutputError):
    """A Word template that cannot be used: unknown or missing placeholder, Jinja syntax error,
    not a .docx file (mẫu văn bản bị lỗi)."""


class OutputExistsError(OutputError):
    """The output file exists already and ``force`` was not given."""


class PdfConversionError(OutputError):
    """LibreOffice is missing, timed out or produced no PDF."""


@dataclass
class Problem:
    """One validation problem with its location (file, row, column)."""

    reason: str
    file: str | None = None
    row: int | None = None
    column: str | None = None
    value: object | None = None
    location_word: str = "dòng"

    def text(self) -> str:
        parts: list[str] = []
        if self.file:
            parts.append(self.file)
        if self.row is not None:
            parts.append(f"{self.location_word} {self.row}")
        if self.column:
            parts.append(f"cột “{self.column}”")
        where = ", ".join(parts)
        val = ""
        if self.value not in (None, ""):
            val = f" (giá trị: “{shorten(self.value)}”)"
        reason = self.reason.rstrip(".") if val else self.reason
        return f"{where}: {reason}{val}" if where else f"{reason}{val}"


@dataclass
class ValidationFailed(DvkError):
    """Several problems found at once; nothing was written."""

    problems: list[Problem] = field(default_factory=list)
    headline: str = "Dữ liệu không hợp lệ, không ghi gì vào sổ."

    def __post_init__(self) -> None:
        DvkError.__init__(self, self.headline, details=[p.text() for p in self.problems])


# ---------------------------------------------------------------- file-system reasons

_OS_REASONS = {
    errno.ENOSPC: "ổ đĩa đã đầy",
    errno.EFBIG: "tệp vượt giới hạn dung lượng cho phép",
    errno.EDQUOT: "vượt hạn mức dung lượng của người dùng",
    errno.EROFS: "ổ đĩa chỉ cho phép đọc",
    errno.EACCES: "không có quyền",
    errno.EPERM: "không được phép (tệp bị khóa hoặc không có quyền)",
    errno.ENOENT: "không tồn tại",
    errno.ENOTDIR: "đường dẫn không phải thư mục",
    errno.EISDIR: "là một thư mục",
    errno.EIO: "lỗi đọc/ghi đĩa",
    errno.ENAMETOOLONG: "tên tệp hoặc đường dẫn quá dài",
    errno.ELOOP: "đường dẫn có vòng liên kết tượng trưng",
}


def file_reason(exc: BaseException) -> str:
    """A short Vietnamese reason for an OS error on a file ("không có quyền", "ổ đĩa đã đầy"), for a
    message that names the file; the system's own text only for an error without one of ours."""
    if isinstance(exc, OSError) and exc.errno in _OS_REASONS:
        return _OS_REASONS[exc.errno]
    return getattr(exc, "strerror", None) or str(exc)
