"""Settings of the duties part (issue 15): the `duties` section of the service settings.

The duties file holds the province's rules (deadlines, templates, intervals); it is to be
set by the province. The default names the example in `deploy/`, whose values are the
built-in defaults: when that default file is not there (an installed service run outside
the repository) the built-in defaults are used and the log says so; a file named in the
settings must exist.
"""

from __future__ import annotations

import logging
from pathlib import Path

from pydantic import Field

from hazmon.core.section import Section
from hazmon.duties.config import DutiesConfig, load_duties_config

log = logging.getLogger(__name__)

DEFAULT_CONFIG = Path("deploy/duties.example.yaml")


class DutiesSettings(Section):
    # False: the store and the API stay (records can be filed), but the service checks no
    # deadline, calls no roll and draws no patrol, and hands no facts to the warnings.
    enabled: bool = True
    config: Path = DEFAULT_CONFIG  # the province's duties file (to be set by the province)
    check_s: float = Field(default=30.0, gt=0, le=3600)  # how often deadlines are checked
    # A source declared running whose gateway has sent nothing for this long is flagged.
    silence_s: float = Field(default=300.0, ge=10, le=7 * 86_400)
    # Seed of the roll-call schedule and the patrol draws; None: a random seed per day,
    # kept with the draw so it can be drawn again (audit). Tests and drills set one.
    seed: int | None = None

    def load(self) -> DutiesConfig:
        """The duties config; DutiesConfigError (each problem with its line) if invalid."""
        if "config" not in self.model_fields_set and not self.config.exists():
            log.info("duties: %s not found; using the built-in defaults", self.config)
            return DutiesConfig()
        return load_duties_config(self.config)
