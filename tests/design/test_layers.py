"""The import rules of the layers (docs/architecture.md), checked over every module's source with `ast`.

- Imports go down the layers only (a module may import its own layer or a lower one), and the
  module graph has no cycle — function-level (lazy) imports count as imports.
- typer and rich are imported only by the CLI layer.
- Only the storage layer (`dvk/ledger/`) uses sqlite3, PRAGMAs, `sqlite_master`, driver-level SQL
  (`exec_driver_sql`) or the DB-API connection.
No allow-list: a violation fails.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PKG = ROOT / "dvk"

# Layer of each module (longest matching prefix wins), bottom first.
LAYERS = {
    0: ("dvk", "dvk.errors", "dvk.text", "dvk.files", "dvk.data"),
    1: ("dvk.models", "dvk.criteria", "dvk.scoring", "dvk.rules", "dvk.wording"),
    2: ("dvk.ledger",),
    3: ("dvk.cycle",),
    4: ("dvk.intake", "dvk.reports", "dvk.demo"),
    5: ("dvk.cli", "dvk.commands", "dvk.entry", "dvk.__main__"),
}
LAYER_NAMES = {0: "nền (errors, text)", 1: "quy tắc thuần (models, criteria, scoring, rules, wording)", 2: "lưu trữ (ledger)",
               3: "nghiệp vụ (cycle)", 4: "ứng dụng (intake, reports, demo)", 5: "dòng lệnh (cli, commands)"}
CLI_ONLY = ("typer", "rich", "click")
STORAGE_ONLY_IMPORTS = ("sqlite3",)
STORAGE_ONLY_TEXT = re.compile(r"\bPRAGMA\b|sqlite_master|exec_driver_sql|dbapi_connection|\.raw\(\)")


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def modules() -> dict[str, Path]:
    out = {}
    for p in sorted(PKG.rglob("*.py")):
        if "migrations" in p.parts and "versions" in p.parts:
            continue  # Alembic's revision scripts are data run by the storage layer
        out[module_name(p)] = p
    return out


def layer_of(name: str) -> int:
    best, layer = -1, None
    for n, prefixes in LAYERS.items():
        for pre in prefixes:
            covers = name == pre or (pre != "dvk" and name.startswith(pre + "."))  # "dvk": the package itself only
            if covers and len(pre) > best:
                best, layer = len(pre), n
    assert layer is not None, f"module {name} belongs to no layer: add it to LAYERS and docs/architecture.md"
    return layer


def _without_type_checking(tree: ast.Module) -> ast.Module:
    """Drop `if TYPE_CHECKING:` blocks: names for annotations only, never imported at run time."""
    for node in ast.walk(tree):
        for field in ("body", "orelse"):
            body = getattr(node, field, None)
            if isinstance(body, list):
                setattr(node, field, [n for n in body if not (
                    isinstance(n, ast.If) and isinstance(n.test, ast.Name) and n.test.id == "TYPE_CHECKING")])
    return tree


def imports_of(path: Path, name: str) -> list[tuple[int, str]]:
    tree = _without_type_checking(ast.parse(path.read_text(encoding="utf-8")))
    out = []
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            out.append((node.lineno, mod))
            # `from dvk.reports import pdf` imports the module dvk.reports.pdf
            for a in node.names:
                out.append((node.lineno, f"{mod}.{a.name}"))
    return out


ALL = modules()


def dvk_targets(path: Path, name: str) -> list[tuple[int, str]]:
    found = []
    for line, mod in imports_of(path, name):
        if mod in ALL and mod != name:
            found.append((line, mod))
    return found


@pytest.mark.parametrize("name", sorted(ALL))
def test_imports_go_down_the_layers(name):
    path = ALL[name]
    mine = layer_of(name)
    bad = [f"{path.relative_to(ROOT)}:{line} imports {mod} ({LAYER_NAMES[layer_of(mod)]}) from "
           f"{LAYER_NAMES[mine]}" for line, mod in dvk_targets(path, name) if layer_of(mod) > mine]
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("name", sorted(ALL))
def test_typer_and_rich_only_in_the_cli(name):
    if layer_of(name) == 5:
        return
    path = ALL[name]
    bad = [f"{path.relative_to(ROOT)}:{line} imports {mod}" for line, mod in imports_of(path, name)
           if mod.split(".")[0] in CLI_ONLY]
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("name", sorted(ALL))
def test_only_storage_speaks_sqlite(name):
    if layer_of(name) == 2:
        return
    path = ALL[name]
    bad = [f"{path.relative_to(ROOT)}:{line} imports {mod}" for line, mod in imports_of(path, name)
           if mod.split(".")[0] in STORAGE_ONLY_IMPORTS]
    for no, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        code = text.split("#", 1)[0]
        if STORAGE_ONLY_TEXT.search(code):
            bad.append(f"{path.relative_to(ROOT)}:{no}: {text.strip()}")
    assert not bad, "\n".join(bad)


def test_no_import_cycles():
    graph = {name: sorted({mod for _, mod in dvk_targets(path, name)}) for name, path in ALL.items()}
    # a package's __init__ is imported by each of its modules' imports; only real edges count here
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[str] = []

    def visit(n: str) -> None:
        state[n] = 1
        stack.append(n)
        for m in graph.get(n, ()):
            if state.get(m) == 1:
                cycles.append(" -> ".join(stack[stack.index(m):] + [m]))
            elif m not in state:
                visit(m)
        stack.pop()
        state[n] = 2

    for n in sorted(graph):
        if n not in state:
            visit(n)
    assert not cycles, "\n".join(cycles)


def test_every_module_is_at_most_about_600_lines():
    long = [f"{p.relative_to(ROOT)}: {n} lines" for p in ALL.values()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 650]
    assert not long, "\n".join(long)
