"""GET /me: who the token is and what its role may do (hazmon.api.rights), so the page
shows only the actions the server would accept. The server still checks every action."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from hazmon.api.common import ERROR_RESPONSES
from hazmon.api.deps import Ctx, CurrentPrincipal
from hazmon.api.rights import Action
from hazmon.api.scope import Role

router = APIRouter(tags=["caller"], responses=ERROR_RESPONSES)


class CallerRights(BaseModel):
    token_id: str
    name: str
    role: Role
    scope: str
    actions: list[Action] = Field(description="the actions this role may take "
                                              "(the table in force, http.rights)")
    warnings: bool = Field(description="whether the warning part runs (/warnings answers)")


@router.get("/me", summary="The caller: its token, role, scope and rights")
async def me(ctx: Ctx, principal: CurrentPrincipal) -> CallerRights:
    actions = [a for a in Action if ctx.rights.may(principal.role, a)]
    return CallerRights(token_id=principal.token_id, name=principal.name,
                        role=principal.role, scope=principal.scope, actions=actions,
                        warnings=ctx.warnings is not None)
