"""The portal (FastAPI + Jinja2) and the REST API under /api/v1. Start with `monitor.web.app.create_app`."""
