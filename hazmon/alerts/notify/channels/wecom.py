"""WeCom (企业微信) group robot: a duty group's chat receives each message as a card.

    POST {base_url}/cgi-bin/webhook/send?key=KEY
    Content-Type: application/json; charset=utf-8

    {"msgtype": "markdown", "markdown": {"content": "### ‹subject›\\n> ‹text›\\n..."}}
    {"msgtype": "text", "text": {"content": "‹subject›\\n‹text›",
                                 "mentioned_mobile_list": ["13800000004"]}}

The key is the robot's credential (from its webhook address), read from an environment
variable or a file (channels/secrets.py), masked in logs and delivery reasons. WeCom
markdown cannot @ anyone by mobile, so mentions need `msgtype: text`: the recipient's
mobile (a 包保 person on an escalation) and `mention_mobiles` are @-ed there.
Content is cut to WeCom's limits (markdown 4,096, text 2,048 bytes of UTF-8) with "…".

Answer `{"errcode": 0}` is a delivery. Retried: 45009 (the robot's limit, 20 messages a
minute, is exceeded), -1 (system busy), and the statuses of robot.py; any other errcode
(93000 invalid key, 40008 bad message type, 44004 empty content, ...) is permanent.
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

import httpx
from pydantic import Field, model_validator

from hazmon.alerts.notify.channels.base import ChannelConfig, ChannelDeps, ChannelType
from hazmon.alerts.notify.channels.robot import headline, mentioned, post_robot, quoted
from hazmon.alerts.notify.channels.secrets import SecretRef
from hazmon.alerts.notify.channels.text import fit_utf8
from hazmon.alerts.notify.message import Message

DEFAULT_BASE_URL: Final = "https://qyapi.weixin.qq.com"
SEND_PATH: Final = "/cgi-bin/webhook/send"
MARKDOWN_MAX_BYTES: Final = 4096
TEXT_MAX_BYTES: Final = 2048
RETRY_ERRCODES: Final = frozenset({-1, 45009})

Mobile = Annotated[str, Field(pattern=r"^1[3-9][0-9]{9}$")]


class WecomChannelConfig(ChannelConfig):
    """A WeCom group robot (the module docstring has the request it sends)."""

    type: Literal["wecom"]
    key: SecretRef
    base_url: Annotated[str, Field(pattern=r"^https?://[^/?#\s]+(/[^?#\s]*)?$")] = DEFAULT_BASE_URL
    msgtype: Literal["markdown", "text"] = "markdown"
    mention_recipient: bool = True  # text only: @ the recipient's mobile, if a mobile
    mention_mobiles: list[Mobile] = Field(default_factory=list)  # text only: @ always
    timeout_s: float = Field(default=10.0, gt=0)

    @model_validator(mode="after")
    def _mentions_need_text(self) -> WecomChannelConfig:
        if self.mention_mobiles and self.msgtype != "text":
            raise ValueError("mention_mobiles needs msgtype text "
                             "(WeCom markdown cannot @ by mobile)")
        return self


def wecom_body(config: WecomChannelConfig, message: Message) -> dict[str, Any]:
    """The JSON body for one message (pure: the tests compare it with what was sent)."""
    title = headline(message)
    if config.msgtype == "markdown":
        content = (f"### {title}\n{quoted(message.text)}\n"
                   f"<font color=\"comment\">消息编号 {message.id}</font>")
        return {"msgtype": "markdown",
                "markdown": {"content": fit_utf8(content, MARKDOWN_MAX_BYTES)}}
    text: dict[str, Any] = {"content": fit_utf8(f"{title}\n{message.text}", TEXT_MAX_BYTES)}
    mobiles = mentioned(message, config.mention_mobiles, config.mention_recipient)
    if mobiles:
        text["mentioned_mobile_list"] = mobiles
    return {"msgtype": "text", "text": text}


class WecomChannel:
    type = "wecom"

    def __init__(self, config: WecomChannelConfig, deps: ChannelDeps) -> None:
        self.name = config.name
        self.test = config.test
        self.config = config
        self._key = config.key.read(config.name, "key")
        self._url = httpx.URL(config.base_url.rstrip("/") + SEND_PATH,
                              params={"key": self._key})
        self._client = deps.http

    async def send(self, message: Message) -> None:
        await post_robot(self._client, self.name, self._url, wecom_body(self.config, message),
                         timeout_s=self.config.timeout_s, retry_codes=RETRY_ERRCODES,
                         secrets=(self._key,))


WECOM = ChannelType(WecomChannelConfig, WecomChannel)
