"""The one typed settings object: loaded once in the composition root, passed down.

Each part's section is defined beside the part (`hazmon.ingest.settings`,
`hazmon.alerts.settings`, `hazmon.api.settings`); this module only gathers them.

Sources, strongest first: keyword arguments, environment (`HAZMON_` prefix, `__` between
levels: `HAZMON_INFLUX__URL`), a YAML file (`--config` or `HAZMON_CONFIG`), defaults.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from hazmon.alerts.settings import AlarmSettings
from hazmon.api.settings import HttpSettings
from hazmon.cluster.settings import ClusterSettings
from hazmon.duties.settings import DutiesSettings
from hazmon.ingest.settings import InfluxSettings, IngestSettings, MqttSettings, SpoolSettings
from hazmon.warnings.settings import WarningSettings


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="HAZMON_", env_nested_delimiter="__", extra="forbid"
    )

    registry: Path = Path("registry.yaml")
    data_dir: Path = Path("var")
    registry_poll_s: float = Field(default=5.0, ge=0)
    log_level: str = "INFO"
    mqtt: MqttSettings = Field(default_factory=MqttSettings)
    influx: InfluxSettings = Field(default_factory=InfluxSettings)
    spool: SpoolSettings = Field(default_factory=SpoolSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    alarms: AlarmSettings = Field(default_factory=AlarmSettings)
    warnings: WarningSettings = Field(default_factory=WarningSettings)
    duties: DutiesSettings = Field(default_factory=DutiesSettings)
    cluster: ClusterSettings = Field(default_factory=ClusterSettings)

    @property
    def spool_dir(self) -> Path:
        return self.spool.dir or self.data_dir / "spool"

    @property
    def alarm_db_url(self) -> str:
        return self.alarms.db_url or f"sqlite:///{self.data_dir / 'alarms.db'}"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _YamlFileSource(settings_cls))


class _YamlFileSource(PydanticBaseSettingsSource):
    """The YAML settings file named by HAZMON_CONFIG (the CLI sets it from --config)."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        path = os.environ.get("HAZMON_CONFIG")
        if not path:
            return {}
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict):
            raise ValueError(f"settings file {path} must hold a mapping")
        return data


def load_settings(config: Path | None = None, **overrides: Any) -> Settings:
    if config is not None:
        os.environ["HAZMON_CONFIG"] = str(config)
    return Settings(**overrides)
