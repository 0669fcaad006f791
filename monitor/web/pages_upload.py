"""Excel/CSV round trip in the portal: download the department's workbook, upload it filled in."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import Response
from sqlmodel import Session

from monitor.accounts.permissions import NotAllowed
from monitor.progress.workbook import UploadRejected, build_csv, build_workbook, import_upload, parse_upload
from monitor.spreadsheets.limits import too_big
from monitor.store.db import write_turn
from monitor.store.models import User
from monitor.web.auth import current_user, db_session, department_for_user, require_writer, today, verify_csrf
from monitor.web.reevaluate import reevaluate
from monitor.web.templating import render

router = APIRouter(include_in_schema=False)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f"attachment; filename=\"kpiwatch.{name.rsplit('.', 1)[-1]}\"; "
                                   f"filename*=UTF-8''{quote(name)}"}


@router.get("/departments/{department_id}/workbook.xlsx")
def download_xlsx(request: Request, department_id: int, user: User = Depends(current_user),
                  session: Session = Depends(db_session)) -> Response:
    department = department_for_user(session, user, department_id)
    return Response(build_workbook(session, [department_id], today(request)), media_type=XLSX,
                    headers=_attachment(f"{department.name}-绩效监控填报.xlsx"))


@router.get("/departments/{department_id}/workbook.csv")
def download_csv(request: Request, department_id: int, user: User = Depends(current_user),
                 session: Session = Depends(db_session)) -> Response:
    department = department_for_user(session, user, department_id)
    return Response(build_csv(session, [department_id], today(request)), media_type="text/csv; charset=utf-8",
                    headers=_attachment(f"{department.name}-绩效监控填报.csv"))


@router.get("/departments/{department_id}/upload")
def upload_page(request: Request, department_id: int, user: User = Depends(current_user),
                session: Session = Depends(db_session)) -> Response:
    department = department_for_user(session, user, department_id)
    return render(request, "upload.html", {"department": department, "problems": None, "result": None})


@router.post("/departments/{department_id}/upload", dependencies=[Depends(verify_csrf)])
def upload(request: Request, department_id: int, file: UploadFile = File(...),
           user: User = Depends(current_user), session: Session = Depends(db_session)) -> Response:
    department = department_for_user(session, user, department_id)
    require_writer(user)
    limits = request.app.state.settings.limits
    data = file.file.read(limits.upload_bytes + 1)
    context = {"department": department, "problems": None, "result": None, "filename": file.filename}
    refused = too_big(data, limits)
    if refused:
        return render(request, "upload.html", {**context, "problems": [refused]}, status_code=413)
    parsed = parse_upload(file.filename or "upload", data, limits)
    with write_turn(session):
        try:
            result = import_upload(session, user, parsed, channel="upload", today=today(request))
        except UploadRejected as exc:
            session.rollback()
            return render(request, "upload.html", {**context, "problems": exc.problems}, status_code=422)
        except NotAllowed as exc:
            session.rollback()
            return render(request, "upload.html", {**context, "problems": [str(exc)]}, status_code=403)
        session.commit()
    reevaluate(request, result.projects)
    return render(request, "upload.html", {**context, "result": result})
