"""Security headers of the pages and the org API. The pages load their one script and one
style sheet from `/static` and carry no inline script or style, so the policy allows only
the site itself; no page may be framed (clickjacking); HSTS is sent only in production,
where the app sits behind TLS."""

from __future__ import annotations

from flask import Flask, Response, request

from config.settings import Settings

# Forms post to seatflow only, but some answer with a redirect to Stripe's hosted pages
# (Checkout in setup mode, the Billing Portal), which `form-action` must allow.
STRIPE_HOSTED = ("https://checkout.stripe.com", "https://billing.stripe.com")


def policy(settings: Settings) -> str:
    """The CSP; a fake Stripe's hosted pages (`STRIPE_API_BASE`) are allowed as Stripe's."""
    hosted = [*STRIPE_HOSTED]
    if settings.stripe_api_base:
        scheme, _, rest = settings.stripe_api_base.partition("://")
        hosted.append(f"{scheme}://{rest.split('/')[0]}")
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "object-src 'none'",
            "base-uri 'none'",
            f"form-action 'self' {' '.join(hosted)}",
            "frame-ancestors 'none'",
        )
    )


HSTS = "max-age=31536000; includeSubDomains"
# The style sheet, the script and the icon are the same for everyone; every other answer
# (pages, API answers, license files) is someone's own and is never stored by a cache.
SHARED = frozenset({"static", "pages.static", "history.favicon"})


def install_security_headers(app: Flask, settings: Settings) -> None:
    csp = policy(settings)

    @app.after_request
    def _headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", csp)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        if settings.production:
            headers.setdefault("Strict-Transport-Security", HSTS)
        if request.endpoint not in SHARED:
            headers["Cache-Control"] = "no-store"
        return response
