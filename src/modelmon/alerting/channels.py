"""Notification channels: a generic JSON webhook, a Slack-compatible incoming webhook, email
over SMTP (STARTTLS and AUTH) and a local command.

Each type has a config model, validated when the channel is created; ``send`` delivers one
grouped message (the payload built by ``modelmon.alerting.messages``) or raises DeliveryError.
"""

from __future__ import annotations

import os
import smtplib
import ssl
from email.message import EmailMessage
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from modelmon.alerting.transport import DeliveryError, post_json, run_command

__all__ = [
    "CHANNEL_TYPES",
    "CommandConfig",
    "EmailConfig",
    "SlackConfig",
    "WebhookConfig",
    "public_config",
    "send",
    "validate_config",
]

ChannelType = Literal["webhook", "slack", "email", "command"]
CHANNEL_TYPES: tuple[str, ...] = ("webhook", "slack", "email", "command")
# Slack truncates long messages anyway; a grouped message stays readable at this size.
_SLACK_TEXT_LIMIT = 3500


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _http_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ValueError(f"must be an http(s) URL; got {value!r}")
    return value


class WebhookConfig(_Config):
    url: str
    headers: dict[str, str] = {}
    timeout: float = Field(default=10.0, gt=0, le=120)

    _url = field_validator("url")(_http_url)


class SlackConfig(_Config):
    url: str
    channel: str | None = None
    username: str | None = None
    icon_emoji: str | None = None
    timeout: float = Field(default=10.0, gt=0, le=120)

    _url = field_validator("url")(_http_url)


class EmailConfig(_Config):
    host: str = Field(min_length=1)
    port: int = Field(default=587, ge=1, le=65535)
    starttls: bool = True
    username: str | None = None
    # Prefer password_env: the secret then stays in the server's environment, not the database.
    password: str | None = None
    password_env: str | None = None
    sender: str = Field(min_length=3)
    to: list[str] = Field(min_length=1)
    # A CA bundle to verify the server's certificate with (a private CA); default: system CAs.
    ca_file: str | None = None
    timeout: float = Field(default=20.0, gt=0, le=120)

    def secret(self) -> str | None:
        if self.password_env:
            value = os.environ.get(self.password_env)
            if value is None:
                raise DeliveryError(f"environment variable {self.password_env} is not set")
            return value
        return self.password


class CommandConfig(_Config):
    argv: list[str] = Field(min_length=1)
    timeout: float = Field(default=30.0, gt=0, le=3600)
    env: dict[str, str] = {}

    @field_validator("argv")
    @classmethod
    def _program(cls, value: list[str]) -> list[str]:
        if not value[0]:
            raise ValueError("argv[0] must name a program")
        return value


_MODELS: dict[str, type[_Config]] = {
    "webhook": WebhookConfig,
    "slack": SlackConfig,
    "email": EmailConfig,
    "command": CommandConfig,
}


def validate_config(kind: str, config: dict[str, Any]) -> dict[str, Any]:
    """The config with defaults filled in; ValueError naming ``config.<field>`` if invalid."""
    model = _MODELS.get(kind)
    if model is None:
        raise ValueError(f"type must be one of {', '.join(CHANNEL_TYPES)}; got {kind!r}")
    try:
        return model.model_validate(config).model_dump(mode="json")
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in ("config", *first["loc"]))
        raise ValueError(f"{where}: {first['msg']}") from None


def public_config(kind: str, config: dict[str, Any]) -> dict[str, Any]:
    """The config as the API shows it: secrets masked."""
    shown = dict(config)
    if shown.get("password"):
        shown["password"] = "********"
    return shown


def send(kind: str, config: dict[str, Any], payload: dict[str, Any]) -> None:
    """Deliver one message; raises DeliveryError (or OSError/smtplib errors) on failure."""
    if kind == "webhook":
        webhook = WebhookConfig.model_validate(config)
        post_json(webhook.url, payload, headers=webhook.headers, timeout=webhook.timeout)
    elif kind == "slack":
        _send_slack(SlackConfig.model_validate(config), payload)
    elif kind == "email":
        _send_email(EmailConfig.model_validate(config), payload)
    elif kind == "command":
        command = CommandConfig.model_validate(config)
        result = run_command(command.argv, payload, timeout=command.timeout, env=command.env)
        if not result.ok:
            raise DeliveryError(f"command {command.argv[0]!r} failed: {result.describe()}")
    else:
        raise DeliveryError(f"unknown channel type {kind!r}")


def _send_slack(config: SlackConfig, payload: dict[str, Any]) -> None:
    text = f"*{payload['subject']}*\n{payload['text']}"
    if len(text) > _SLACK_TEXT_LIMIT:
        text = text[:_SLACK_TEXT_LIMIT] + "\n…"
    body: dict[str, Any] = {"text": text}
    for key in ("channel", "username", "icon_emoji"):
        if getattr(config, key):
            body[key] = getattr(config, key)
    post_json(config.url, body, timeout=config.timeout)


def _send_email(config: EmailConfig, payload: dict[str, Any]) -> None:
    message = EmailMessage()
    message["Subject"] = payload["subject"]
    message["From"] = config.sender
    message["To"] = ", ".join(config.to)
    message.set_content(payload["text"])
    try:
        with smtplib.SMTP(config.host, config.port, timeout=config.timeout) as smtp:
            smtp.ehlo()
            if config.starttls:
                context = ssl.create_default_context(cafile=config.ca_file)
                smtp.starttls(context=context)
                smtp.ehlo()
            if config.username:
                smtp.login(config.username, config.secret() or "")
            smtp.send_message(message)
    except (smtplib.SMTPException, OSError) as error:
        raise DeliveryError(f"SMTP {config.host}:{config.port}: {error}") from None
