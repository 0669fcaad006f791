"""`/healthz` and `/readyz` for load balancers and service managers.

`/healthz` answers as long as the process serves HTTP, touching nothing else: restart the process when it fails.
`/readyz` is `monitor.readiness` (store reachable, schema current, scheduler alive), the same verdict as
`kpiwatch status`: take the replica out of rotation while it answers 503. Neither needs a login, and neither
says more than a check's name and reason.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from monitor.readiness import readiness

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
async def healthz() -> JSONResponse:
    return JSONResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    verdict = readiness(request.app.state.engine, request.app.state.settings)
    return JSONResponse(verdict.as_dict(), status_code=200 if verdict.ready else 503,
                        headers={"Cache-Control": "no-store"})
