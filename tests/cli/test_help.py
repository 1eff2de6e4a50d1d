"""Every command explains itself in Vietnamese (like sqlite-utils' test_docs)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from dvk.cli import app


def _commands():
    from typer.main import get_command

    root = get_command(app)
    out = []

    def walk(group, path):
        for name, cmd in group.commands.items():
            out.append((path + [name], cmd))
            if hasattr(cmd, "commands"):
                walk(cmd, path + [name])

    walk(root, [])
    return out


COMMANDS = _commands()


def test_the_brief_s_commands_exist():
    names = {" ".join(p) for p, _ in COMMANDS}
    for n in ("init", "info", "register", "report", "confirm", "score", "check", "recognize", "list", "show",
              "status", "history", "demo", "org show", "org set", "units add", "units import", "units list",
              "criteria show", "criteria use"):
        assert n in names, n


@pytest.mark.parametrize("path,cmd", COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_every_command_and_option_has_vietnamese_help(path, cmd):
    assert cmd.help, f"{path} has no help text"
    for p in cmd.params:
        if getattr(p, "param_type_name", "") == "option" and p.name not in ("help",):
            assert p.help, f"{path} option {p.name} has no help"
    res = CliRunner().invoke(app, [*path, "--help"])
    assert res.exit_code == 0
    assert "Cách dùng:" in res.stdout and "Show this message" not in res.stdout
    assert "Hiện hướng dẫn này rồi thoát." in res.stdout


def test_usage_errors_are_vietnamese_with_exit_code_2():
    res = CliRunner().invoke(app, ["register", "--year", "x"])
    assert res.exit_code == 2
    assert "Lỗi cú pháp lệnh" in res.stderr and "phải là số nguyên" in res.stderr
    res = CliRunner().invoke(app, ["khong-co-lenh"])
    assert res.exit_code == 2 and "không có lệnh “khong-co-lenh”" in res.stderr


def test_version():
    from dvk import __version__

    res = CliRunner().invoke(app, ["--version"])
    assert res.exit_code == 0 and res.stdout.strip() == f"dvk {__version__}"


def test_an_extra_argument_is_named_in_vietnamese(tmp_path):
    """Click 8.2 says "Got unexpected extra argument(s) (…)": it reached the clerk in English."""
    from typer.testing import CliRunner

    from dvk.cli import app

    result = CliRunner().invoke(app, ["--db", str(tmp_path / "l.sqlite"), "register", "--year", "2024",
                                      "--unit", "BV", "--title", "Mô hình", "--field", "1", "31/02/2024"])
    assert result.exit_code == 2
    said = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert "thừa tham số: 31/02/2024" in said
    assert "Got unexpected" not in said
