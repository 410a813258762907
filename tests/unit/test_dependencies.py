"""pyproject.toml's dependencies: bounded where an upgrade changes what goes over the wire,
no stub package shadowing a library's own types, and constraints.txt agreeing with them."""

from __future__ import annotations

import importlib.util
import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
RUNTIME = [Requirement(r) for r in PROJECT["dependencies"]]
DEV = [Requirement(r) for r in PROJECT["optional-dependencies"]["dev"]]


def pinned() -> dict[str, str]:
    lines = (ROOT / "constraints.txt").read_text().splitlines()
    found = (re.fullmatch(r"([A-Za-z0-9_.\-]+)==(\S+)", line.strip()) for line in lines)
    return {canonicalize_name(m.group(1)): m.group(2) for m in found if m}


def test_the_stripe_sdk_has_an_upper_bound() -> None:
    stripe = next(r for r in RUNTIME if r.name == "stripe")
    assert any(spec.operator in ("<", "<=", "~=", "==") for spec in stripe.specifier), stripe


def test_no_stub_package_shadows_types_a_library_ships() -> None:
    for requirement in DEV:
        if not requirement.name.startswith("types-"):
            continue
        module = requirement.name.removeprefix("types-").replace("-", "_").lower()
        spec = importlib.util.find_spec(module)
        if spec is not None and spec.submodule_search_locations:
            typed = Path(next(iter(spec.submodule_search_locations))) / "py.typed"
            assert not typed.exists(), f"{requirement.name}: {module} ships its own types"


def test_constraints_pin_every_dependency_within_its_range() -> None:
    versions = pinned()
    for requirement in (*RUNTIME, *DEV):
        name = canonicalize_name(requirement.name)
        assert name in versions, f"{name} is not in constraints.txt"
        assert requirement.specifier.contains(versions[name], prereleases=True), (
            f"constraints.txt pins {name}=={versions[name]}, outside {requirement}"
        )


def test_constraints_pin_no_stub_package_nothing_asks_for() -> None:
    asked = {canonicalize_name(r.name) for r in DEV}
    stubs = {name for name in pinned() if name.startswith("types-")}
    # A stub package may come in as another one's dependency: then that one is asked for.
    assert not stubs or asked & stubs, stubs
