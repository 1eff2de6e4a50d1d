"""Options shared by every command and small printing helpers.

Everything printed goes through `say`, `warn`, `table`, `print_json`/`json_stream` (or
`dvk.cli.print_error`), which show control characters visibly (`dvk.text.safety.visible`): a ledger
may hold them from old data or an SQL edit, and they never reach a terminal raw. Rich markup and
emoji codes in data are printed as the text they are.
"""


import contextlib
import functools
import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Annotated, Any, Iterator, List, NoReturn, Optional

import typer

from dvk.text.safety import MAX_LEN, FIELD_LABELS, for_message, json_safe, shorten, text_problem, visible


# ---------------------------------------------------------------- checking typed values

def int_range(lo: int | None, hi: int | None, what: str):
    """A Typer callback refusing an int option outside lo..hi, naming the option and the range.

    Every int option has one: a value such as 99999999999999999999 does not even fit SQLite's
    integers. Exit code 1, as for any other value out of range (`--year 1999`). `lo`/`hi` None:
    the ledger's years (ops.MIN_YEAR..MAX_YEAR), read when a value is checked.
    """
    def check(ctx: typer.Context, param: typer.CallbackParam, value: Optional[int]) -> Optional[int]:
        if value is None:
            return value
        low, high = lo, hi
        if low is None or high is None:
            from dvk.cycle.common import MAX_YEAR, MIN_YEAR

            low, high = MIN_YEAR, MAX_YEAR
        if not low <= value <= high:
            from dvk.errors import InvalidInput
            from dvk.wording import thousands

            span = f"{low}–{high}" if what == "năm" else f"{thousands(low)}–{thousands(high)}"
            raise InvalidInput(f"{what[:1].upper()}{what[1:]} “{shorten(value, 40)}” không hợp lệ "
                               f"({'/'.join(param.opts)} phải trong khoảng {span}).")
        return value

    return check


YEAR_CHECK = int_range(None, None, "năm")


def checked_user(value: str, name: str) -> str | None:
    """--user / $DVK_USER (`name`) is input too: no control character, at most MAX_LEN["user"] characters."""
    from dvk.errors import InvalidInput
    from dvk.text.normalize import clean

    cleaned = clean(value)
    why = text_problem(value, cleaned, MAX_LEN["user"])
    if why:
        raise InvalidInput(f"Người thực hiện ({name}) {why}.")
    return cleaned or None


def check_user(ctx: typer.Context, param: typer.CallbackParam, value: Optional[str]) -> Optional[str]:
    """The Typer callback of --user (root and command): `checked_user`."""
    return None if value is None else checked_user(value, "--user")


def opt_text(option: str | None, value: str | list[str] | None, key: str, *, label: str | None = None,
             multiline: bool = False) -> str | None:
    """The problem with a typed text option (a control character, too long), naming the option, or None.
    `option` None: a positional argument, named by its label alone.

    The rule is the field's own (`dvk.text.safety.text_problem`, `MAX_LEN[key]`); checking typed text
    here, before the ledger is opened, lets the message name the option the clerk typed.
    """
    if value is None:
        return None
    from dvk.text.normalize import clean, clean_lines

    for v in value if isinstance(value, (list, tuple)) else [value]:
        why = text_problem(v, clean_lines(v) if multiline else clean(v), MAX_LEN[key])
        if why:
            return f"{label or FIELD_LABELS[key]}" + (f" ({option})" if option else "") + f" {why}"
    return None


def check_texts(*problems: str | None) -> None:
    """Refuse the command (InvalidInput, exit 1) when `opt_text` found problems; lists every one."""
    found = [p for p in problems if p]
    if not found:
        return
    from dvk.errors import InvalidInput

    if len(found) == 1:
        raise InvalidInput(found[0] + ".")
    raise InvalidInput("Các giá trị nhập sau không hợp lệ; sổ không thay đổi:", details=found)


