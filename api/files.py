"""License downloads: the file name in `Content-Disposition` is built from safe characters
only, whatever a stored id holds (quotes or line breaks would break or forge the header)."""

from __future__ import annotations

import re

from flask import Response

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def safe_filename(stem: str) -> str:
    return (_UNSAFE.sub("_", stem)[:120] or "license") + ".json"


def download(text: str, stem: str) -> Response:
    return Response(
        text,
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{safe_filename(stem)}"'},
    )
