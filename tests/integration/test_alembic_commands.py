"""Alembic from the repository root, `seatflow db revision`, and models that agree with the
migrations by alembic's own `check` (on SQLite: no server needed)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, inspect

from tests.support import ROOT

ALEMBIC = str(Path(sys.executable).with_name("alembic"))


def run(args: list[str], data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "CELERY_"))}
    env.update(DATABASE_URL=f"sqlite:///{data_dir / 'a.sqlite'}", SEATFLOW_DATA_DIR=str(data_dir))
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=90)


def test_alembic_upgrade_head_works_from_the_repository_root(tmp_path: Path) -> None:
    done = run([ALEMBIC, "upgrade", "head"], tmp_path)
    assert done.returncode == 0, done.stderr
    engine = create_engine(f"sqlite:///{tmp_path / 'a.sqlite'}")
    assert {"inbox", "organizations", "subscriptions"} <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_models_and_migrations_agree_by_alembic_check(tmp_path: Path) -> None:
    assert run([ALEMBIC, "upgrade", "head"], tmp_path).returncode == 0
    done = run([ALEMBIC, "check"], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No new upgrade operations detected" in done.stdout + done.stderr


def test_db_revision_autogenerates_the_next_numbered_migration(tmp_path: Path) -> None:
    seatflow = [sys.executable, "-m", "cli.main"]
    assert run([*seatflow, "db", "upgrade"], tmp_path).returncode == 0
    versions = tmp_path / "versions"
    versions.mkdir()
    args = ["revision", "-m", "add a column", "--autogenerate", "--version-path", str(versions)]
    done = run([*seatflow, "db", *args], tmp_path)
    assert done.returncode == 0, done.stderr
    heads = sorted(p.name for p in (ROOT / "migrations" / "versions").glob("0*.py"))
    number = int(heads[-1][:4])
    [created] = versions.glob("*.py")
    assert created.name == f"{number + 1:04d}_add_a_column.py"
    text = created.read_text()
    assert f'down_revision = "{number:04d}"' in text or f"down_revision = '{number:04d}'" in text
    assert "add a column" in text
    assert str(created) in done.stdout


def test_db_downgrade_rolls_back_to_a_revision_and_db_current_names_it(tmp_path: Path) -> None:
    seatflow = [sys.executable, "-m", "cli.main"]
    heads = sorted(p.name[:4] for p in (ROOT / "migrations" / "versions").glob("0*.py"))
    assert run([*seatflow, "db", "upgrade"], tmp_path).returncode == 0
    current = run([*seatflow, "db", "current"], tmp_path)
    assert current.returncode == 0, current.stderr
    assert current.stdout.strip() == f"database is at migration {heads[-1]}"

    done = run([*seatflow, "db", "downgrade", heads[-2]], tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"database is at migration {heads[-2]}"
    assert run([*seatflow, "db", "current"], tmp_path).stdout.strip().endswith(heads[-2])

    assert run([*seatflow, "db", "upgrade"], tmp_path).returncode == 0
    assert run([*seatflow, "db", "current"], tmp_path).stdout.strip().endswith(heads[-1])
