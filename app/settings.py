"""One settings object, built at the entry point from the environment (and `.env`)."""

from __future__ import annotations

from pathlib import Path

import platformdirs
from pydantic import AliasChoices, Field, SecretStr
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
        description='development shortcut, off unless set: fixed bearer tokens '
                    '{"token": "admin" | "auditor" | unit id} (people and `thidua tokens` '
                    'are the real way)',
    )
    session_idle_minutes: int = Field(default=30, ge=1, description="web session idle timeout")
    session_absolute_hours: int = Field(default=12, ge=1, description="web session lifetime")
    oidc_issuer: str | None = Field(
        default=None, description="OpenID Connect provider for single sign-on; unset = off"
    )
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_claim: str = Field(
        default="preferred_username", description="ID token claim that holds a person's login"
    )
    sign_p12: Path | None = Field(
        default=None,
        validation_alias=AliasChoices("THIDUA_SIGN_P12", "SIGN_P12"),
        description="the agency's PKCS#12 key that signs the minutes; unset = unsigned",
    )
    sign_p12_password: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("THIDUA_SIGN_P12_PASSWORD", "SIGN_P12_PASSWORD"),
        description="the PKCS#12 file's password (never logged)",
    )
    api_port: int = 8000
    command_timeout: float = Field(
        default=30.0, gt=0,
        description="seconds a command may wait for its answer; then 503 no_worker, or 202 "
                    "naming where to look when it may still be applied",
    )
    metrics_port: int | None = Field(
        default=None, description="the worker's /metrics, /healthz and /readyz port; unset = off"
    )
    metrics_host: str = Field(default="0.0.0.0", description="the worker's metrics address")
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None, description="OTLP endpoint for traces (needs the `otel` extra); unset = off"
    )
    log_format: str = Field(default="auto", description="auto, json or console")
    log_level: str = "INFO"

    @property
    def home(self) -> Path:
        self.thidua_home.mkdir(parents=True, exist_ok=True)
        return self.thidua_home
