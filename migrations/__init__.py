"""Alembic's migrations of seatflow's schema: `env.py` and the scripts in `versions/`."""

from __future__ import annotations

from functools import cache
from pathlib import Path

FOLDER = Path(__file__).parent


@cache
def head() -> str:
    """The revision the scripts end at: what a database must be at for seatflow to run."""
    from alembic.script import ScriptDirectory

    found = ScriptDirectory(str(FOLDER), version_locations=[str(FOLDER / "versions")])
    return str(found.get_current_head())
