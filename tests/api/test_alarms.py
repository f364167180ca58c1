"""GET /alarms paging and filters, GET /alarms/{id} with history, and the actions."""

from __future__ import annotations

from hazmon.core.clock import rfc3339
from hazmon.domain.signal import Priority
from tests.api.support import ENT, ENT2, HS_B, MINUTE, T0, TAG_A2, TAG_B, Api, signal


async def _three(api: Api) -> list[str]:
    a = await api.alarms.handle_signal(signal(ts=T0))
    b = await api.alarms.handle_signal(signal(tag=TAG_A2, rule="high", ts=T0 + MINUTE,
                                              priority=Priority.LOW, value=0.9, limit=0.8))
    c = await api.alarms.handle_signal(signal(enterprise=ENT2, hazard_source=HS_B, tag=TAG_B,
                                              ts=T0 + 2 * MINUTE, priority=Priority.CRITICAL,
                                              value=51, limit=50))
    assert a
    assert b
    assert c
    return [a.id, b.id, c.id]


async def test_list_is_newest_first_and_pages_with_a_cursor(api: Api) -> None:
    ids = await _three(api)
    r = await api.get("province", "/api/v1/alarms", params={"limit": 2})
    assert r.status_code == 200
    body = r.json()
    assert [a["id"] for a in body["items"]] == [ids[2], ids[1]]
    assert body["next_cursor"] == ids[1]
    r = await api.get("province", "/api/v1/alarms",
                      params={"limit": 2, "cursor": body["next_cursor"]})
    assert [a["id"] for a in r.json()["items"]] == [ids[0]]
    assert r.json()["next_cursor"] is None
    first = r.json()["items"][0]
    assert first["enterprise"] == ENT
    assert first["region"] == "320921"
    assert first["tier"] == 3
    assert first["state"] == "unack_active"
    assert first["raised_at"] == rfc3339(T0)
    assert first["message"] == "罐区一 T101 液位 10.61 m ≥ 高高限 10.5 m"


