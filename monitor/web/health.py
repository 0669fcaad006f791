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
def readyz(request: Request, checks: str = "") -> JSONResponse:
    """All checks decide the answer, or only those named in `?checks=store,schema`: a balancer that should keep
    sending people to the portal while no scheduler runs (reminders stop, the portal works) asks for those two.
    The body always shows every check."""
    verdict = readiness(request.app.state.engine, request.app.state.settings)
    wanted = {name.strip() for name in checks.split(",") if name.strip()}
    known = {check.name for check in verdict.checks}
    if wanted - known:
        return JSONResponse({"detail": f"unknown checks: {', '.join(sorted(wanted - known))}; "
                                       f"known: {', '.join(sorted(known))}"}, status_code=400)
    ready = all(check.ok for check in verdict.checks if not wanted or check.name in wanted)
    return JSONResponse(verdict.as_dict(), status_code=200 if ready else 503, headers={"Cache-Control": "no-store"})
