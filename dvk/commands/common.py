"""Options shared by every command and small printing helpers."""

from __future__ import annotations

import contextlib
import functools
import json
import sys
from pathlib import Path
from typing import Annotated, Any, Iterator, Optional

import typer

DbOpt = Annotated[
    Optional[Path],
    # readable=False: whether the ledger can be read is the ledger's to say (exit 1, in Vietnamese), not a usage error.
    typer.Option("--db", envvar="DVK_DB", help="Tệp sổ (mặc định: biến DVK_DB, rồi thư mục dữ liệu của người dùng).",
                 show_envvar=False, readable=False),
]
UserOpt = Annotated[
    Optional[str],
    typer.Option("--user", envvar="DVK_USER", help="Người thực hiện, ghi vào lịch sử (mặc định: tên đăng nhập).",
                 show_envvar=False),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="In kết quả dạng JSON (cho chương trình khác).")]
YearOpt = Annotated[int, typer.Option("--year", "-y", help="Năm.")]
DateOpt = Annotated[Optional[str], typer.Option("--date", help="Ngày, dạng dd/mm/yyyy hoặc yyyy-mm-dd.")]


@functools.cache
def console():
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)


@functools.cache
def err_console():
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def say(text: str) -> None:
    console().print(text, markup=False, highlight=False)


def warn(text: str) -> None:
    err_console().print(f"Lưu ý: {text}", markup=False, highlight=False)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def json_stream(items) -> None:
    """Write a JSON array item by item (memory stays flat for 100,000 entries)."""
    out = sys.stdout
    dumps = json.dumps
    first = True
    out.write("[")
    for it in items:
        out.write("\n  " if first else ",\n  ")
        out.write(dumps(it, ensure_ascii=False, default=str))
        first = False
    out.write("\n]\n" if not first else "]\n")


@contextlib.contextmanager
def ledger(db: Optional[Path]) -> Iterator[Any]:
    """Open the ledger named by --db / $DVK_DB / the default path (must exist)."""
    from dvk.db import Ledger, resolve_path

    led = Ledger.open(resolve_path(db))
    try:
        yield led
    finally:
        led.close()


@contextlib.contextmanager
def writing(db: Optional[Path], user: Optional[str], summary: str = "") -> Iterator[Any]:
    """Open the ledger and one write transaction recorded in the history."""
    from dvk.cli import command_line
    from dvk.db import current_user

    with ledger(db) as led:
        with led.write(user=current_user(user), command=command_line(), summary=summary) as tx:
            yield tx


def parse_date_opt(value: Optional[str]):
    if value is None:
        return None
    from dvk.dates import DateError, parse_date
    from dvk.errors import InvalidInput

    try:
        return parse_date(value)
    except DateError as exc:
        raise InvalidInput(str(exc))


def table(title: str | None, columns: list[str], rows: list[list[Any]], **kw):
    from rich.table import Table

    t = Table(title=title, show_lines=False, **kw)
    for c in columns:
        t.add_column(c, overflow="fold")
    for r in rows:
        t.add_row(*["" if v is None else str(v) for v in r])
    console().print(t)


# ---------------------------------------------------------------- Vietnamese help and usage errors

import re as _re

from typer.core import TyperCommand, TyperGroup

_HELP_VI = [
    ("Usage:", "Cách dùng:"), ("Options:", "Tùy chọn:"), ("Commands:", "Lệnh:"), ("Arguments:", "Tham số:"),
    ("Show this message and exit.", "Hiện hướng dẫn này rồi thoát."), ("[required]", "[bắt buộc]"),
    ("[default: ", "[mặc định: "), ("[OPTIONS]", "[TÙY CHỌN]"), ("COMMAND [ARGS]...", "LỆNH [THAM SỐ]..."),
    ("<int>", "<số> "), ("<str>", "<chữ>"), ("<path>", "<tệp> "), ("<float>", "<số>   "),
]
_ERR_VI = [
    (r"No such option: (\S+)(?: \(Possible options: (.*)\))?", lambda m: f"không có tùy chọn {m[1]}"
     + (f" (có thể là: {m[2]})" if m[2] else "")),
    (r"No such option: (\S+)", lambda m: f"không có tùy chọn {m[1]}"),
    (r"Missing option '([^']+)'.*", lambda m: f"thiếu tùy chọn bắt buộc {m[1]}"),
    (r"Missing argument '([^']+)'.*", lambda m: f"thiếu tham số {m[1]}"),
    (r"No such command '([^']+)'.*", lambda m: f"không có lệnh “{m[1]}”"),
    (r"Got unexpected extra arguments? \((.*)\)", lambda m: f"thừa tham số: {m[1]}"),
    (r"Option '([^']+)' requires an argument.*", lambda m: f"tùy chọn {m[1]} cần một giá trị"),
    (r"Invalid value for '([^']+)'(?: / '[^']+')?: (.*)", lambda m: f"giá trị không hợp lệ cho {m[1]}: "
     + _detail_vi(m[2])),
]


def _detail_vi(text: str) -> str:
    low = text.lower()
    if "valid integer" in low:
        return "phải là số nguyên"
    if "valid number" in low or "valid float" in low:
        return "phải là số"
    if "does not exist" in low:
        return "tệp hoặc thư mục không tồn tại"
    return text


def vi_help(text: str) -> str:
    for en, vi in _HELP_VI:
        text = text.replace(en, vi)
    return text


def vi_usage_error(message: str) -> str:
    for pattern, fn in _ERR_VI:
        m = _re.fullmatch(pattern, message.strip(), flags=_re.S)
        if m:
            return fn(m)
    return message


class ViCommand(TyperCommand):
    """A command whose help screen speaks Vietnamese."""

    def get_help(self, ctx) -> str:  # type: ignore[override]
        return vi_help(super().get_help(ctx))

    def get_usage(self, ctx) -> str:  # type: ignore[override]
        return vi_help(super().get_usage(ctx))


class ViGroup(TyperGroup):
    """A command group whose help screen speaks Vietnamese."""

    def get_help(self, ctx) -> str:  # type: ignore[override]
        return vi_help(super().get_help(ctx))

    def get_usage(self, ctx) -> str:  # type: ignore[override]
        return vi_help(super().get_usage(ctx))


def sub_app(help: str) -> "typer.Typer":
    return typer.Typer(cls=ViGroup, help=help, no_args_is_help=True, rich_markup_mode=None)


def add(app: "typer.Typer", name: str, fn) -> None:
    """Register a command function with the Vietnamese help class."""
    app.command(name, cls=ViCommand)(fn)
