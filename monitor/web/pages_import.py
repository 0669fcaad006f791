"""The finance bureau's upload of a published target table (PDF, Word, Excel, web page, text) for import.

The same import as `kpiwatch import FILE`: first a dry run that shows what the file holds (projects, funds,
indicator accounting, reconciliation, rejected rows) and what it does not say, then, on the admin's confirmation,
the import itself in one transaction, audited under the admin's name. The uploaded bytes wait between the two
steps in the store (`ImportUpload`, under their SHA-256), so the file imported is the file previewed, whichever
replica the confirmation reaches. The preview and every refusal are in the page's language
(`monitor.web.import_preview`, `ImportFailure.describe`), the document's own words quoted as written.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import Response
from markupsafe import Markup, escape
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from monitor.importers.document import ImportFailure, ParsedDocument
from monitor.importers.load import StoreResult, resolve_identity, store_document
from monitor.importers.output import parse_any
from monitor.spreadsheets.limits import too_big
from monitor.store.db import write_turn
from monitor.store.models import ImportUpload, User
from monitor.store.uploads import prune_uploads
from monitor.web.auth import db_session, require_admin, verify_csrf
from monitor.web.i18n import one_language, resolve_lang
from monitor.web.import_preview import preview as preview_of
from monitor.web.templating import render
from rules.calendar import SHANGHAI

router = APIRouter(include_in_schema=False)
SUFFIXES = (".pdf", ".docx", ".xlsx", ".xlsm", ".xls", ".html", ".htm", ".txt", ".csv", ".tsv")
_SHA = re.compile(r"^[0-9a-f]{64}$")
GONE = "预览的文件已不在服务器上，请重新上传 (the previewed file is no longer on the server; upload it again)"
REFUSED_WRITE = ("数据库拒绝写入，整个文件未导入，已回滚：{0} "
                 "(the database refused the write; nothing of the file was imported, all rolled back: {0})")


@dataclass
class Choice:
    """What the admin chose on the form: the identity a file may lack, and whether a cut-off table may load."""

    department_code: str | None
    year: int | None
    allow_partial: bool


def _keep(session: Session, sha: str, filename: str, data: bytes, user: User) -> None:
    """Keep a previewed upload until its confirmation; previews left unconfirmed for a day are let go."""
    now = datetime.now(SHANGHAI)
    prune_uploads(session, now)
    session.merge(ImportUpload(sha256=sha, filename=filename, data=data, uploaded_by=user.id, uploaded_at=now))
    session.commit()


@contextmanager
def _as_file(data: bytes, filename: str) -> Iterator[Path]:
    """The bytes as a private temporary file with the upload's suffix, which the readers choose by."""
    with tempfile.TemporaryDirectory(prefix="kpiwatch-import-") as folder:
        path = Path(folder) / f"upload{_suffix(filename)}"
        path.write_bytes(data)
        yield path


def _suffix(filename: str) -> str:
    suffix = Path(filename).suffix.lower()
    return suffix if suffix in SUFFIXES else ".txt"


def _choice(department_code: str, year: str, allow_partial: str) -> Choice:
    code = department_code.strip() or None
    digits = year.strip()
    if digits and not (digits.isdigit() and len(digits) == 4):
        raise ImportFailure(f"年度「{digits[:10]}」不是四位数字的年份",
                            en=f"the year 「{digits[:10]}」 is not a four-digit year", field_name="年度")
    return Choice(code, int(digits) if digits else None, allow_partial == "1")


def _parse(path: Path, filename: str, choice: Choice) -> ParsedDocument:
    """The dry run, with every message naming the uploaded file (not where it waits on the server)."""
    try:
        doc = parse_any(path, allow_partial=choice.allow_partial)
        doc.source_file = filename
        resolve_identity(doc, year=choice.year, department_code=choice.department_code)
    except ImportFailure as exc:
        if exc.file in (None, str(path)):
            exc.file = filename
        raise
    return doc


