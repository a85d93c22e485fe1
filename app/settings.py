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
    db_owner_password: SecretStr | None = Field(
        default=None, description="`thidua db roles`: the owner role's password (never logged)"
    )
    db_app_password: SecretStr | None = Field(
        default=None, description="`thidua db roles`: the service role thidua_app's password"
    )
    db_auditor_password: SecretStr | None = Field(
        default=None, description="`thidua db roles`: the read-only thidua_auditor's password"
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
        description="development shortcut, off unless set: fixed bearer tokens "
        '{"token": "admin" | "auditor" | unit id} (people and `thidua tokens` '
        "are the real way)",
    )
    session_idle_minutes: int = Field(default=30, ge=1, description="web session idle timeout")
    session_absolute_hours: int = Field(default=12, ge=1, description="web session lifetime")
    login_max_failures: int = Field(
        default=5,
        ge=1,
        le=100,
        description="failed logins in a row (per login and address) before a delay starts",
    )
    login_delay_seconds: int = Field(
        default=60,
        ge=1,
        le=86400,
        description="the first login delay; each further failure doubles it",
    )
    login_delay_max_minutes: int = Field(
        default=60, ge=1, le=1440, description="the longest login delay"
    )
    trusted_proxies: str = Field(
        default="",
        validation_alias=AliasChoices("THIDUA_TRUSTED_PROXIES", "TRUSTED_PROXIES"),
        description="comma-separated addresses (or networks) of reverse proxies whose "
        "X-Forwarded-For and X-Forwarded-Proto are believed; empty = none "
        "(the TCP peer is the client)",
    )
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
    evidence_dir: Path | None = Field(
        default=None,
        validation_alias=AliasChoices("THIDUA_EVIDENCE_DIR", "EVIDENCE_DIR"),
        description="where evidence files are kept, by their SHA-256 (app/evidence.py); "
        "unset = THIDUA_HOME/evidence",
    )
    witness_dir: Path | None = Field(
        default=None,
        validation_alias=AliasChoices("THIDUA_WITNESS_DIR", "WITNESS_DIR"),
        description="the witness directory (signed checkpoints of every event, outside the "
        "database); unset = THIDUA_HOME/witness",
    )
    witness_key: Path | None = Field(
        default=None,
        validation_alias=AliasChoices("THIDUA_WITNESS_KEY", "WITNESS_KEY"),
        description="the Ed25519 key (PEM) that signs checkpoints; unset = "
        "THIDUA_HOME/witness.key, made at first start (mode 0600)",
    )
    witness_origin: str = Field(
        default="thidua/witness", description="the checkpoints' origin line (the key's name)"
    )
    witness_interval_seconds: float = Field(
        default=120,
        gt=0,
        description="the worker signs a checkpoint at least this often (and at every stage close)",
    )
    smtp_host: str | None = Field(
        default=None, description="SMTP server that delivers notifications; unset = off"
    )
    smtp_port: int = Field(default=587, ge=1, le=65535, description="the SMTP server's port")
    smtp_from: str = Field(
        default="thidua@localhost",
        description="the notifications' sender (From, and Message-ID domain)",
    )
    smtp_user: str | None = Field(default=None, description="SMTP login; unset = none")
    smtp_password: SecretStr | None = Field(
        default=None, description="SMTP password (never logged)"
    )
    smtp_starttls: bool = Field(default=True, description="STARTTLS before logging in")
    smtp_poll_seconds: float = Field(
        default=1.0, gt=0, description="how often the worker looks for undelivered rows"
    )
    notify_lease_seconds: float = Field(
        default=300,
        gt=0,
        description="how long a worker holds outbox rows it is delivering "
        "(a dead worker's rows return after this)",
    )
    api_port: int = 8000
    command_timeout: float = Field(
        default=30.0,
        gt=0,
        description="seconds a command may wait for its answer; then 503 no_worker, or 202 "
        "naming where to look when it may still be applied",
    )
    upload_idle_seconds: float = Field(
        default=5.0,
        gt=0,
        le=300,
        description="POST /audit/verify-export: seconds the upload may send nothing before it "
        "is dropped (408 upload_timeout) and its verify slot released",
    )
    upload_max_seconds: float = Field(
        default=120.0,
        gt=0,
        le=3600,
        description="POST /audit/verify-export: seconds the whole upload may take",
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
    def trusted_proxy_list(self) -> list[str]:
        return [p.strip() for p in self.trusted_proxies.split(",") if p.strip()]

    @property
    def evidence_path(self) -> Path:
        return self.evidence_dir if self.evidence_dir is not None else self.thidua_home / "evidence"

    @property
    def home(self) -> Path:
        self.thidua_home.mkdir(parents=True, exist_ok=True)
        return self.thidua_home
