"""What the WeCom and DingTalk group robots share: a JSON POST answered by
`{"errcode": 0, "errmsg": "ok"}`, and a short Chinese markdown card of the message.

Both answer HTTP 200 for most refusals and put the reason in `errcode`: 0 is a delivery,
a code in the channel's retryable set (rate limits, "system busy") is retried with the
notifier's backoff, any other code is permanent (a wrong key, a refused signature: a
retry would be refused the same way). Non-2xx statuses are classified like the
webhook's (408, 425, 429 and 5xx retried); a 2xx answer that is not the robot's JSON
(a proxy's page) is retried.

What a robot channel reads of a `Message`: `id`, `subject`, `text`, `simulated` and
`recipient.phone` (to @ the person) — so an alarm, a digest or a warning push composed
elsewhere goes out the same way.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any

import httpx

from hazmon.alerts.notify.channels.secrets import redact
from hazmon.alerts.notify.channels.text import markdown_safe, national_mobile
from hazmon.alerts.notify.message import DeliveryError, Message

RETRY_STATUS = frozenset({408, 425, 429})
SIMULATED_MARK = "[演练]"


def json_body(body: Mapping[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def status_error(channel: str, resp: httpx.Response, secrets: tuple[str, ...]) -> DeliveryError:
    status = resp.status_code
    permanent = not (status >= 500 or status in RETRY_STATUS)
    return DeliveryError(channel, redact(f"HTTP {status}: {resp.text[:200]}", *secrets),
                         permanent=permanent)


def transport_error(channel: str, exc: httpx.HTTPError,
                    secrets: tuple[str, ...]) -> DeliveryError:
    # str(exc) of some httpx errors names the URL, which carries the robot's credential
    return DeliveryError(channel, redact(f"POST failed: {type(exc).__name__}: {exc}", *secrets))


async def post_robot(client: httpx.AsyncClient, channel: str, url: str | httpx.URL,
                     body: Mapping[str, Any], *, timeout_s: float,
                     retry_codes: Collection[int], secrets: tuple[str, ...]) -> None:
    """POST `body`; return when the robot answers errcode 0, else raise DeliveryError."""
    try:
        resp = await client.post(url, content=json_body(body), timeout=timeout_s,
                                 headers={"Content-Type": "application/json; charset=utf-8"})
    except httpx.HTTPError as exc:
        raise transport_error(channel, exc, secrets) from None
    if not resp.is_success:
        raise status_error(channel, resp, secrets)
    try:
        answer = resp.json()
        errcode = int(answer["errcode"])
    except (ValueError, KeyError, TypeError):
        raise DeliveryError(channel, redact(f"not a robot answer: {resp.text[:200]!r}",
                                            *secrets)) from None
    if errcode == 0:
        return
    errmsg = str(answer.get("errmsg", ""))[:200]
    raise DeliveryError(channel, redact(f"errcode {errcode}: {errmsg}", *secrets),
                        permanent=errcode not in retry_codes)


def headline(message: Message) -> str:
    """The card's title: the subject, marked when it comes from a simulated feed."""
    subject = message.subject
    if message.simulated and SIMULATED_MARK not in subject:
        subject = f"{SIMULATED_MARK} {subject}"
    return subject


def mentioned(message: Message, always: Collection[str], mention_recipient: bool) -> list[str]:
    """Mobiles to @ (11 digits): the configured ones, then the recipient's (a 包保 person),
    each once; a recipient without a mobile number is not mentioned."""
    out = list(dict.fromkeys(always))
    phone = national_mobile(message.recipient.phone or "") if mention_recipient else None
    if phone and phone not in out:
        out.append(phone)
    return out


def quoted(text: str) -> str:
    """The message text as a markdown quote, one quoted line per line of text."""
    return "\n".join(f"> {markdown_safe(line)}" for line in text.splitlines() or [""])
