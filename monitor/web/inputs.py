"""Requests that name what cannot exist are answered, not crashed on.

An id in a URL beyond what the store's keys can hold (`/projects/9223372036854775808`) names nothing: 404, before
any query runs (SQLite would raise OverflowError, PostgreSQL NumericValueOutOfRange). A number that slips past
every reader into a query anyway (a form field typed `int`) is a 422 naming no internals. Ids in JSON bodies and
workbooks are read by `monitor.progress.parsing.record_id`, which gives None beyond the same bound.
"""

from __future__ import annotations

from fastapi import HTTPException, Request

from monitor.progress.parsing import MAX_RECORD_ID

NOT_FOUND = "不存在 (not found)"
OUT_OF_RANGE = "数值超出范围，未保存任何内容 (a number is out of range; nothing stored)"


async def ids_in_range(request: Request) -> None:
    """A dependency of every route (but `POST /api/v1/reports`, whose path has no ids and whose handler FastAPI
    does not run: `api.RequestToResponse`): a path parameter named `…_id` holding a number beyond any key is a 404.

    `async` because it never waits: FastAPI runs a plain `def` dependency on its thread pool, a thread hop per
    request; with the dependency solving around it, about 15 % of an API worker's time under load
    (bench/README.md, "Sessions 10 and 11")."""
    for name, raw in request.path_params.items():
        if name.endswith("_id") and isinstance(raw, str) and raw.isdigit() and int(raw) > MAX_RECORD_ID:
            raise HTTPException(404, NOT_FOUND)


def is_out_of_range(exc: BaseException) -> bool:
    """Whether a store error is an integer or numeric value its column cannot hold."""
    text = str(getattr(exc, "orig", exc))
    return isinstance(exc, OverflowError) or "out of range" in text