DbOpt = Annotated[
    Optional[Path],
    # readable=False: whether the ledger can be read is the ledger's to say (exit 1, in Vietnamese), not a usage error.
    typer.Option("--db", help="Tệp sổ (mặc định: biến DVK_DB, rồi thư mục dữ liệu của người dùng).",
                 readable=False),
]
UserOpt = Annotated[
    Optional[str],
    typer.Option("--user", help="Người thực hiện, ghi vào lịch sử (mặc định: biến DVK_USER, rồi tên đăng nhập).",
                 callback=check_user),
]
OrgOpt = Annotated[
    Optional[str],
    typer.Option("--org", help="Mã tổ chức làm việc (mặc định: tổ chức duy nhất của sổ).",
                 metavar="MÃ"),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="In kết quả dạng JSON (cho chương trình khác).")]
YearOpt = Annotated[int, typer.Option("--year", "-y", help="Năm.", callback=YEAR_CHECK)]
DateOpt = Annotated[Optional[str], typer.Option("--date", help="Ngày, dạng dd/mm/yyyy hoặc yyyy-mm-dd.")]


def exit_broken_pipe() -> NoReturn:
    """Stop quietly when the reader of stdout went away (`dvk list --json | head -1`): nothing more
    can be shown, and Python must not complain when it flushes stdout at exit. Exit code 141
    (128 + SIGPIPE), what a Unix tool gets."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # not a real file (tests): nothing is left to flush anyway
        pass
    sys.exit(141)


# ---------------------------------------------------------------- Ctrl-C

INTERRUPTED = "Đã dừng (Ctrl-C). Sổ giữ nguyên như trước lệnh."


def interrupted(exc: BaseException) -> bool:
    """Whether `exc` is Ctrl-C or came out of handling it (a KeyboardInterrupt inside the SQLite
    driver or SQLAlchemy surfaces as their own error, or as one raised in a `finally`/rollback)."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        if isinstance(e, KeyboardInterrupt):
            return True
        seen.add(id(e))
        todo += [e.__cause__, e.__context__]
    return False


def in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def hold_ctrl_c() -> None:
    """From now to the end of the command, Ctrl-C does not interrupt it: called as a write commits,
    so that the commit is whole and its result printed (never "Sổ giữ nguyên" after a commit).
    `DvkGroup.main` puts the handler back when the command ends."""
    if in_main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


@functools.cache
def console():
    from rich.console import Console

    c = Console(highlight=False, soft_wrap=True, emoji=False)
    c.on_broken_pipe = exit_broken_pipe  # type: ignore[method-assign]  # Rich's own exits 1
    return c


@functools.cache
def err_console():
    from rich.console import Console

    return Console(stderr=True, highlight=False, emoji=False)


def say(text: str) -> None:
    console().print(visible(text), markup=False, highlight=False)


def warn(text: str) -> None:
    err_console().print(f"Lưu ý: {for_message(text)}", markup=False, highlight=False)


def print_json(data: Any) -> None:
    sys.stdout.write(json_safe(json.dumps(data, ensure_ascii=False, indent=2, default=str)) + "\n")


def json_stream(items) -> None:
    """Write a JSON array item by item (memory stays flat for 100,000 entries)."""
    out = sys.stdout
    dumps = json.dumps
    first = True
    out.write("[")
    for it in items:
        out.write("\n  " if first else ",\n  ")
        out.write(json_safe(dumps(it, ensure_ascii=False, default=str)))
        first = False
    out.write("\n]\n" if not first else "]\n")


def run_context(ctx: typer.Context, db: Optional[Path] = None, user: Optional[str] = None):
    """This run's RunContext: the ledger and the user given to the command, else to `dvk` itself
    (`dvk --db F --user U register …`), else $DVK_DB / $DVK_USER, else the defaults; and the command
    line as typed, for the history."""
    from dvk.cycle.session import RunContext
    from dvk.ledger.paths import current_user

    state = ctx.find_root().obj
    root_db = getattr(state, "db", None)
    root_user = getattr(state, "user", None)
    chosen = user or root_user
    if chosen is None and os.environ.get("DVK_USER"):
        chosen = checked_user(os.environ["DVK_USER"], "DVK_USER")
    command = getattr(state, "command", "dvk")
    org = ctx.params.get("org") if isinstance(ctx.params.get("org"), str) else None
    return RunContext(db if db is not None else root_db, current_user(chosen), command, org=org)