def _page(request: Request, **context: object) -> dict[str, object]:
    base: dict[str, object] = {"doc": None, "view": None, "problem": None, "result": None, "filename": None,
                               "sha": None, "choice": Choice(None, None, False)}
    merged = base | context
    if isinstance(merged["doc"], ParsedDocument):
        merged["view"] = preview_of(merged["doc"], resolve_lang(request))
    if isinstance(merged["problem"], str):
        # already in the page's language; as markup it is not split again as a "中文 (english)" message, which
        # would cut a refusal such as "扫描件.pdf: … (PdfReadError)" at its last parentheses
        merged["problem"] = Markup(escape(merged["problem"]))
    return merged


def _refusal(request: Request, exc: ImportFailure) -> str:
    """The refusal whole in the page's language: where, what, and each cell's problem."""
    return exc.describe(resolve_lang(request))


@router.get("/admin/import")
def import_page(request: Request, user: User = Depends(require_admin)) -> Response:
    return render(request, "import.html", _page(request))


@router.post("/admin/import/preview", dependencies=[Depends(verify_csrf)])
def preview(request: Request, file: UploadFile = File(...), department_code: str = Form(""), year: str = Form(""),
            allow_partial: str = Form(""), user: User = Depends(require_admin),
            session: Session = Depends(db_session)) -> Response:
    limits = request.app.state.settings.limits
    filename = Path(file.filename or "upload.txt").name
    data = file.file.read(limits.upload_bytes + 1)
    refused = too_big(data, limits)
    if refused:
        return render(request, "import.html", _page(request, problem=f"{filename}: "
                                                    f"{one_language(refused, resolve_lang(request))}",
                                                    filename=filename), status_code=413)
    sha = hashlib.sha256(data).hexdigest()
    try:
        choice = _choice(department_code, year, allow_partial)
        with _as_file(data, filename) as path:
            doc = _parse(path, filename, choice)
    except ImportFailure as exc:
        if exc.file is None:
            exc.file = filename
        return render(request, "import.html", _page(request, problem=_refusal(request, exc), filename=filename),
                      status_code=422)
    with write_turn(session):
        _keep(session, sha, filename, data, user)
    return render(request, "import.html", _page(request, doc=doc, filename=filename, sha=sha, choice=choice))


@router.post("/admin/import", dependencies=[Depends(verify_csrf)])
def run_import(request: Request, sha: str = Form(...), filename: str = Form(...), department_code: str = Form(""),
               year: str = Form(""), allow_partial: str = Form(""), user: User = Depends(require_admin),
               session: Session = Depends(db_session)) -> Response:
    filename = Path(filename).name
    kept = session.get(ImportUpload, sha) if _SHA.match(sha) else None
    if kept is None:
        gone = one_language(GONE, resolve_lang(request))
        return render(request, "import.html", _page(request, problem=f"{filename}: {gone}"), status_code=410)
    data = kept.data
    try:
        choice = _choice(department_code, year, allow_partial)
        with _as_file(data, filename) as path:
            doc = _parse(path, filename, choice)
        with write_turn(session):
            session.info["actor"], session.info["channel"] = user.username, "import"
            result: StoreResult = store_document(session, doc, year=choice.year,
                                                 department_code=choice.department_code,
                                                 strict_month_before=request.app.state.settings.targets
                                                 .strict_month_before)
            session.delete(kept)
            session.commit()
    except ImportFailure as exc:
        session.rollback()
        return render(request, "import.html", _page(request, problem=_refusal(request, exc), filename=filename),
                      status_code=422)
    except SQLAlchemyError as exc:
        session.rollback()
        refused = one_language(REFUSED_WRITE.format(exc.__class__.__name__), resolve_lang(request))
        return render(request, "import.html", _page(request, problem=f"{filename}: {refused}", filename=filename),
                      status_code=500)
    return render(request, "import.html", _page(request, doc=doc, filename=filename, result=result))
