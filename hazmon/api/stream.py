"""GET /alarms/stream: Server-Sent Events of alarm changes as they commit.

Each change is one `event: alarm` whose data is the docs/CONTRACT.md §5.6 alarm event, filtered to
the caller's scope and the query's filters. A comment goes out every `sse_heartbeat_s`
of silence: proxies keep the connection open, and a client that has gone away is noticed
at the next write (ASGI servers report a disconnect only when sending). A reader too slow
for the event queue gets `event: overflow` and should reload the alarm list.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from hazmon.api.alarms import PriorityListQuery, StateQuery
from hazmon.api.common import ERROR_RESPONSES
from hazmon.api.deps import Ctx, CurrentPrincipal, EnterpriseQuery, HazardSourceQuery, RegionQuery
from hazmon.api.scope import Principal, narrow_region

log = logging.getLogger(__name__)

router = APIRouter(prefix="/alarms", tags=["alarms"])

RETRY_MS = 5000


def sse(event: str, data: Mapping[str, Any], event_id: str | None = None) -> str:
    lines = [f"id: {event_id}"] if event_id else []
    lines += [f"event: {event}", "data: " + json.dumps(data, ensure_ascii=False), "", ""]
    return "\n".join(lines)


class EventFilter:
    def __init__(self, principal: Principal, region: str | None, enterprise: str | None,
                 hazard_source: str | None, priority: list[str] | None,
                 state: list[str] | None, simulated: bool | None) -> None:
        self.principal = principal
        self.possible, self.region = narrow_region(principal.region_prefix, region)
        self.enterprise = enterprise
        self.hazard_source = hazard_source
        self.priority = set(priority) if priority else None
        self.state = set(state) if state else None
        self.simulated = simulated

    def __call__(self, e: Mapping[str, Any]) -> bool:
        return (self.possible and self.principal.sees_event(e)
                and (self.region is None or str(e.get("region") or "").startswith(self.region))
                and (self.enterprise is None or e.get("enterprise") == self.enterprise)
                and (self.hazard_source is None or e.get("hazard_source") == self.hazard_source)
                and (self.priority is None or e.get("priority") in self.priority)
                and (self.state is None or e.get("state") in self.state)
                and (self.simulated is None or bool(e.get("simulated")) == self.simulated))


@router.get(
    "/stream", summary="Live alarm changes (Server-Sent Events)", response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {"schema": {"type": "string"}}},
                     "description": "`event: alarm`, data = docs/CONTRACT.md §5.6 alarm event"},
               **ERROR_RESPONSES},
)
async def stream_alarms(
    ctx: Ctx, principal: CurrentPrincipal,
    region: RegionQuery = None, enterprise: EnterpriseQuery = None,
    hazard_source: HazardSourceQuery = None, priority: PriorityListQuery = None,
    state: StateQuery = None, simulated: Annotated[bool | None, Query()] = None,
) -> StreamingResponse:
    wanted = EventFilter(principal, region, enterprise, hazard_source,
                         [p.value for p in priority] if priority else None,
                         [s.value for s in state] if state else None, simulated)
    heartbeat = ctx.sse_heartbeat_s

    async def body() -> AsyncIterator[str]:
        events = ctx.alarms.events()
        dropped = 0
        try:
            # subscribed before the first byte: a client that has seen it misses nothing
            yield f"retry: {RETRY_MS}\n: connected\n\n"
            it = aiter(events)
            while True:
                try:
                    event = await asyncio.wait_for(anext(it), heartbeat)
                except TimeoutError:
                    yield ": heartbeat\n\n"
                    continue
                except StopAsyncIteration:
                    return
                if events.dropped != dropped:
                    dropped = events.dropped
                    yield sse("overflow", {"dropped": dropped})
                if wanted(event):
                    yield sse("alarm", event, f"{event['id']}-{event.get('seq', '')}")
        finally:
            events.close()
            log.debug("alarm stream of %s closed", principal.actor)

    return StreamingResponse(body(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
