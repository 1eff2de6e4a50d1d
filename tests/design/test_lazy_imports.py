"""The fast paths stay lazy: `dvk --help`/`--version` import no database or document library."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("sqlalchemy", "sqlmodel", "docx", "docxtpl", "openpyxl", "alembic")


def _modules_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys\nprint('\\n'.join(sys.modules))"],
                         capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_importing_the_cli_imports_nothing_heavy():
    mods = _modules_after("import dvk.cli")
    assert not {m for m in mods if m.split(".")[0] in HEAVY}


def test_version_and_help_import_nothing_heavy():
    for args in (["--version"], ["--help"], ["register", "--help"]):
        code = ("import sys\nfrom dvk.cli import app\n"
                f"sys.argv = ['dvk', *{args!r}]\n"
                "try:\n    app()\nexcept SystemExit:\n    pass\n")
        mods = _modules_after(code)
        assert not {m for m in mods if m.split(".")[0] in HEAVY}, args


def test_version_fast_path_does_not_even_import_typer():
    code = ("import sys\nsys.argv = ['dvk', '--version']\nfrom dvk.entry import main\nmain()\n")
    mods = _modules_after(code)
    assert "typer" not in mods and "sqlalchemy" not in mods
    out = subprocess.run([sys.executable, "-m", "dvk", "--version"], capture_output=True, text=True, check=True)
    from dvk import __version__

    assert out.stdout.strip() == f"dvk {__version__}"


# What the reading and writing commands import on an up-to-date ledger (no document library, no Alembic,
# no SQLModel): tests/design/test_fast_commands.py, one process per command.


def test_command_modules_do_not_postpone_annotations():
    """Typer reads every option's annotation at each start; postponed (string) annotations made it
    compile() each one again — 40 ms of `dvk --help`. Command modules evaluate them at import."""
    from pathlib import Path

    commands = Path(__file__).resolve().parents[2] / "dvk" / "commands"
    late = [p.name for p in sorted(commands.glob("*.py"))
            if "from __future__ import annotations" in p.read_text(encoding="utf-8")]
    assert late == []