async def test_list_filters(api: Api) -> None:
    ids = await _three(api)

    async def q(**params: object) -> list[str]:
        r = await api.get("province", "/api/v1/alarms", params=params)
        assert r.status_code == 200, r.text
        return [a["id"] for a in r.json()["items"]]

    assert await q(region="320902") == [ids[2]]
    assert await q(region="3209") == ids[::-1]
    assert await q(region="3210") == []
    assert await q(enterprise=ENT) == [ids[1], ids[0]]
    assert await q(priority=["critical", "high"]) == [ids[2], ids[0]]
    assert await q(state="unack_active", tag=TAG_A2) == [ids[1]]
    assert await q(**{"from": rfc3339(T0 + MINUTE), "to": str(T0 + 2 * MINUTE)}) == [ids[1]]
    await api.alarms.ack(ids[0], "test", "")
    assert await q(state="ack_active") == [ids[0]]
    hs_b_tier = (await api.get("province", "/api/v1/alarms", params={"enterprise": ENT2}))
    tier_b = hs_b_tier.json()["items"][0]["tier"]
    assert ids[2] in await q(tier=tier_b)
    r = await api.get("province", "/api/v1/alarms", params={"priority": "urgent"})
    assert r.status_code == 422
    assert r.json()["error"] == "invalid_request"
    assert r.json()["errors"][0]["loc"] == "query.priority.0"
    r = await api.get("province", "/api/v1/alarms", params={"from": "yesterday"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == "query.from"
    r = await api.get("province", "/api/v1/alarms", params={"from": "2026-13-45T00:00:00Z"})
    assert r.status_code == 400
    assert r.json()["message"].startswith("from: time '2026-13-45T00:00:00Z' is not RFC 3339")
    r = await api.get("province", "/api/v1/alarms", params={"cursor": "not-a-ulid"})
    assert r.status_code == 422


async def test_detail_has_the_whole_history(api: Api) -> None:
    ids = await _three(api)
    await api.post("enterprise", f"/api/v1/alarms/{ids[0]}/ack", json={"note": "已通知班长"})
    await api.alarms.handle_signal(signal("clear", ts=T0 + 5 * MINUTE, value=9.0))
    r = await api.get("province", f"/api/v1/alarms/{ids[0]}")
    assert r.status_code == 200
    d = r.json()
    assert [h["event"] for h in d["history"]] == ["raised", "acknowledged", "cleared"]
    assert d["history"][1]["actor"] == "enterprise:test-enterprise"
    assert d["history"][1]["data"] == {"note": "已通知班长"}
    assert d["state"] == "normal"
    assert d["open"] is False
    assert d["closed_at"] is not None
    r = await api.get("province", "/api/v1/alarms/01J0000000000000000000000X")
    assert r.status_code == 404
    assert r.json() == {"error": "not_found", "message": "no alarm 01J0000000000000000000000X"}


async def test_ack_then_again_is_409_with_the_reason(api: Api) -> None:
    ids = await _three(api)
    r = await api.post("enterprise", f"/api/v1/alarms/{ids[0]}/ack", json={"note": "收到"})
    assert r.status_code == 200
    assert r.json()["state"] == "ack_active"
    assert r.json()["acked_by"] == "enterprise:test-enterprise"
    r = await api.post("enterprise", f"/api/v1/alarms/{ids[0]}/ack")  # no body: empty note
    assert r.status_code == 409
    assert r.json()["error"] == "refused"
    assert r.json()["reason"] == "already acknowledged"
    assert r.json()["state"] == "ack_active"


async def test_shelve_and_unshelve(api: Api) -> None:
    ids = await _three(api)
    url = f"/api/v1/alarms/{ids[1]}"
    r = await api.post("enterprise", url + "/shelve", json={"minutes": 30, "reason": "检修"})
    assert r.status_code == 200, r.text
    shelved = r.json()["shelved"]
    assert shelved["reason"] == "检修"
    assert shelved["by"] == "enterprise:test-enterprise"
    assert shelved["until"] == rfc3339(api.clock() + 30 * MINUTE)
    r = await api.post("enterprise", url + "/shelve", json={"minutes": 30, "reason": "again"})
    assert r.status_code == 409
    assert r.json()["reason"] == "already shelved"
    r = await api.post("enterprise", url + "/unshelve")
    assert r.status_code == 200
    assert r.json()["shelved"] is None
    r = await api.post("enterprise", url + "/unshelve", json={"reason": "x"})
    assert r.status_code == 409
    assert r.json()["reason"] == "not shelved"


async def test_bodies_are_validated(api: Api) -> None:
    ids = await _three(api)
    url = f"/api/v1/alarms/{ids[0]}"
    bad_shelves = [
        {"minutes": 0, "reason": "x"}, {"minutes": 1441, "reason": "x"},
        {"minutes": 30}, {"minutes": 30, "reason": "   "}, {"minutes": "30", "reason": "x"},
        {"minutes": 30.5, "reason": "x"}, {"minutes": True, "reason": "x"},
        {"minutes": 30, "reason": "x", "until": 5}, {"minutes": 30, "reason": "x" * 2001},
    ]
    for body in bad_shelves:
        r = await api.post("enterprise", url + "/shelve", json=body)
        assert r.status_code == 422, body
        assert r.json()["error"] == "invalid_request"
        assert r.json()["message"].startswith("invalid request: body")
    for body in ({"text": ""}, {"text": " "}, {}, {"text": "a" * 2001}, {"txt": "a"}):
        r = await api.post("enterprise", url + "/comments", json=body)
        assert r.status_code == 422, body
    r = await api.post("enterprise", url + "/shelve", json={"minutes": 30.0, "reason": "x"})
    assert r.status_code == 200
    assert r.json()["shelved"]["until"] is not None
    r = await api.post("enterprise", url + "/ack", json={"note": "n" * 2001})
    assert r.status_code == 422
    r = await api.post("enterprise", url + "/ack", content=b"{not json",
                       headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    r = await api.post("enterprise", url + "/comments", json={"text": "现场已确认"})
    assert r.status_code == 201
    detail = (await api.get("province", url)).json()
    assert detail["history"][-1]["event"] == "commented"
    assert detail["history"][-1]["data"] == {"text": "现场已确认"}


async def test_unknown_paths_and_methods_answer_json(api: Api) -> None:
    r = await api.get("province", "/api/v1/nothing")
    assert r.status_code == 404
    assert r.json()["error"] == "not_found"
    r = await api.client.delete("/api/v1/alarms", headers=api.auth("province"))
    assert r.status_code == 405
    assert r.json()["error"] == "method_not_allowed"
