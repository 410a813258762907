"""Each benchmark run leaves a JSON file with its figures, the commit, the machine and the
command; bench/RESULTS.md's tables are generated from those files."""

from __future__ import annotations

import json
import os
import subprocess
from argparse import Namespace
from pathlib import Path

from bench import report, results


def _repo(path: Path) -> Path:
    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(path), *args], check=True, capture_output=True)

    path.mkdir()
    git("init", "-q")
    (path / "a.txt").write_text("one\n")
    git("add", "a.txt")
    git("-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-qm", "first")
    return path


def test_the_commit_is_recorded_with_whether_the_work_tree_had_changes(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo")
    head = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert results.commit(repo) == {"commit": head, "dirty": False}
    (repo / "a.txt").write_text("two\n")
    assert results.commit(repo) == {"commit": head, "dirty": True}
    assert results.commit(tmp_path) == {"commit": None, "dirty": False}  # not a repository


def test_a_run_is_written_with_its_figures_command_machine_and_load_before(
    tmp_path: Path,
) -> None:
    run = results.start(
        "burst", Namespace(small_events=False, label="smoke"), argv=["--events", "300"]
    )
    run.load_before = [9.5, 4.0, 2.0]  # as the run found the machine
    run.code = {"commit": run.code["commit"], "dirty": True}  # the tree as the run began
    path = results.write(
        run, [{"ingest_per_s": 812, "cpu_us_per_event": {"worker": 700}}], tmp_path
    )
    doc = json.loads(path.read_text())
    assert path.name == f"burst-{run.started_at:%Y%m%dT%H%M%SZ}.json"
    assert doc["command"] == "python -m bench.burst --events 300"
    assert doc["rows"] == [{"ingest_per_s": 812, "cpu_us_per_event": {"worker": 700}}]
    assert doc["label"] == "smoke"
    assert (doc["commit"], doc["dirty"]) == (run.code["commit"], run.code["dirty"])
    assert run.code["commit"] == results.commit()["commit"]
    machine = doc["machine"]
    assert machine["cores"] == os.cpu_count()
    assert machine["load_before"] == [9.5, 4.0, 2.0] and len(machine["load_after"]) == 3
    assert machine["python"].count(".") == 2
    assert doc["events"]["kind"] == "full-size" and doc["events"]["bytes"] >= 4000
    assert doc["started_at"] <= doc["finished_at"]


def test_the_small_events_are_recorded_as_such() -> None:
    run = results.start("writer", Namespace(small_events=True, label=""), argv=[])
    assert run.events["kind"] == "small samples" and run.events["bytes"] < 1000


def _doc(name: str, when: str, rows: list[dict], **more: object) -> dict:
    return {
        "name": name,
        "started_at": when,
        "finished_at": when,
        "commit": "0123456789abcdef",
        "dirty": False,
        "command": f"python -m bench.{name}",
        "label": "",
        "machine": {"cores": 2, "load_before": [0.4, 0.3, 0.2], "python": "3.11.7"},
        "events": {"kind": "full-size", "bytes": 4834},
        "rows": rows,
        **more,
    }


def _write(directory: Path, doc: dict) -> None:
    directory.mkdir(exist_ok=True)
    (directory / f"{doc['name']}-{doc['started_at']}.json").write_text(json.dumps(doc))


def test_the_report_has_a_table_per_benchmark_with_the_newest_runs(tmp_path: Path) -> None:
    out = tmp_path / "results"
    for n in range(7):
        _write(out, _doc("burst", f"2026-12-06T2{n}:00:00", [{"ingest_per_s": 1000 + n}]))
    busy = _doc("pipeline-latency", "2026-12-06T22:30:00", [{"p99_ms": 61.5, "rate": 100.0}])
    busy["machine"]["load_before"] = [7.47, 5.7, 2.9]
    busy["dirty"], busy["label"] = True, "smoke"
    _write(out, busy)
    text = report.render(report.load(out), runs=5)
    burst = text[text.index("### burst") : text.index("### pipeline-latency")]
    assert "Command: `python -m bench.burst`" in burst
    assert [line.split(" | ")[6] for line in burst.splitlines() if "| 2026" in line] == [
        "1,002",
        "1,003",
        "1,004",
        "1,005",
        "1,006",
    ]
    assert "| 2026-12-06 22:30 | 0123456+dirty | 7.47/2 busy | full-size 4834 B | smoke |" in text
    assert "| 62 |" not in text and "| 61.5 |" in text


def test_the_newest_profile_is_shown_with_its_command_and_commit(tmp_path: Path) -> None:
    out = tmp_path / "results"
    entries = [
        {"function": "orm.py:10(load)", "ncalls": "400", "tottime_s": 0.5, "cumtime_s": 2.0},
        {"function": "json:1(loads)", "ncalls": "400/2", "tottime_s": 0.25, "cumtime_s": 0.25},
    ]
    rows = [{"events": 2000, "cpu_us_per_event": 800}]
    _write(
        out,
        _doc(
            "profile_worker",
            "2026-12-06T23:00:00",
            rows,
            profile=entries,
            profile_cumulative=[
                {
                    "function": "services/stripe_events.py:196(_apply_together)",
                    "ncalls": "400",
                    "tottime_s": 0.125,
                    "cumtime_s": 0.9,
                }
            ],
            profile_total_s=1.0,
        ),
    )
    text = report.render(report.load(out))
    assert "`python -m bench.profile_worker` at 0123456, 2026-12-06 23:00 UTC" in text
    assert "| `orm.py:10(load)` | 400 | 0.500 | 50.0 | 2.000 |" in text
    assert text.index("orm.py") < text.index("json:1")
    own_code = text[text.index("seatflow's own functions") :]
    assert "| `services/stripe_events.py:196(_apply_together)` | 400 | 0.125 | 12.5 | 0.900 |" in (
        own_code
    )


def test_regenerating_replaces_only_the_generated_part(tmp_path: Path) -> None:
    out = tmp_path / "results"
    _write(out, _doc("burst", "2026-12-06T20:00:00", [{"ingest_per_s": 1000}]))
    written = "# Benchmark results\n\nMachine: two cores.\n\n## Receiver\n\nby hand\n"
    first = report.update(written, report.render(report.load(out)))
    assert first.startswith("# Benchmark results\n\nMachine: two cores.\n\n" + report.BEGIN)
    assert first.endswith(report.END + "\n\n## Receiver\n\nby hand\n")
    _write(out, _doc("burst", "2026-12-06T21:00:00", [{"ingest_per_s": 2000}]))
    second = report.update(first, report.render(report.load(out)))
    assert "| 2,000 |" in second and second.count(report.BEGIN) == 1
    assert second.endswith(report.END + "\n\n## Receiver\n\nby hand\n")
    assert report.update(second, report.render(report.load(out))) == second


def test_the_committed_results_md_is_what_the_generator_makes_of_the_committed_results() -> None:
    text = report.RESULTS_MD.read_text()
    assert text == report.update(text, report.render(report.load(results.DIRECTORY)))
