"""What `seatflow dev` prints last, once every process is up: a framed block with the URLs,
the demo owner's one-time token (or how to make one) and commands typed as they run here."""

from __future__ import annotations

import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

RULE = "=" * 78


@dataclass(frozen=True)
class Demo:
    org_id: str
    owner_id: str
    token: str | None  # only when this run created the owner: it is stored hashed


def seatflow_command() -> str:
    """`seatflow` as it can be typed here: the script beside this interpreter (a fresh
    clone's `.venv/bin/seatflow`, which is not on PATH), relative to the working folder when
    it is under it; bare `seatflow` only when PATH finds that same script."""
    script = Path(sys.executable).parent / "seatflow"
    if not script.is_file():
        return f"{shlex.quote(sys.executable)} -m cli.main"
    found = shutil.which("seatflow")
    if found and Path(found).resolve() == script.resolve():
        return "seatflow"
    try:
        return shlex.quote(str(script.relative_to(Path.cwd())))
    except ValueError:
        return shlex.quote(str(script))


def block(port: int, api_port: int, demo: Demo | None) -> str:
    """The block, as one string (written in one piece, so no child's line splits it)."""
    seatflow = seatflow_command()
    lines = [
        "seatflow dev is running; Ctrl-C stops every process.",
        f"  pages and org API  http://127.0.0.1:{api_port}/  "
        f"(sign in at http://127.0.0.1:{api_port}/signin)",
        f"  webhooks           http://127.0.0.1:{port}/webhooks/stripe",
    ]
    commands = [f"{seatflow} org list"]
    if demo is not None:
        if demo.token is not None:
            lines += [
                f"The owner token of the demo organization {demo.org_id}, shown only now:",
                demo.token,
            ]
        else:
            lines += [
                f"The demo organization {demo.org_id} is from an earlier run; its owner's "
                "token was shown then. A new one:",
                f"{seatflow} token create --member {demo.owner_id}",
            ]
        commands += [
            f"{seatflow} member list --org {demo.org_id}",
            f"{seatflow} token list --org {demo.org_id}",
        ]
    lines += ["What is there:", *commands]
    return "\n".join([RULE, *lines, RULE])
