"""The demo's last step, after `kpiwatch demo` without `--no-serve`: the portal on the demo store."""

from __future__ import annotations

import uvicorn

from monitor.demo.context import DemoContext
from monitor.web.app import create_app
from monitor.web.serve import settle_heap

DEMO_HOST = "127.0.0.1"
DEMO_PORT = 8000


def serve_demo(context: DemoContext) -> None:
    """Serve the demo store on 127.0.0.1:8000 until Ctrl-C, after printing the URL and the demo logins."""
    console = context.console
    console.print(f"\n[bold]门户 (portal)[/bold]: http://{DEMO_HOST}:{DEMO_PORT}/  (Ctrl-C 停止)")
    if context.demo_logins:
        console.print("演示账号 (demo logins):")
        for username, password, role, department in context.demo_logins:
            console.print(f"  {username:<22} {password:<16} {role:<7} {department}")
    app = create_app(context.settings, context.engine)
    app.state.clock = lambda: context.as_of  # the demo lives on its as-of date: what is due, what is late
    settle_heap()
    uvicorn.run(app, host=DEMO_HOST, port=DEMO_PORT, log_level="warning")
