"""The demo's last step, after `kpiwatch demo` without `--no-serve`: the portal on the demo store."""

from __future__ import annotations

import uvicorn

from monitor.demo.context import DEMO_HOST, DemoContext
from monitor.web.app import create_app
from monitor.web.serve import settle_heap


def serve_demo(context: DemoContext) -> None:
    """Serve the demo store on 127.0.0.1 (port 8000 or `--port`) until Ctrl-C, after printing the URL and logins."""
    console = context.console
    console.print(f"\n[bold]门户 (portal)[/bold]: http://{DEMO_HOST}:{context.port}/  (Ctrl-C 停止)")
    console.print(f"以后再次打开 (later): KPIWATCH_DATABASE_URL={context.url} kpiwatch serve --port {context.port}")
    if context.demo_logins:
        console.print("演示账号 (demo logins):")
        for username, password, role, department in context.demo_logins:
            console.print(f"  {username:<22} {password:<16} {role:<7} {department}")
    app = create_app(context.settings, context.engine)
    app.state.clock = lambda: context.as_of  # the demo lives on its as-of date: what is due, what is late
    settle_heap()
    uvicorn.run(app, host=DEMO_HOST, port=context.port, log_level="warning")
