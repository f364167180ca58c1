"""What every channel type declares: its config model, how to build it, and the few
ways a channel may differ from the default in routing and grouping.

A channel type is one `ChannelType` value in its own module, listed once in
`channels/__init__.py`; nothing outside the channel's module names its type.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar, get_args, get_origin

import httpx

from hazmon.alerts.directory import NotifyDirectory
from hazmon.alerts.notify.message import Channel, Recipient
from hazmon.alerts.notify.strict import ChannelName, Strict
from hazmon.alerts.outbox import Notification

# Service.source.publish has this shape: False when the broker is not connected.
Publish = Callable[..., Awaitable[bool]]


class ChannelConfig(Strict):
    """The keys every channel has; a channel type adds its own (strict, like these)
    and narrows `type` to its `Literal` tag."""

    name: ChannelName
    type: str
    # A test channel (drill receiver, developer inbox) is the only kind of channel a
    # simulated alarm may reach: a demo or a drill never pages real people.
    test: bool = False
    # Grouping of floods into digests (see GroupingConfig). None: the channel type's
    # default (on for people-facing channels, off for a machine such as the plant HMI).
    grouping: bool | None = None
    # Whom a flood is counted for: each recipient (person, enterprise duty line, centre)
    # or the channel as a whole (a centre's single inbox).
    group_by: Literal["recipient", "channel"] = "recipient"


@dataclass(frozen=True, slots=True)
class ChannelDeps:
    """What the notifier hands every channel it builds; a channel takes what it needs."""

    http: httpx.AsyncClient
    wall_s: Callable[[], float]  # real time (signatures, mail dates), not the test clock
    publish: Publish | None = None  # the service's MQTT client, if it has one


C = TypeVar("C", bound=ChannelConfig)


def _same(note: Notification, recipient: Recipient) -> Recipient:
    return recipient


def _reachable(recipient: Recipient) -> str | None:
    return None


def _people_only(note: Notification, directory: NotifyDirectory | None) -> bool:
    return False


@dataclass(frozen=True, slots=True)
class ChannelType(Generic[C]):
    """One kind of channel. `config` is its model in the notify config (its `type`
    Literal is the registry key); `build` makes a channel from one configured entry."""

    config: type[C]
    build: Callable[[C, ChannelDeps], Channel]
    # People get digests of a flood; a machine (the plant HMI) wants every event.
    groups_by_default: bool = True
    # Whom the routed recipient is on this channel (e.g. the plant's MQTT topic).
    address: Callable[[Notification, Recipient], Recipient] = _same
    # Why an addressed recipient cannot be reached at all (skipped, not retried), or None.
    unreachable: Callable[[Recipient], str | None] = _reachable
    # A non-test channel that may still carry this simulated notification (the
    # simulated plant's own HMI); every other simulated notification is kept from it.
    takes_simulated: Callable[[Notification, NotifyDirectory | None], bool] = _people_only
    type: str = field(init=False)

    def __post_init__(self) -> None:
        annotation = self.config.model_fields["type"].annotation
        tags = get_args(annotation) if get_origin(annotation) is Literal else ()
        if len(tags) != 1 or not isinstance(tags[0], str):
            raise TypeError(f"{self.config.__name__}.type must be a Literal of one string")
        object.__setattr__(self, "type", tags[0])
