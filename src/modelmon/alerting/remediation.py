"""Remediation actions: call a webhook or run a command with an alert's context, e.g. trigger a
retraining pipeline, switch traffic back to the previous version, open a review ticket.

An action runs once per rule and execution that fired (not once per drifting feature), and every
run is written to the audit log with its outcome, whatever happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from modelmon.alerting.channels import CommandConfig, WebhookConfig, validate_config
from modelmon.alerting.transport import DeliveryError, post_json, run_command

__all__ = ["ACTION_TYPES", "ActionOutcome", "run_action", "validate_action"]

ACTION_TYPES: tuple[str, ...] = ("webhook", "command")


@dataclass(frozen=True)
class ActionOutcome:
    ok: bool
    exit_code: int | None
    output: str
    error: str | None


def validate_action(kind: str, config: dict[str, Any]) -> dict[str, Any]:
    if kind not in ACTION_TYPES:
        raise ValueError(f"type must be one of {', '.join(ACTION_TYPES)}; got {kind!r}")
    return validate_config(kind, config)


def run_action(kind: str, config: dict[str, Any], context: dict[str, Any]) -> ActionOutcome:
    """Run one action; never raises for a failure of the action itself (it is the outcome)."""
    try:
        if kind == "webhook":
            webhook = WebhookConfig.model_validate(config)
            body = post_json(webhook.url, context, headers=webhook.headers, timeout=webhook.timeout)
            return ActionOutcome(True, None, body, None)
        command = CommandConfig.model_validate(config)
        result = run_command(command.argv, context, timeout=command.timeout, env=command.env)
    except DeliveryError as error:
        return ActionOutcome(False, None, "", str(error))
    output = result.stdout + (f"\n[stderr]\n{result.stderr}" if result.stderr else "")
    return ActionOutcome(
        result.ok, result.exit_code, output, None if result.ok else result.describe()
    )
