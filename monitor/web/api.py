"""REST API under /api/v1 (OpenAPI at /api/v1/openapi.json): Bearer-token access, department-scoped."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from monitor.store.models import User
from monitor.web.auth import api_user

router = APIRouter(prefix="/api/v1", tags=["progress"])


@router.get("/me", summary="当前令牌的用户 (who this token belongs to)")
def me(user: User = Depends(api_user)) -> dict:
    return {"username": user.username, "display_name": user.display_name, "role": user.role,
            "department_id": user.department_id}
