"""Services see only the ports: all SQL goes through named repository methods of the unit of
work they are given (`domain.ports.UnitOfWork`), never the session, the engine or an adapter."""

from __future__ import annotations

import ast
import re
from pathlib import Path

SERVICES = Path(__file__).resolve().parents[3] / "services"
MODULES = sorted(SERVICES.rglob("*.py"))


def _imported(path: Path) -> list[tuple[int, str]]:
    """(line, module or module.name) of every import in the file, nested ones included."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def test_every_service_module_is_read() -> None:
    assert SERVICES / "upgrades" / "charge.py" in MODULES  # the packages' modules too


def test_no_service_uses_the_session_or_the_engine_directly() -> None:
    offenders = [
        f"{path.relative_to(SERVICES)}:{number}: {line.strip()}"
        for path in MODULES
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\buow\.session\b|\.connect\(\)|\bengine\.begin\(\)", line)
    ]
    assert offenders == []


def test_no_service_imports_the_sql_unit_of_work_or_an_adapter() -> None:
    offenders = [
        f"{path.relative_to(SERVICES)}:{line}: {name}"
        for path in MODULES
        for line, name in _imported(path)
        if "SqlUnitOfWork" in name or name.split(".")[0] == "adapters"
    ]
    assert offenders == []
