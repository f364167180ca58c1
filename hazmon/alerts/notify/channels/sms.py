"""SMS through an HTTP gateway, as a configurable signed request.

Provinces buy SMS from different vendors, so the request is a template (its placeholders
are listed in sms_template.py) rather than one vendor's SDK:

    - name: sms-320921
      type: sms
      url: https://sms.vendor.example/v1/send
      key: {env: HAZMON_SMS_KEY}          # the HMAC key: never inline
      key_id: hazmon-320921               # optional, as {key_id}
      sign_name: 响水县应急管理局
      template_code: SMS_2024001
      template_params: {content: "{text}"}
      body: {PhoneNumbers: "{phone}", SignName: "{sign_name}",
             TemplateCode: "{template_code}", TemplateParam: "{template_params_json}",
             OutId: "{message_id}"}
      response: {code_field: Code, ok: [OK], retry: [isv.BUSINESS_LIMIT_CONTROL]}

Each attempt sends `method url` with the rendered body as compact UTF-8 JSON and:

    Content-Type:           application/json; charset=utf-8
    {timestamp_header}:     unix time of this attempt (seconds, or ms: timestamp_unit)
    {nonce_header}:         32 random hex digits, new for each attempt
    {signature_header}:     {signature_prefix} + HMAC-SHA256(key, canonical), hex or base64
    canonical = timestamp + "\\n" + nonce + "\\n" + raw body bytes

plus the configured static `headers`. The receiver (or the vendor's adapter) recomputes
the HMAC over the same canonical bytes; a new nonce per attempt lets it refuse replays.

Numbers: a recipient with a phone (a 包保 person on an escalation) is texted on it, and
only if it is a mobile; a recipient without one (the enterprise's duty line, a centre)
gets the channel's `phones`; no number is a permanent failure.
They are sent as 11 digits (`phone_format: national`) or as +86... (`e164`).

Length: `max_chars` (default 134, two segments of a long Chinese SMS; 70 fit in one)
counts the text together with the 【sign_name】 the carrier prefixes; a longer text is
cut and ends with "…" (text.py).

Outcome: a 2xx answer is a delivery unless `response.code_field` names a field of the
JSON answer whose value is not in `response.ok`: then a value in `response.retry` is
retried, any other is permanent. Statuses 408, 425, 429, 5xx and network errors are
retried; any other status is permanent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets as random_secrets
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Final, Literal

import httpx
from pydantic import Field, field_validator, model_validator

from hazmon.alerts.notify.channels import sms_template
from hazmon.alerts.notify.channels.base import ChannelConfig, ChannelDeps, ChannelType
from hazmon.alerts.notify.channels.robot import json_body, status_error, transport_error
from hazmon.alerts.notify.channels.secrets import SecretRef, redact
from hazmon.alerts.notify.channels.text import fit_chars, national_mobile
from hazmon.alerts.notify.message import DeliveryError, Message
from hazmon.alerts.notify.strict import Strict

DEFAULT_MAX_CHARS: Final = 134
HeaderName = Annotated[str, Field(pattern=r"^[A-Za-z0-9-]{1,64}$")]
Mobile = Annotated[str, Field(pattern=r"^(\+?86)?1[3-9][0-9]{9}$")]


def canonical(timestamp: str, nonce: str, body: bytes) -> bytes:
    """The bytes the SMS signature is computed over (see the module docstring)."""
    return f"{timestamp}\n{nonce}\n".encode("ascii") + body


def sms_signature(key: str, timestamp: str, nonce: str, body: bytes,
                  encoding: Literal["hex", "base64"] = "hex") -> str:
    mac = hmac.new(key.encode("utf-8"), canonical(timestamp, nonce, body), hashlib.sha256)
    if encoding == "hex":
        return mac.hexdigest()
    return base64.b64encode(mac.digest()).decode("ascii")


class SmsResponse(Strict):
    """How the gateway says "sent" in a 2xx answer (vendors answer 200 and a code)."""

    code_field: str = Field(min_length=1)  # dotted path into the JSON answer
    ok: list[str] = Field(min_length=1)
    retry: list[str] = Field(default_factory=list)


class SmsChannelConfig(ChannelConfig):
    """An HTTP SMS gateway request (the module docstring has the request it sends)."""

    type: Literal["sms"]
    url: Annotated[str, Field(pattern=r"^https?://\S+$")]
    method: Literal["POST", "PUT"] = "POST"
    key: SecretRef
    key_id: str | None = None
    body: dict[str, Any] = Field(min_length=1)
    sign_name: str = Field(default="", max_length=20)
    template_code: str = ""
    template_params: dict[str, str] = Field(default_factory=dict)
    headers: dict[HeaderName, str] = Field(default_factory=dict)
    signature_header: HeaderName = "X-Signature"
    signature_prefix: str = ""
    signature_encoding: Literal["hex", "base64"] = "hex"
    timestamp_header: HeaderName = "X-Timestamp"
    timestamp_unit: Literal["s", "ms"] = "s"
    nonce_header: HeaderName = "X-Nonce"
    phones: list[Mobile] = Field(default_factory=list)
    phone_format: Literal["national", "e164"] = "national"
    max_chars: int = Field(default=DEFAULT_MAX_CHARS, ge=20, le=500)
    response: SmsResponse | None = None
    timeout_s: float = Field(default=10.0, gt=0)

    @field_validator("body")
    @classmethod
    def _body(cls, body: dict[str, Any]) -> dict[str, Any]:
        sms_template.check(body)
        return body

    @field_validator("template_params")
    @classmethod
    def _params(cls, params: dict[str, str]) -> dict[str, str]:
        sms_template.check(params, sms_template.PARAM_NAMES)
        return params

    @model_validator(mode="after")
    def _room_for_text(self) -> SmsChannelConfig:
        if self.max_chars - self.sign_len < 10:
            raise ValueError("max_chars leaves under 10 characters after 【sign_name】")
        return self

    @property
    def sign_len(self) -> int:
        return len(self.sign_name) + 2 if self.sign_name else 0


def numbers(config: SmsChannelConfig, message: Message) -> list[str]:
    """Whom this message is texted to, formatted for the gateway (may be empty)."""
    phone = message.recipient.phone
    if phone:  # a person: their own number or nobody (never someone else in their place)
        own = national_mobile(phone)
        found = [own] if own else []
    else:
        found = [n for n in map(national_mobile, config.phones) if n]
    if config.phone_format == "e164":
        return [f"+86{n}" for n in found]
    return found


def sms_text(config: SmsChannelConfig, message: Message) -> str:
    """The text, cut so that with 【sign_name】 it has at most `max_chars` characters."""
    prefix = "[演练] " if message.simulated and "[演练]" not in message.text else ""
    return fit_chars(prefix + message.text, config.max_chars - config.sign_len)


def render_body(config: SmsChannelConfig, message: Message, phones: list[str],
                timestamp: str, nonce: str) -> dict[str, Any]:
    """The rendered body of one attempt (pure: the tests recompute it)."""
    values: dict[str, Any] = {
        "phone": ",".join(phones), "phones": phones, "text": sms_text(config, message),
        "subject": message.subject, "sign_name": config.sign_name,
        "template_code": config.template_code, "message_id": message.id,
        "timestamp": timestamp, "nonce": nonce, "key_id": config.key_id or "",
    }
    params = sms_template.render(config.template_params, values)
    values["template_params"] = params
    values["template_params_json"] = sms_template.params_json(params)
    rendered: dict[str, Any] = sms_template.render(config.body, values)
    return rendered


def _field(answer: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(answer, Mapping) or part not in answer:
            return None
        answer = answer[part]
    return answer


class SmsChannel:
    type = "sms"

    def __init__(self, config: SmsChannelConfig, deps: ChannelDeps,
                 nonce: Callable[[], str] = lambda: random_secrets.token_hex(16)) -> None:
        self.name = config.name
        self.test = config.test
        self.config = config
        self._key = config.key.read(config.name, "key")
        self._client = deps.http
        self._wall_s = deps.wall_s  # the signature's time is real time
        self._nonce = nonce

    async def send(self, message: Message) -> None:
        c = self.config
        phones = numbers(c, message)
        if not phones:
            why = ("the recipient's phone is not a mobile" if message.recipient.phone
                   else "the recipient has none and the channel lists no phones")
            raise DeliveryError(self.name, f"no mobile number: {why}", permanent=True)
        now = self._wall_s()
        timestamp = str(int(now * 1000) if c.timestamp_unit == "ms" else int(now))
        nonce = self._nonce()
        body = json_body(render_body(c, message, phones, timestamp, nonce))
        signature = sms_signature(self._key, timestamp, nonce, body, c.signature_encoding)
        headers = {
            **c.headers,
            "Content-Type": "application/json; charset=utf-8",
            c.timestamp_header: timestamp,
            c.nonce_header: nonce,
            c.signature_header: c.signature_prefix + signature,
        }
        secrets = (self._key,)
        try:
            resp = await self._client.request(c.method, c.url, content=body, headers=headers,
                                              timeout=c.timeout_s)
        except httpx.HTTPError as exc:
            raise transport_error(self.name, exc, secrets) from None
        if not resp.is_success:
            raise status_error(self.name, resp, secrets)
        if c.response is None:
            return
        try:
            code = _field(resp.json(), c.response.code_field)
        except ValueError:
            raise DeliveryError(self.name, redact(f"answer is not JSON: {resp.text[:200]!r}",
                                                  *secrets)) from None
        if code is not None and str(code) in c.response.ok:
            return
        raise DeliveryError(self.name, redact(f"gateway code {code!r}: {resp.text[:200]}",
                                              *secrets),
                            permanent=str(code) not in c.response.retry)


SMS = ChannelType(SmsChannelConfig, SmsChannel)
