"""Behind a reverse proxy: who the client really is, and whether it came over HTTPS.

A proxy connects from its own address; what it saw goes in `X-Forwarded-For` (the client's address) and
`X-Forwarded-Proto` (the scheme). Those headers are believed only from `[portal] trusted_proxies`: anybody else
could write them to slip past the login throttle or into the audit trail under another address. Uvicorn's own
middleware does the reading (addresses and networks, the last untrusted hop of the chain); it rewrites the
request's client and scheme, so everything after it — the throttle, the audit trail, the access log, the
cookie flags below — sees the real client without knowing a proxy exists.
"""

from __future__ import annotations

import ipaddress

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from monitor.config import PortalConfig


class SecureCookiesOverHttps:
    """Mark every cookie Secure when the request came over HTTPS, so a session begun over HTTPS is never
    sent back in the clear; `[portal] secure_cookies` forces it for every request instead."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("scheme") != "https":
            await self.app(scope, receive, send)
            return

        async def send_secure(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                cookies = headers.getlist("set-cookie")
                if any("secure" not in _attributes(cookie) for cookie in cookies):
                    del headers["set-cookie"]
                    for cookie in cookies:
                        headers.append("set-cookie", cookie if "secure" in _attributes(cookie) else
                                       f"{cookie}; secure")
            await send(message)

        await self.app(scope, receive, send_secure)


def _attributes(cookie: str) -> set[str]:
    return {part.strip().split("=", 1)[0].lower() for part in cookie.split(";")[1:]}


def install(app: FastAPI, portal: PortalConfig) -> None:
    """Add the proxy-header reading (only when proxies are trusted) outside everything else, and the cookie flags."""
    app.add_middleware(SecureCookiesOverHttps)
    if portal.trusted_proxies:
        networks = [str(ipaddress.ip_network(item, strict=False)) for item in portal.trusted_proxies]
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=networks)
