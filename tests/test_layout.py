"""The package's shape, as the house rules state it: modules by layer of at most 500 lines, Python functions of at
most 60 lines, no import circle between the package's modules, and ruff's lint and format clean."""

from __future__ import annotations

import ast
import pathlib
import shutil
import subprocess

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "fastw2v"
MODULES = sorted(PACKAGE.glob("*.py"))
MAX_MODULE_LINES, MAX_FUNCTION_LINES = 500, 60


def imports_of(path: pathlib.Path) -> set[str]:
    """The package modules that ``path`` imports, at its top or inside a function."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                names.add(node.module.split(".")[0])
            else:
                names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("fastw2v."):
            names.add(node.module.split(".")[1])
    return names & {p.stem for p in MODULES}


def cycle_in(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle of ``graph`` as a list of modules, or None."""
    state: dict[str, int] = {}

    def visit(name, path):
        state[name] = 1
        for other in sorted(graph[name]):
            if state.get(other) == 1:
                return path[path.index(other) :] + [other]
            if other not in state:
                found = visit(other, path + [other])
                if found:
                    return found
        state[name] = 2
        return None

    for name in sorted(graph):
        if name not in state:
            found = visit(name, [name])
            if found:
                return found
    return None


def test_cycle_in_finds_a_circle():
    assert cycle_in({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle_in({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_module_is_at_most_500_lines(path):
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_MODULE_LINES, f"{path.name} has {lines} lines: split it by layer"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_functions_are_at_most_60_lines(path):
    long = [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert not long, f"{path.name}: {', '.join(long)}"


def test_no_import_circle():
    graph = {p.stem: imports_of(p) - {p.stem} for p in MODULES}
    assert cycle_in(graph) is None, " -> ".join(cycle_in(graph))


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]], ids=["lint", "format"])
def test_ruff_is_clean(command):
    """ruff (pyproject.toml's settings: 120 columns) finds nothing to fix in the repository."""
    root = PACKAGE.parent
    ruff = shutil.which("ruff") or pytest.fail("ruff is not installed: pip install -e '.[test]'")
    done = subprocess.run([ruff, *command, "--no-cache", str(root)], capture_output=True, text=True, cwd=root)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-1000:]
