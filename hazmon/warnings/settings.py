"""Settings of the warning part: the `warnings` section of `hazmon.service.settings.Settings`.

    warnings:
      enabled: true
      regions_file: /etc/hazmon/regions.yaml        # the grid and its officials
      policy_file: /etc/hazmon/warning-policy.yaml  # levels, deadlines, push targets
      interval_s: 30                                # how often the facts are evaluated
      push:
        people: [sms]            # channels reaching one person by phone or e-mail
        groups: [wecom-county]   # channels posting once per warning step (robots, inboxes)

Both files are optional and are **defaults to be set by the province**: without
`policy_file` the built-in policy applies, which is exactly `deploy/warning-policy.yaml`;
without `regions_file` no official is known, so every regulator level a push names is
listed as unreached (the push still goes to the enterprise's 包保 chain).
`deploy/regions.example.yaml` shows the format (its officials are made up).
The channels are names of `alarms.notify.channels` entries: warnings travel on the same
configured channels as alarms, chosen by name here.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from hazmon.core.section import Section


class WarningPushSettings(Section):
    # Channels that reach a person (SMS by phone, ...): one message per recipient.
    people: list[str] = Field(default_factory=list)
    # Channels that post once per warning step with every recipient listed (group robots
    # of WeCom / DingTalk, a centre's webhook or mailbox).
    groups: list[str] = Field(default_factory=list)
    # A failed delivery is tried again after retry_s, doubling up to retry_max_s, at
    # most max_attempts times; a permanent refusal (HTTP 4xx) is given up at once.
    retry_s: float = Field(default=30.0, gt=0)
    retry_max_s: float = Field(default=1800.0, gt=0)
    max_attempts: int = Field(default=20, ge=1)
    poll_s: float = Field(default=5.0, gt=0)

    @model_validator(mode="after")
    def _once(self) -> WarningPushSettings:
        both = sorted(set(self.people) & set(self.groups))
        if both:
            raise ValueError(f"a channel is either people or groups, not both: {both}")
        return self


class WarningSettings(Section):
    enabled: bool = True
    regions_file: Path | None = None
    policy_file: Path | None = None
    interval_s: float = Field(default=30.0, gt=0, le=3600)
    push: WarningPushSettings = Field(default_factory=WarningPushSettings)
