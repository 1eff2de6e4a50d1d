"""The `dvk` command line: parse, call the domain, print. Nothing heavy is imported here.

Commands live in `dvk/commands/` (one module per group). One place, `DvkGroup.invoke`,
turns domain errors into a Vietnamese message on stderr and an exit code:
0 ok, 1 user/data/environment error, 2 usage error (Typer's own), 130 interrupted.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from typing import Annotated, Optional

import typer

from dvk.commands.common import ViGroup

from dvk import __version__
from dvk.errors import DvkError

_ARGS: list[str] = []


def command_line() -> str:
    """The command as typed, for the history ("dvk register --year 2024 …")."""
    return " ".join(["dvk", *_ARGS])[:2000]


def debug_enabled() -> bool:
    return os.environ.get("DVK_DEBUG", "") not in ("", "0")


def print_error(err: DvkError) -> None:
    from dvk.commands.common import err_console

    err_console().print(f"[bold red]Lỗi:[/] {err.message}", highlight=False, markup=True)
    for line in err.details[:500]:
        err_console().print(f"  - {line}", highlight=False, markup=False)
    if len(err.details) > 500:
        err_console().print(f"  … và {len(err.details) - 500} lỗi khác.", highlight=False)


INTERRUPTED = "Đã dừng (Ctrl-C). Sổ giữ nguyên như trước lệnh."


def _interrupted(exc: BaseException) -> bool:
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


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def hold_ctrl_c() -> None:
    """From now to the end of the command, Ctrl-C does not interrupt it: called as a write commits,
    so that the commit is whole and its result printed (never "Sổ giữ nguyên" after a commit).
    `DvkGroup.main` puts the handler back when the command ends."""
    if _in_main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


class DvkGroup(ViGroup):
    """Root group: remembers the command line and maps errors to messages and exit codes."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):  # type: ignore[override]
        handler = signal.getsignal(signal.SIGINT) if _in_main_thread() else None
        try:
            return self._main(args, prog_name, complete_var, standalone_mode, **extra)
        finally:
            if handler is not None and signal.getsignal(signal.SIGINT) is not handler:
                signal.signal(signal.SIGINT, handler)  # after hold_ctrl_c

    def _main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        global _ARGS
        from typer._click.exceptions import UsageError

        _ARGS = list(sys.argv[1:] if args is None else args)
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            rv = super().main(args, prog_name or "dvk", complete_var, standalone_mode=False, **extra)
        except UsageError as exc:
            from dvk.commands.common import vi_usage_error

            path = exc.ctx.command_path if exc.ctx is not None else "dvk"
            print(f"Lỗi cú pháp lệnh: {vi_usage_error(exc.format_message())}.\n"
                  f"Xem hướng dẫn: {path} --help", file=sys.stderr)
            sys.exit(2)
        except typer.Abort as exc:
            if _interrupted(exc):  # Click's own answer to a Ctrl-C outside a command
                print(INTERRUPTED, file=sys.stderr)
                sys.exit(130)
            print("Đã dừng. Sổ giữ nguyên như trước lệnh.", file=sys.stderr)
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)

    def invoke(self, ctx):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except DvkError as err:
            if _interrupted(err):
                _ctrl_c_exit()
            print_error(err)
            raise typer.Exit(code=err.exit_code)
        except KeyboardInterrupt:
            _ctrl_c_exit()
        except (typer.Exit, typer.Abort):
            raise
        except OSError as exc:
            if _interrupted(exc):
                _ctrl_c_exit()
            if debug_enabled():
                raise
            where = f" “{exc.filename}”" if getattr(exc, "filename", None) else ""
            print(f"Lỗi: không đọc/ghi được tệp{where}: {exc.strerror or exc}.", file=sys.stderr)
            raise typer.Exit(code=1)
        except Exception as exc:  # noqa: BLE001 - last line of defence for the clerk
            if _interrupted(exc):  # Ctrl-C turned into the driver's or SQLAlchemy's own error: still Ctrl-C
                _ctrl_c_exit()
            if debug_enabled() or getattr(exc, "__module__", "").startswith("typer"):
                raise
            if type(exc).__module__.startswith("click") or type(exc).__name__ in ("UsageError", "BadParameter"):
                raise
            print(
                f"Lỗi nội bộ của dvk ({type(exc).__name__}: {exc}). Sổ giữ nguyên như trước lệnh. "
                "Chạy lại với --debug (hoặc DVK_DEBUG=1) để xem chi tiết và báo cho người phát triển.",
                file=sys.stderr,
            )
            raise typer.Exit(code=1)


def _ctrl_c_exit() -> None:
    print(INTERRUPTED, file=sys.stderr)
    raise typer.Exit(code=130)


app = typer.Typer(
    cls=DvkGroup,
    name="dvk",
    help="Sổ theo dõi và văn bản phong trào thi đua “Dân vận khéo”: đăng ký, báo cáo, xác nhận, "
    "chấm điểm, công nhận và xuất văn bản Word/Excel.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        print(f"dvk {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        Optional[bool],
        typer.Option("--version", callback=_version, is_eager=True, help="In phiên bản dvk rồi thoát."),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Hiện chi tiết lỗi nội bộ (cho người phát triển).")] = False,
    db: Annotated[
        Optional[str], typer.Option("--db", help="Tệp sổ cho mọi lệnh (cũng có thể đặt sau tên lệnh).")
    ] = None,
    user: Annotated[Optional[str], typer.Option("--user", help="Người thực hiện, ghi vào lịch sử.")] = None,
) -> None:
    """Sổ theo dõi phong trào “Dân vận khéo”."""
    if db:
        os.environ["DVK_DB"] = db
    if user:
        os.environ["DVK_USER"] = user
    if debug:
        os.environ["DVK_DEBUG"] = "1"
    if os.name == "posix":
        os.umask(0o077)  # ledger, backups and documents hold people's names: owner only


def _register_commands() -> None:
    from dvk.commands import cycle, decide, docs, intake, ledger, safety, views

    for module in (ledger, cycle, decide, views, docs, safety, intake):
        module.register(app)


_register_commands()


def main() -> None:
    """Console-script entry point.

    Once the command has ended, Ctrl-C is ignored while the process exits: Python puts the
    default SIGINT action back as it shuts down, and a late Ctrl-C would kill it by signal.
    """
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover - outside a command
        _quiet_exit()
        print("Đã dừng (Ctrl-C).", file=sys.stderr)
        sys.exit(130)
    except SystemExit:
        _quiet_exit()
        raise


def _quiet_exit() -> None:
    if _in_main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
