"""The gateways' section of the Mosquitto ACL file.

A gateway's user name is its enterprise code. It may publish only its own telemetry and
status, and its answers to roll calls, under `hazmon/v1/{region}/{enterprise}/` (region
from the registry, so a gateway cannot pose as a plant of another region either) and
read only its own alarms topic.

The section sits between two marker comments and is rewritten whole; the lines outside it
(the hazmon account, site additions) are kept as they are. It must stay last in the file:
Mosquitto gives every `topic` line to the `user` line above it, so a `topic` line below the
section would become a right of the last gateway.
"""

from __future__ import annotations

from hazmon.ingest.topics import Channel, topic_for

BEGIN = "# BEGIN hazmon gateways (written by `hazmon gateway`; keep this section last)"
END = "# END hazmon gateways"


class AclError(ValueError):
    pass


def gateway_lines(enterprise: str, region: str) -> list[str]:
    return [
        f"user {enterprise}",
        f"topic write {topic_for(region, enterprise, Channel.TELEMETRY)}",
        f"topic write {topic_for(region, enterprise, Channel.STATUS)}",
        f"topic read {topic_for(region, enterprise, Channel.ALARMS)}",
        f"topic write {topic_for(region, enterprise, Channel.ROLLCALL)}",
    ]


class GatewayAcl:
    """An ACL file split into the text around the section and the gateways in it."""

    def __init__(self, before: list[str], gateways: dict[str, str], after: list[str]) -> None:
        self.before = before
        self.gateways = gateways  # enterprise → region
        self.after = after

    @classmethod
    def parse(cls, text: str) -> GatewayAcl:
        lines = text.splitlines()
        starts = [i for i, line in enumerate(lines) if line.strip() == BEGIN]
        ends = [i for i, line in enumerate(lines) if line.strip() == END]
        if not starts and not ends:
            return cls(lines, {}, [])
        if len(starts) != 1 or len(ends) != 1 or ends[0] < starts[0]:
            raise AclError("the ACL file must hold one gateways section: "
                           f"{BEGIN!r} ... {END!r}")
        begin, end = starts[0], ends[0]
        after = lines[end + 1:]
        for line in after:
            if line.split()[:1] == ["topic"]:
                raise AclError(f"{line.strip()!r} below the gateways section would be a right "
                               "of the last gateway; move it above the section")
        gateways: dict[str, str] = {}
        user: str | None = None
        for line in lines[begin + 1:end]:
            words = line.split()
            if not words or words[0].startswith("#"):
                continue
            if words[0] == "user" and len(words) == 2:
                user = words[1]
                gateways[user] = ""
            elif words[0] == "topic" and user is not None and len(words) == 3:
                parts = words[2].split("/")
                if len(parts) == 5 and parts[3] == user:
                    gateways[user] = parts[2]
            else:
                raise AclError(f"unexpected line in the gateways section: {line.strip()!r}")
        for ent, region in gateways.items():
            if not region:
                raise AclError(f"gateway {ent} in the ACL has no topic lines")
        return cls(lines[:begin], gateways, after)

    def render(self) -> str:
        section = [BEGIN]
        for ent in sorted(self.gateways):
            section += gateway_lines(ent, self.gateways[ent])
        section.append(END)
        before = list(self.before)
        while before and not before[-1].strip():
            before.pop()
        lines = [*before, *([""] if before else []), *section, *self.after]
        return "\n".join(lines) + "\n"
