"""`/api/docs` (Swagger UI) and `/api/redoc` (ReDoc) from files shipped in the package, never from a CDN.

The portal runs on government intranets that often reach no public host: a documentation page whose script
comes from a CDN is blank there. Both viewers are vendored unmodified under `static/vendor/` with their licence
files (swagger-ui-dist 5.35.0, Apache-2.0; redoc 2.5.4, MIT); to upgrade, replace those files from the new
npm releases (`npm pack swagger-ui-dist redoc`).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from pydantic import TypeAdapter

router = APIRouter(include_in_schema=False)

VENDOR = "/static/vendor"
DOCS_PATHS = ("/api/docs", "/api/redoc")


@router.get("/api/docs")
def swagger_ui(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=request.app.openapi_url,
        title=f"{request.app.title} — Swagger UI",
        swagger_js_url=f"{VENDOR}/swagger-ui/swagger-ui-bundle.js",
        swagger_css_url=f"{VENDOR}/swagger-ui/swagger-ui.css",
        swagger_favicon_url=f"{VENDOR}/swagger-ui/favicon-32x32.png",
        # The online validator badge would send the schema to a public host.
        swagger_ui_parameters={"validatorUrl": None},
    )


@router.get("/api/redoc")
def redoc(request: Request) -> HTMLResponse:
    return get_redoc_html(
        openapi_url=request.app.openapi_url,
        title=f"{request.app.title} — ReDoc",
        redoc_js_url=f"{VENDOR}/redoc/redoc.standalone.js",
        redoc_favicon_url=f"{VENDOR}/swagger-ui/favicon-32x32.png",
        with_google_fonts=False,
    )


def body_and_bearer(body: TypeAdapter[Any]) -> dict[str, Any]:
    """The OpenAPI of an endpoint that reads its JSON body and its bearer token itself (`openapi_extra`): the body's
    schema, inlined (its models under their titles), and the same bearer scheme as the endpoints that depend on it."""
    schema = body.json_schema(ref_template="{model}")
    models = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            if set(node) == {"$ref"}:
                return inline(models[node["$ref"]])
            return {key: inline(value) for key, value in node.items()}
        if isinstance(node, list):
            return [inline(item) for item in node]
        return node

    return {"requestBody": {"required": True, "content": {"application/json": {"schema": inline(schema)}}},
            "security": [{"HTTPBearer": []}]}
