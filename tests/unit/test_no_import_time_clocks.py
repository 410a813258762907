"""No test signs a delivery or reads the clock when its module is imported or collected.

A signature made at collection and checked minutes later (a busy machine, a long session) is
older than the receiver's tolerance: the test then fails by luck. Such values are built when
used, inside the test or its fixture.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
# Calls that sign, or read the wall clock.
CLOCK_OR_SIGNATURE = {"signed", "generate_signature_header", "header", "time", "now", "utcnow"}


def _name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _calls(node: ast.AST) -> Iterator[ast.Call]:
    """Calls in an expression, except inside a lambda (run later, when called)."""
    if isinstance(node, ast.Lambda):
        return
    if isinstance(node, ast.Call):
        yield node
    for child in ast.iter_child_nodes(node):
        yield from _calls(child)


def _evaluated_at_import(node: ast.AST) -> Iterator[ast.Call]:
    """Calls run when the module is imported: everything outside function bodies, including
    decorators (parametrize lists) and default argument values."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
            for expr in [*child.decorator_list, *child.args.defaults, *child.args.kw_defaults]:
                if expr is not None:
                    yield from _calls(expr)
        elif isinstance(child, ast.Lambda):
            continue
        else:
            if isinstance(child, ast.Call):
                yield child
            yield from _evaluated_at_import(child)


def offenders(root: Path) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        for call in _evaluated_at_import(ast.parse(path.read_text())):
            if _name(call) in CLOCK_OR_SIGNATURE:
                found.append(f"{path.relative_to(root)}:{call.lineno}: {ast.unparse(call)}")
    return found


def test_no_test_signs_or_reads_the_clock_at_import() -> None:
    assert offenders(TESTS) == []


def test_the_check_finds_a_signature_in_a_parametrize_list(tmp_path: Path) -> None:
    (tmp_path / "test_x.py").write_text(
        "import pytest, time\n"
        "NOW = time.time()\n"
        "@pytest.mark.parametrize('sig', [header(secret='x'), lambda: header()])\n"
        "def test_a(sig):\n"
        "    signed({}, 's')\n"
    )
    assert [line.split(": ")[0] for line in offenders(tmp_path)] == ["test_x.py:2", "test_x.py:3"]
