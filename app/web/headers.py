"""The security baseline of both faces, in one place.

The intake serves people who may be watched: nothing may be loaded from another origin,
nothing may be cached, and no page may be framed or leak a referrer.
"""

from __future__ import annotations

from flask import Flask, Response, request

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        # The intake's Web Workers (proof of work, encryption): same-origin scripts only.
        # Said outright rather than left to the fallback on script-src.
        "worker-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
)

PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "clipboard-read",
        "display-capture",
        "geolocation",
        "gyroscope",
        "interest-cohort",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
)

BASELINE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": PERMISSIONS_POLICY,
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    # Decrypted content and receipts must never be kept by a browser or a proxy.
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
}


def install_security_headers(app: Flask, *, onion_url: str | None, hsts: bool) -> None:
    @app.after_request
    def _baseline(response: Response) -> Response:
        for name, value in BASELINE_HEADERS.items():
            response.headers[name] = value
        if hsts:
            response.headers["Strict-Transport-Security"] = "max-age=31536000"
        if onion_url:
            # Tor Browser offers the onion address for the same page.
            response.headers["Onion-Location"] = onion_url + request.full_path.rstrip("?")
        return response
