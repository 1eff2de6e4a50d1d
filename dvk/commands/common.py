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
    typer.Option("--db", envvar="DVK_DB", help="Tệp sổ (mặc định: biến DVK_DB, rồi thư mục dữ liệu của người dùng).",
                 show_envvar=False),
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

    return Console(highlight=False, soft_wrap=False)


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
