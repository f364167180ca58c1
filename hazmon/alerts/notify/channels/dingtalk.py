"""DingTalk (钉钉) custom group robot, with its signature (加签).

    POST {base_url}/robot/send?access_token=TOKEN&timestamp=T&sign=S
    Content-Type: application/json; charset=utf-8

    T = the current time in milliseconds (real time: DingTalk refuses a T more than
        an hour off its clock)
    S = urlencode(base64(HMAC-SHA256(key=secret, msg=f"{T}\\n{secret}")))

    {"msgtype": "markdown",
     "markdown": {"title": "‹subject›", "text": "#### ‹subject›\\n\\n> ‹text›\\n\\n@13800000004"},
     "at": {"atMobiles": ["13800000004"], "isAtAll": false}}

(`msgtype: text` sends `{"text": {"content": ...}}` with the same `at`.) The access token
and the signing secret come from environment variables or files (channels/secrets.py)
and are masked in logs and delivery reasons. DingTalk only @-mentions a mobile that
also appears as "@mobile" in the text, so each is appended to it.

Answer `{"errcode": 0}` is a delivery. Retried: 130101 (sent too fast: more than 20 a
minute), -1 (system busy) and the statuses of robot.py; any other errcode is permanent
(310000: signature, keyword or IP refused by the robot's security settings; 300001:
invalid token; 90030: the robot's quota is used up).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from typing import Annotated, Any, Final, Literal
from urllib.parse import quote, quote_plus

from pydantic import Field

from hazmon.alerts.notify.channels.base import ChannelConfig, ChannelDeps, ChannelType
from hazmon.alerts.notify.channels.robot import headline, mentioned, post_robot, quoted
from hazmon.alerts.notify.channels.secrets import SecretRef
from hazmon.alerts.notify.channels.text import fit_chars
from hazmon.alerts.notify.message import Message

DEFAULT_BASE_URL: Final = "https://oapi.dingtalk.com"
SEND_PATH: Final = "/robot/send"
TITLE_MAX_CHARS: Final = 64  # the title is what the phone's notification shows
TEXT_MAX_CHARS: Final = 4000
RETRY_ERRCODES: Final = frozenset({-1, 130101})

Mobile = Annotated[str, Field(pattern=r"^1[3-9][0-9]{9}$")]


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """base64(HMAC-SHA256(secret, f"{timestamp_ms}\\n{secret}")), before URL encoding."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(),
                   hashlib.sha256)
    return base64.b64encode(mac.digest()).decode("ascii")


class DingtalkChannelConfig(ChannelConfig):
    """A DingTalk custom robot with 加签 (the module docstring has the request)."""

    type: Literal["dingtalk"]
    access_token: SecretRef
    secret: SecretRef  # the robot's 加签 secret ("SEC...")
    base_url: Annotated[str, Field(pattern=r"^https?://[^/?#\s]+(/[^?#\s]*)?$")] = DEFAULT_BASE_URL
    msgtype: Literal["markdown", "text"] = "markdown"
    mention_recipient: bool = True  # @ the recipient's mobile, if it is a mobile
    mention_mobiles: list[Mobile] = Field(default_factory=list)  # @ on every message
    at_all: bool = False
    timeout_s: float = Field(default=10.0, gt=0)


def dingtalk_body(config: DingtalkChannelConfig, message: Message) -> dict[str, Any]:
    """The JSON body for one message (pure: the tests compare it with what was sent)."""
    title = headline(message)
    mobiles = mentioned(message, config.mention_mobiles, config.mention_recipient)
    tail = "".join(f" @{m}" for m in mobiles).strip()
    at = {"atMobiles": mobiles, "isAtAll": config.at_all}
    if config.msgtype == "markdown":
        text = f"#### {title}\n\n{quoted(message.text)}\n\n###### 消息编号 {message.id}"
        budget = TEXT_MAX_CHARS - (len(tail) + 2 if tail else 0)
        text = fit_chars(text, budget) + (f"\n\n{tail}" if tail else "")
        return {"msgtype": "markdown",
                "markdown": {"title": fit_chars(title, TITLE_MAX_CHARS), "text": text},
                "at": at}
    content = fit_chars(f"{title}\n{message.text}", TEXT_MAX_CHARS - len(tail) - 1)
    return {"msgtype": "text", "text": {"content": f"{content}\n{tail}" if tail else content},
            "at": at}


class DingtalkChannel:
    type = "dingtalk"

    def __init__(self, config: DingtalkChannelConfig, deps: ChannelDeps) -> None:
        self.name = config.name
        self.test = config.test
        self.config = config
        self._token = config.access_token.read(config.name, "access_token")
        self._secret = config.secret.read(config.name, "secret")
        self._base = config.base_url.rstrip("/") + SEND_PATH
        self._client = deps.http
        self._wall_s: Callable[[], float] = deps.wall_s

    def url(self, timestamp_ms: int) -> str:
        """The send URL of one attempt, encoded once (as DingTalk's own examples do)."""
        sign = quote_plus(dingtalk_sign(self._secret, timestamp_ms))
        return (f"{self._base}?access_token={quote(self._token, safe='')}"
                f"&timestamp={timestamp_ms}&sign={sign}")

    async def send(self, message: Message) -> None:
        ts = int(self._wall_s() * 1000)  # signed per attempt: a retry is signed afresh
        await post_robot(self._client, self.name, self.url(ts),
                         dingtalk_body(self.config, message), timeout_s=self.config.timeout_s,
                         retry_codes=RETRY_ERRCODES, secrets=(self._token, self._secret))


DINGTALK = ChannelType(DingtalkChannelConfig, DingtalkChannel)
