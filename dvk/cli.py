"""The `dvk` command line: parse, call the domain, print. Nothing heavy is imported here.

Commands live in `dvk/commands/` (one module per group). One place, `DvkGroup.invoke`,
turns domain errors into a Vietnamese message on stderr and an exit code:
0 ok, 1 user/data/environment error, 2 usage error (Typer's own), 130 interrupted,
141 the reader of the output went away (`dvk list --json | head -1`: quietly, as Unix tools do).
Every message is printed with its control characters visible and its long values cut.
"""

from __future__ import annotations

import os
import signal
import sys
from dataclasses import dataclass
from typing import Annotated, Optional

import typer

from dvk.commands.common import INTERRUPTED, ViGroup, check_user, exit_broken_pipe, in_main_thread, interrupted

from dvk import __version__
from dvk.errors import DvkError
from dvk.text.safety import for_message, shorten, visible

# Click's usage error (a missing option, an unknown one, a bad value), reached through a public class:
# Typer ≥ 0.26 carries its own Click and exposes only `typer.BadParameter`, a subclass.
_USAGE_ERROR = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")


@dataclass
class CliState:
    """What one run of the command line knows before a command starts: the words typed (for the
    history) and the root options (`dvk --db F --user U --debug register …`). Held by Click's context
    object of this run — never in the environment or a module global."""

    argv: list[str]
    db: str | None = None
    user: str | None = None
    debug: bool = False

    @property
    def command(self) -> str:
        """The command as typed, for the history ("dvk register --year 2024 …"); control characters
        (which a refused value may hold) are recorded visibly."""
        return visible(" ".join(["dvk", *self.argv])[:2000], keep_tabs=False)


def debug_enabled(ctx=None) -> bool:
    state = getattr(ctx.find_root(), "obj", None) if ctx is not None else None
    if isinstance(state, CliState) and state.debug:
        return True
    return os.environ.get("DVK_DEBUG", "") not in ("", "0")


def print_error(err: DvkError) -> None:
    from dvk.commands.common import err_console

    from rich.text import Text

    err_console().print(Text.assemble(("Lỗi:", "bold red"), " ", for_message(err.message)), highlight=False)
    for line in err.details[:500]:
        err_console().print(f"  - {for_message(line)}", highlight=False, markup=False)
    if len(err.details) > 500:
        err_console().print(f"  … và {len(err.details) - 500} lỗi khác.", highlight=False)


