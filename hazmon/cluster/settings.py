"""Settings of several instances: the `cluster` section of `hazmon.service.settings`.

    cluster:
      instance: hz-a            # unique per instance; names its MQTT connection
      partitions:               # name -> region prefixes (GB/T 2260); one region, one name
        north: ["3207", "3208", "3209"]
        south: ["3201", "3202", "3205"]
      lease_s: 15               # a killed instance's partitions are free after this

Empty `partitions`: one instance serves everything (the default).
"""

from __future__ import annotations

import re

from pydantic import Field, model_validator

from hazmon.core.section import Section

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")  # goes into MQTT client ids
_PREFIX = re.compile(r"^[0-9]{2,6}$")


class ClusterSettings(Section):
    partitions: dict[str, list[str]] = Field(default_factory=dict)
    instance: str | None = None  # default: host name and process id
    lease_s: float = Field(default=15.0, ge=3, le=600)
    renew_s: float = Field(default=3.0, gt=0)  # also how often shared state is written
    save_s: float = Field(default=10.0, gt=0)  # rule snapshots of held partitions

    @property
    def enabled(self) -> bool:
        return bool(self.partitions)

    @model_validator(mode="after")
    def _check(self) -> ClusterSettings:
        if self.renew_s * 2 > self.lease_s:
            raise ValueError("cluster.renew_s must be at most half of cluster.lease_s, so a "
                             "lease is renewed at least twice before it runs out")
        if self.instance is not None and not _NAME.match(self.instance):
            raise ValueError("cluster.instance must be 1-32 of a-z 0-9 _ - (it names the "
                             "MQTT client)")
        owner: dict[str, str] = {}
        for name, prefixes in self.partitions.items():
            if not _NAME.match(name):
                raise ValueError(f"partition name {name!r}: 1-32 of a-z 0-9 _ - (it names "
                                 "the partition's MQTT client id)")
            if not prefixes:
                raise ValueError(f"partition {name!r} has no region prefix")
            for p in prefixes:
                if not _PREFIX.match(p):
                    raise ValueError(f"partition {name!r}: {p!r} is not a region prefix "
                                     "(2 to 6 digits of a GB/T 2260 code)")
                for q, other in owner.items():
                    if p.startswith(q) or q.startswith(p):
                        raise ValueError(f"region prefix {p!r} of partition {name!r} "
                                         f"overlaps {q!r} of partition {other!r}: a region "
                                         "belongs to one partition")
                owner[p] = name
        return self
