"""How the portal and the API answer a service's refusal, in one place for every workflow (rounds, 整改,
目标调整): another department's object is 404 (it does not exist for them), a role that may not act 403, and a
refusal of the step itself (a round closed, an adjustment decided twice) 409 in the API or the page again with
the reason in the portal. Whatever was refused, the step's session is rolled back: nothing is half-written.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

from fastapi import HTTPException, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from monitor.accounts.permissions import NotAllowed, NotVisible


def refusal(exc: Exception) -> HTTPException:
    """A permission refusal as HTTP: another department's object 404, a forbidden role 403."""
    if isinstance(exc, NotVisible):
        return HTTPException(404, str(exc))
    return HTTPException(403, str(exc))


@contextmanager
def api_step(session: Session, conflicts: tuple[type[Exception], ...]) -> Iterator[None]:
    """An API step committed whole, or rolled back and answered 404/403, or 409 for the service's `conflicts`."""
    try:
        yield
        session.commit()
    except (NotVisible, NotAllowed) as exc:
        session.rollback()
        raise refusal(exc) from exc
    except conflicts as exc:
        session.rollback()
        raise HTTPException(409, str(exc)) from exc


def back(path: str, *, problem: str | None = None, saved: str | None = None, anchor: str = "",
         version: int | None = None) -> RedirectResponse:
    """After a form's post: back to the page (303), with the problem or what was saved to show there."""
    query = f"?problem={quote(problem)}" if problem else (f"?saved={quote(saved)}" if saved else "")
    if version is not None:
        query += f"&version={version}"
    return RedirectResponse(f"{path}{query}{anchor}", status_code=303)


def flash(request: Request) -> dict[str, Any]:
    """What `back` sent along, for the page's template."""
    return {"problem": request.query_params.get("problem"), "saved": request.query_params.get("saved"),
            "version": request.query_params.get("version")}