@contextlib.contextmanager
def ledger(ctx: typer.Context, db: Optional[Path]) -> Iterator[Any]:
    """Open the ledger named by --db / $DVK_DB / the default path (must exist)."""
    led = run_context(ctx, db).open()
    try:
        yield led
    finally:
        led.close()


@contextlib.contextmanager
def writing(ctx: typer.Context, db: Optional[Path], user: Optional[str], summary: str = "") -> Iterator[Any]:
    """Open the ledger and one write transaction recorded in the history (this run's user and command)."""
    with run_context(ctx, db, user).writing(summary) as tx:
        yield tx


def parse_date_opt(value: Optional[str]):
    if value is None:
        return None
    from dvk.text.dates import DateError, parse_date
    from dvk.errors import InvalidInput

    try:
        return parse_date(value)
    except DateError as exc:
        raise InvalidInput(str(exc))


def table(title: str | None, columns: list[str], rows: list[list[Any]], **kw):
    """Print a table; every cell is plain text (no markup), control characters shown visibly."""
    from rich.table import Table
    from rich.text import Text

    t = Table(title=None if title is None else Text(visible(title)), show_lines=False, **kw)
    for c in columns:
        t.add_column(Text(visible(c)), overflow="fold")
    for r in rows:
        t.add_row(*[Text("" if v is None else visible(str(v))) for v in r])
    console().print(t)


TABLE_MAX = 1000  # more rows than this, or an output that is not a terminal: plain lines, streamed


def rows_out(title, columns: list[str], rows) -> int:
    """Print rows of a view, as many as there are, with flat memory; returns how many.

    On a terminal, up to TABLE_MAX rows make a table (`title`: a text, or a function of the count).
    Otherwise — output piped or redirected, or a longer list — one plain line per row, written as the
    rows come: the column names, then the cells separated by tabs (a cell's tabs and line breaks
    shown as spaces and " / ", control characters visibly), as `cut`, `sort` or a spreadsheet read them.
    """
    import itertools

    it = iter(rows)
    if sys.stdout.isatty():
        head = list(itertools.islice(it, TABLE_MAX + 1))
        if len(head) <= TABLE_MAX:
            table(title(len(head)) if callable(title) else title, columns, head)
            return len(head)
        it = itertools.chain(head, it)
    out = sys.stdout
    out.write("\t".join(_plain_cell(c) for c in columns) + "\n")
    n = 0
    for r in it:
        out.write("\t".join(_plain_cell(v) for v in r) + "\n")
        n += 1
    out.flush()
    return n


def _plain_cell(v: Any) -> str:
    if v is None:
        return ""
    s = str(v)
    if "\t" in s or "\n" in s or "\r" in s:
        s = s.replace("\r\n", "\n").replace("\t", " ").replace("\r", "\n").replace("\n", " / ")
    return visible(s)


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
    (r"Got unexpected extra arguments?(?:\(s\))? \((.*)\)", lambda m: f"thừa tham số: {m[1]}"),
    (r"Option '([^']+)' requires an argument.*", lambda m: f"tùy chọn {m[1]} cần một giá trị"),
    (r"Invalid value for '([^']+)'(?: / '[^']+')?: (.*)", lambda m: f"giá trị không hợp lệ cho {m[1]}: "
     + _detail_vi(m[2])),
]


def _detail_vi(text: str) -> str:
    low = text.lower()
    if "exceeded maximum size" in low or "too large" in low:  # an integer of thousands of digits
        return "số quá lớn"
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


_PLAIN_INT = _re.compile(r"\s*[+-]?[0-9]{1,100}\s*")


