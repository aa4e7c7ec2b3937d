"""The bot's settings: one class read from the environment and from a `.env` file."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class SettingsError(ValueError):
    """A setting is wrong; the message is one line that names it."""


class Settings(BaseSettings):
    # env_ignore_empty: `.env.example` promises "leave a value empty to use its default"; without
    # it `WEB_PORT=` (or SMTP_SECURITY=, LOG_LEVEL=, MAIL_FROM=, ...) failed to start the bot and
    # `DATA_DIR=` / `WEB_HOST=` silently became "." / "" instead of their defaults.
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True
    )

    telegram_bot_token: str | None = None
    telegram_base_url: str | None = None
    database_url: str | None = None
    data_dir: Path = Path("./data")
    public_url: str | None = None
    web_host: str = "127.0.0.1"
    web_port: int = Field(default=8080, ge=0, le=65535)

    smtp_host: str | None = None
    smtp_port: int | None = Field(default=None, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: str | None = Field(default=None, repr=False)
    smtp_security: Literal["none", "starttls", "tls"] = "none"
    mail_from: str = "Programa Niñez Migrante <no-reply@localhost>"

    # Seals the links' tokens while their e-mail waits in the outbox. Unset: a key is made once
    # and kept in DATA_DIR/secret.key. Several processes sharing a database need the same one.
    secret_key: str | None = Field(default=None, repr=False)
    outbox_retry_base_seconds: float = Field(default=5.0, gt=0)
    outbox_retry_cap_seconds: float = Field(default=300.0, gt=0)
    draft_ttl_days: float = Field(default=30.0, gt=0)
    resend_limit_per_hour: int = Field(default=3, ge=1)
    # How many password reset links one account may be sent in an hour (/recuperar).
    password_reset_limit_per_hour: int = Field(default=3, ge=1)
    # An account never verified is deleted after this long, freeing its address; its family is
    # told a day before (bot.accounts.DELETION_NOTICE), and again once it is gone.
    unverified_account_days: float = Field(default=7.0, gt=0)
    # A family may register several children, each with an account; beyond this, a volunteer.
    max_accounts_per_user: int = Field(default=5, ge=1)

    # Set: updates arrive by webhook on the web server (path taken from the URL); unset: polling.
    webhook_url: str | None = None
    # Telegram sends it back in a header with every update; unset: derived from the bot token.
    webhook_secret: str | None = Field(default=None, repr=False)

    # One reminder in the chat: to open the verification link, and to finish a registration.
    unverified_reminder_hours: float = Field(default=24.0, gt=0)
    draft_reminder_hours: float = Field(default=24.0, gt=0)
    # Closed tickets lose who asked (name, Telegram ids) after this many days.
    ticket_retention_days: float = Field(default=180.0, gt=0)
    # The language of the terminal chat's family (`make run` without a token): es, ht, fr, en
    # or pt, so that a volunteer in training sees what each family sees.
    terminal_language: Literal["es", "ht", "fr", "en", "pt"] = "es"
    # The volunteers' Telegram group (a forum: one topic per ticket). Unset: no handoff.
    volunteers_chat_id: int | None = None
    # A ticket with no answer after this long is raised again in the group, once.
    ticket_reminder_hours: float = Field(default=2.0, gt=0)

    # A photo of the child's document fills the form (bot.documents): off, or with how many
    # OCR worker processes (each holds its model, about 350 MB) and how long one read may take.
    document_reading: bool = True
    document_readers: int = Field(default=1, ge=1, le=8)
    document_read_timeout_seconds: float = Field(default=20.0, gt=0)

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    verification_ttl_hours: float = Field(default=48.0, gt=0)
    email_check_deliverability: bool = False

    @field_validator(
        "telegram_bot_token",
        "telegram_base_url",
        "database_url",
        "public_url",
        "smtp_host",
        "smtp_username",
        "smtp_password",
        "secret_key",
        "webhook_url",
        "webhook_secret",
        "smtp_port",
        "volunteers_chat_id",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # Whitespace-only values (env_ignore_empty drops only empty ones) and empty keyword
        # arguments also mean "not set".
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("log_level", "smtp_security", mode="before")
    @classmethod
    def _case_insensitive(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        value = value.strip()
        return (
            value.upper()
            if value.lower() in {"debug", "info", "warning", "error", "critical"}
            else value.lower()
        )

    @field_validator("webhook_secret")
    @classmethod
    def _telegram_secret_alphabet(cls, value: str | None) -> str | None:
        # Telegram accepts 1-256 characters A-Z, a-z, 0-9, _ and - for the secret token.
        if value is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value):
            raise ValueError("use 1 to 256 characters: letters, digits, _ or -")
        return value

    @field_validator("public_url", "telegram_base_url", "webhook_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @field_validator("mail_from")
    @classmethod
    def _has_address(cls, value: str) -> str:
        if "@" not in value:
            raise ValueError("must contain an e-mail address")
        return value

    @property
    def database_url_async(self) -> str:
        """DATABASE_URL as an async SQLAlchemy URL; the plain scheme people write is accepted."""
        url = self.database_url or f"sqlite:///{(self.data_dir / 'bot.sqlite3').resolve()}"
        return async_database_url(url)

    @property
    def link_base(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        return f"http://{self.web_host}:{self.web_port}"

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"


def async_database_url(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise SettingsError(f"DATABASE_URL: not a database URL: {url!r}")
    if scheme in ("sqlite", "sqlite+aiosqlite"):
        return f"sqlite+aiosqlite://{rest}"
    if scheme in ("postgres", "postgresql", "postgresql+asyncpg"):
        return f"postgresql+asyncpg://{rest}"
    raise SettingsError(
        f"DATABASE_URL: unsupported database {scheme!r} (use sqlite:///path or postgresql://...)"
    )


def load_settings(**overrides: Any) -> Settings:
    """Reads the settings, turning pydantic's report into one line per wrong setting."""
    try:
        settings = Settings(**overrides)
        settings.database_url_async  # noqa: B018 - checks DATABASE_URL now, not at first use
    except ValidationError as error:
        lines = []
        for problem in error.errors():
            name = str(problem["loc"][0]).upper() if problem["loc"] else "?"
            lines.append(f"{name}: {problem['msg']}")
        raise SettingsError("; ".join(lines)) from None
    return settings
