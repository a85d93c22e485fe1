"""One settings object, built at the entry point from the environment (and `.env`)."""

from __future__ import annotations

from pathlib import Path

import platformdirs
from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str | None = Field(
        default=None, description="PostgreSQL URL; unset = the embedded PostgreSQL"
    )
    temporal_address: str | None = Field(
        default=None, description="host:port of Temporal; unset = the embedded dev server"
    )
    temporal_namespace: str = "default"
    task_queue: str = "thidua-cycles"
    thidua_home: Path = Field(
        default_factory=lambda: Path(platformdirs.user_data_dir("thidua")),
        description="where the embedded PostgreSQL and Temporal keep their data",
    )
    api_tokens: dict[str, str] = Field(
        default_factory=dict,
        validation_alias=AliasChoices("THIDUA_API_TOKENS", "API_TOKENS"),
        description='bearer tokens of the HTTP API: {"token": "admin" | "auditor" | unit id}',
    )
    api_port: int = 8000
    log_format: str = Field(default="auto", description="auto, json or console")
    log_level: str = "INFO"

    @property
    def home(self) -> Path:
        self.thidua_home.mkdir(parents=True, exist_ok=True)
        return self.thidua_home