class _PlainCoercion:
    """Typer's coercion of a plain `str`, `int`, `bool` or `Path` option without pydantic (≈ 0.1 s of imports and
    TypeAdapter building at each start): a text value is kept as typed, a value of digits becomes the
    int pydantic would make of it, a path is checked by Typer's own path check. Anything else (bytes, "1_000", "1.0", a huge number) goes to Typer's
    own pydantic coercion, built only then, so the results and messages are Typer's."""

    __slots__ = ("kind", "descriptor", "_slow")

    def __init__(self, kind: type, descriptor) -> None:
        self.kind, self.descriptor, self._slow = kind, descriptor, None

    def coerce(self, value, param, ctx):  # type: ignore[no-untyped-def]
        if self.kind is list:  # a list of texts (nargs=-1 or multiple)
            if value is None:
                return ()
            if isinstance(value, (list, tuple)) and all(type(v) is str for v in value):
                return list(value)
        elif value is None:
            return None
        if type(value) is self.kind and self.kind is not Path:  # a default of the right type, as pydantic keeps it
            return value
        if type(value) is str:
            if self.kind is str:
                return value
            if self.kind is int and _PLAIN_INT.fullmatch(value):
                return int(value)
            if self.kind is Path:  # Typer's own checks (exists, dir_okay …) on the Path pydantic would make
                from typer._param_types import coerce_cli_path

                return coerce_cli_path(Path(value), self.descriptor.parameter_info, path_type=Path, param=param,
                                       ctx=ctx)
        if self._slow is None:
            from typer._coercion import build_runtime_param

            self._slow = build_runtime_param(self.descriptor)
        return self._slow.coerce(value, param=param, ctx=ctx)


def _plain_coercions(params) -> None:
    """Give each plain single-valued `str`/`int`/`bool`/`Path` parameter `_PlainCoercion` (see there); others keep Typer's."""
    for param in params:
        desc = getattr(param, "type_descriptor", None)
        info = getattr(desc, "parameter_info", None)
        if info is None or getattr(param, "_runtime_param", False) is not None or desc.file_annotation is not None:
            continue
        kind = desc.annotation
        if kind == List[str] or kind == list[str]:
            kind = list
        elif param.multiple or param.nargs != 1 or kind not in (str, int, bool, Path):
            continue
        if (info.parser is not None or getattr(info, "click_type", None) is not None or info.min is not None
                or info.max is not None or info.clamp or desc.is_choice
                or desc.is_path != (desc.annotation is Path) or getattr(info, "path_type", None) not in (None, Path)):
            continue
        param._runtime_param = _PlainCoercion(kind, desc)


class ViCommand(TyperCommand):
    """A command whose help screen speaks Vietnamese.

    Whether a file can be read is the command's to say (exit 1, in Vietnamese, naming the file), not
    Click's usage error ("path … is not readable", exit 2): every path parameter is made non-checking.
    """

    def parse_args(self, ctx, args):  # type: ignore[no-untyped-def, override]
        for param in self.params:
            info = getattr(getattr(param, "type_descriptor", None), "parameter_info", None)
            if getattr(info, "readable", False):
                info.readable = False
        _plain_coercions(self.get_params(ctx))
        return super().parse_args(ctx, args)

    def get_help(self, ctx) -> str:  # type: ignore[override]
        return vi_help(super().get_help(ctx))

    def get_usage(self, ctx) -> str:  # type: ignore[override]
        return vi_help(super().get_usage(ctx))


class ViGroup(TyperGroup):
    """A command group whose help screen speaks Vietnamese."""

    def parse_args(self, ctx, args):  # type: ignore[no-untyped-def, override]
        _plain_coercions(self.get_params(ctx))
        return super().parse_args(ctx, args)

    def get_help(self, ctx) -> str:  # type: ignore[override]
        return vi_help(super().get_help(ctx))

    def get_usage(self, ctx) -> str:  # type: ignore[override]
        return vi_help(super().get_usage(ctx))


def sub_app(help: str) -> "typer.Typer":
    return typer.Typer(cls=ViGroup, help=help, no_args_is_help=True, rich_markup_mode=None)


def add(app: "typer.Typer", name: str, fn) -> None:
    """Register a command function with the Vietnamese help class."""
    app.command(name, cls=ViCommand)(fn)
