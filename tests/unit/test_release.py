"""The release's papers agree: the license file and the `license` metadata name one license,
and the changelog's newest released version is the one in pyproject.toml (and so the one
`seatflow --version` prints), with an Unreleased section above it."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_the_license_file_is_the_license_the_metadata_names() -> None:
    assert PROJECT["license"] == "Apache-2.0"
    assert PROJECT["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text


def test_the_changelogs_newest_release_is_the_projects_version() -> None:
    headings = re.findall(r"^## \[([^\]]+)\](?: - (\d{4}-\d{2}-\d{2}))?$", _changelog(), re.M)
    assert headings[0] == ("Unreleased", "")
    released = [(version, day) for version, day in headings[1:]]
    assert released, "no released version"
    assert all(day for _, day in released), "a released version needs its date"
    assert released[0][0] == PROJECT["version"]
    versions = [tuple(map(int, v.split("."))) for v, _ in released]
    assert versions == sorted(versions, reverse=True)


def test_the_changelog_keeps_a_changelogs_sections() -> None:
    sections = set(re.findall(r"^### (\w+)$", _changelog(), re.M))
    assert sections <= {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}
    assert sections


def _changelog() -> str:
    return (ROOT / "CHANGELOG.md").read_text()
