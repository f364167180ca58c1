"""Dependencies shared by the routers, as `Annotated[..., Depends()]` aliases."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Sequence
from ipaddress import IPv4Network, IPv6Network
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import Field

from hazmon.api.context import ApiContext
from hazmon.api.errors import RateLimited, Unauthorized
from hazmon.api.rights import Action
from hazmon.api.scope import Principal, Role
from hazmon.api.tokens import Refused, token_id_of
from hazmon.domain.registry import Registry

log = logging.getLogger(__name__)

bearer = HTTPBearer(auto_error=False, description="hzm_… token from `hazmon token create`")


def get_context(request: Request) -> ApiContext:
    ctx: ApiContext = request.app.state.api
    return ctx


Ctx = Annotated[ApiContext, Depends(get_context)]


def client_address(request: Request) -> str:
    """The client's address for limits and logs: the direct peer, unless the peer is a
    configured trusted proxy (`http.trusted_proxies`); then the right-most address of
    X-Forwarded-For that is not itself a trusted proxy. Entries further left were written
    by the client and prove nothing, so they are never used."""
    peer = request.client.host if request.client else "unknown"
    ctx: ApiContext | None = getattr(request.app.state, "api", None)
    proxies = ctx.trusted_proxies if ctx is not None else ()
    if not proxies or not _within(peer, proxies):
        return peer
    hops = [h.strip() for h in ",".join(request.headers.getlist("x-forwarded-for")).split(",")]
    for hop in reversed([h for h in hops if h]):
        if not _within(hop, proxies):
            return hop if _is_ip(hop) else peer  # garbage from the proxy: keep the proxy
    return peer


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _within(address: str, networks: Sequence[IPv4Network | IPv6Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in n for n in networks)


async def authenticate(
    request: Request,
    ctx: Ctx,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The caller, or 401; 429 past the failure limits.

    Per client address a limit blocks everything, a right token too (else a guesser still
    learns which guess was right). Per token id it blocks only wrong secrets: blocking the
    right one would let anyone who learns an id (logs, the audit) keep its holder out, and
    against the 256-bit secret a guessing limit buys nothing; it bounds the failures."""
    address = client_address(request)
    now = ctx.clock()
    wait = ctx.limiter.retry_after_s(address)
    if wait is not None:
        token_id = token_id_of(credentials.credentials) if credentials else None
        ctx.failed_sign_ins.record(now, address, token_id, "address rate limited", True)
        raise RateLimited(f"too many failed authentications; retry in {wait} s", wait)
    if credentials is None or credentials.scheme.lower() != "bearer":
        ctx.limiter.failed(address)
        ctx.failed_sign_ins.record(now, address, None, "missing")
        raise Unauthorized("missing bearer token (Authorization: Bearer hzm_…)")
    got = await ctx.tokens.check(credentials.credentials, now)
    if isinstance(got, Refused):
        ctx.limiter.failed(address)
        id_wait = None
        if got.token_id is not None:
            id_wait = ctx.token_limiter.retry_after_s(got.token_id)
            ctx.token_limiter.failed(got.token_id)
        ctx.failed_sign_ins.record(now, address, got.token_id, got.reason.value,
                                   id_wait is not None)
        # the address limit bounds these lines: at most its limit a minute per address
        log.warning("rejected API token %s from %s: %s", got.token_id or "(no id)", address,
                    got.reason.value)
        if id_wait is not None:
            raise RateLimited(f"too many failed authentications for this token; retry in "
                              f"{id_wait} s", id_wait)
        raise Unauthorized("invalid, expired or revoked token")
    principal = got
    if principal.role is Role.SIMULATOR:
        return Principal(principal.token_id, principal.name, principal.role, principal.scope,
                         ctx.simulated_enterprises())
    return principal


CurrentPrincipal = Annotated[Principal, Depends(authenticate)]


def requires(action: Action) -> Any:
    """A dependency checking the caller's right to `action` (hazmon.api.rights) before the
    endpoint runs: `principal: Annotated[Principal, requires(Action.ALARM_ACK)]`.
    Answers 403 when the role may not; scope (404 outside it) is the endpoint's business."""

    async def _check(request: Request, principal: CurrentPrincipal, ctx: Ctx) -> Principal:
        if not ctx.rights.may(principal.role, action):  # counted for the audit, by minute
            ctx.refusals.record(ctx.clock(), client_address(request), principal.token_id,
                                action.value)
        ctx.rights.check(principal, action)
        return principal

    return Depends(_check)


def current_registry(ctx: Ctx) -> Registry:
    # read once per request: a reload mid-request must not mix two registries
    return ctx.registry()


CurrentRegistry = Annotated[Registry, Depends(current_registry)]

# Query parameters shared by the list endpoints.
RegionQuery = Annotated[str | None, Query(
    pattern=r"^[0-9]{1,6}$", description="region prefix: 32 a province, 3209 a city",
)]
EnterpriseQuery = Annotated[str | None, Query(
    pattern=r"^[0-9A-HJ-NP-RTUW-Y]{18}$", description="enterprise code",
)]
HazardSourceQuery = Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_-]{1,32}$")]
TierQuery = Annotated[list[Annotated[int, Field(ge=1, le=4)]] | None,
                     Query(description="tier(s) 1-4; repeat for several")]
LimitQuery = Annotated[int, Query(ge=1, le=1000, description="items per page")]
OffsetQuery = Annotated[int, Query(ge=0, le=10_000_000, description="items to skip")]
