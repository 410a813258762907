"""All SQL goes through named repository methods: no service reaches into the session."""

from __future__ import annotations

import re
from pathlib import Path

SERVICES = Path(__file__).resolve().parents[3] / "services"


def test_no_service_uses_the_session_or_the_engine_directly() -> None:
    offenders = [
        f"{path.name}:{number}: {line.strip()}"
        for path in sorted(SERVICES.glob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\buow\.session\b|\.connect\(\)|\bengine\.begin\(\)", line)
    ]
    assert offenders == []