class DvkGroup(ViGroup):
    """Root group: remembers the command line and maps errors to messages and exit codes."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):  # type: ignore[override]
        handler = signal.getsignal(signal.SIGINT) if in_main_thread() else None
        try:
            return self._main(args, prog_name, complete_var, standalone_mode, **extra)
        finally:
            if handler is not None and signal.getsignal(signal.SIGINT) is not handler:
                signal.signal(signal.SIGINT, handler)  # after hold_ctrl_c

    def _main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        extra.setdefault("obj", CliState(list(sys.argv[1:] if args is None else args)))
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            rv = super().main(args, prog_name or "dvk", complete_var, standalone_mode=False, **extra)
            sys.stdout.flush()  # here, where a closed pipe can still be handled
        except _USAGE_ERROR as exc:
            from dvk.commands.common import vi_usage_error

            path = exc.ctx.command_path if exc.ctx is not None else "dvk"
            message = vi_usage_error(exc.format_message()).rstrip(".")
            print(for_message(f"Lỗi cú pháp lệnh: {message}.\nXem hướng dẫn: {path} --help"), file=sys.stderr)
            sys.exit(2)
        except DvkError as err:  # refused while the root options were read (--user)
            print_error(err)
            sys.exit(err.exit_code)
        except BrokenPipeError:
            exit_broken_pipe()
        except typer.Abort as exc:
            if interrupted(exc):  # Click's own answer to a Ctrl-C outside a command
                print(INTERRUPTED, file=sys.stderr)
                sys.exit(130)
            print("Đã dừng. Sổ giữ nguyên như trước lệnh.", file=sys.stderr)
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)

    def invoke(self, ctx):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except DvkError as err:
            if interrupted(err):
                _ctrl_c_exit()
            print_error(err)
            raise typer.Exit(code=err.exit_code)
        except KeyboardInterrupt:
            _ctrl_c_exit()
        except (typer.Exit, typer.Abort):
            raise
        except BrokenPipeError:
            exit_broken_pipe()
        except OSError as exc:
            if interrupted(exc):
                _ctrl_c_exit()
            if debug_enabled(ctx):
                raise
            from dvk.ledger.failures import os_reason

            where = f" “{exc.filename}”" if getattr(exc, "filename", None) else ""
            reason = os_reason(exc).rstrip(".")
            print(for_message(f"Lỗi: không đọc/ghi được tệp{where}: {reason}."), file=sys.stderr)
            raise typer.Exit(code=1)
        except Exception as exc:  # noqa: BLE001 - last line of defence for the clerk
            if interrupted(exc):  # Ctrl-C turned into the driver's or SQLAlchemy's own error: still Ctrl-C
                _ctrl_c_exit()
            if debug_enabled(ctx) or getattr(exc, "__module__", "").startswith("typer"):
                raise
            if type(exc).__module__.startswith("click") or type(exc).__name__ in ("UsageError", "BadParameter"):
                raise
            print(for_message(
                f"Lỗi nội bộ của dvk ({type(exc).__name__}: {shorten(str(exc), 500)}). Sổ giữ nguyên như trước "
                "lệnh. Chạy lại với --debug (hoặc DVK_DEBUG=1) để xem chi tiết và báo cho người phát triển."),
                file=sys.stderr,
            )
            raise typer.Exit(code=1)


def _ctrl_c_exit() -> None:
    print(INTERRUPTED, file=sys.stderr)
    raise typer.Exit(code=130)


_APP_SETTINGS = dict(
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
app = typer.Typer(**_APP_SETTINGS)


def _version(value: bool) -> None:
    if value:
        print(f"dvk {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    version: Annotated[
        Optional[bool],
        typer.Option("--version", callback=_version, is_eager=True, help="In phiên bản dvk rồi thoát."),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Hiện chi tiết lỗi nội bộ (cho người phát triển).")] = False,
    db: Annotated[
        Optional[str], typer.Option("--db", help="Tệp sổ cho mọi lệnh (cũng có thể đặt sau tên lệnh).")
    ] = None,
    user: Annotated[Optional[str], typer.Option("--user", help="Người thực hiện, ghi vào lịch sử.",
                                                callback=check_user)] = None,
) -> None:
    """Sổ theo dõi phong trào “Dân vận khéo”."""
    if ctx.obj is None:
        ctx.obj = CliState([])
    ctx.obj.db, ctx.obj.user, ctx.obj.debug = db or None, user or None, debug
    if os.name == "posix":
        os.umask(0o077)  # ledger, backups and documents hold people's names: owner only


def _register_commands() -> None:
    from dvk.commands import council, cycle, decide, docs, intake, ledger, levels, safety, users, views

    for module in (ledger, cycle, decide, views, docs, safety, intake, council, levels, users):
        module.register(app)


_register_commands()


_ROOT_VALUE_OPTIONS = ("--db", "--user")


def _command_word(argv: list[str]) -> str | None:
    """The command (or group) named on a command line, after the root options; None when the line asks
    the root itself (--help, --version, nothing) or holds an option the root does not know."""
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in _ROOT_VALUE_OPTIONS:
            i += 2
        elif a == "--debug" or a.startswith(tuple(o + "=" for o in _ROOT_VALUE_OPTIONS)):
            i += 1
        elif a.startswith("-"):
            return None
        else:
            return a
    return None


def app_for(argv: list[str]) -> typer.Typer:
    """The application to run for `argv`: the root with only the command (or group) typed — Typer then
    builds one command's parameters, not all 28 (≈ 0.1–0.3 s at each start) — or the whole `app` for
    the root's own help, its version, an unknown command (Click's "no such command" lists them all)."""
    word = _command_word(argv)
    commands = [c for c in app.registered_commands if c.name == word]
    groups = [g for g in app.registered_groups if g.name == word]
    if word is None or not (commands or groups):
        return app
    slim = typer.Typer(**_APP_SETTINGS)
    slim.registered_callback = app.registered_callback
    slim.registered_commands = commands
    slim.registered_groups = groups
    return slim


def main() -> None:
    """Console-script entry point.

    Once the command has ended, Ctrl-C is ignored while the process exits: Python puts the
    default SIGINT action back as it shuts down, and a late Ctrl-C would kill it by signal.
    """
    try:
        app_for(sys.argv[1:])()
    except KeyboardInterrupt:  # pragma: no cover - outside a command
        _quiet_exit()
        print("Đã dừng (Ctrl-C).", file=sys.stderr)
        sys.exit(130)
    except SystemExit:
        _quiet_exit()
        raise


def _quiet_exit() -> None:
    if in_main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
