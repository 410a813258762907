"""Security headers of the pages and the org API. The pages load their one script and one
style sheet from `/static` and carry no inline script or style, so the policy allows only
the site itself; no page may be framed (clickjacking); HSTS is sent only in production,
where the app sits behind TLS."""

from __future__ import annotations

from flask import Flask, Response

from config.settings import Settings

POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HSTS = "max-age=31536000; includeSubDomains"


def install_security_headers(app: Flask, settings: Settings) -> None:
    @app.after_request
    def _headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        if settings.production:
            headers.setdefault("Strict-Transport-Security", HSTS)
        return response
