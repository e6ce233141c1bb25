"""``modelmon alerts ...``: rules, channels, actions, silences, alerts and acknowledgements on a
running server, over its REST API (``--server``, ``--token``; see ``modelmon.cli.remote``).

modelmon alerts rules create --name churn-drift --metric 'feature_baseline_drift_*' \\
    --match model=churn --above 0.2 --m 2 --n 3 --channel oncall
modelmon alerts list --state ALARM
modelmon alerts ack 42 --by alice
modelmon alerts silence create --match model=churn --for 2h --reason "retraining"
"""

from __future__ import annotations

import argparse
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from modelmon.cli.remote import Handler, call, command, group
from modelmon.errors import ConfigError, DatasetError

__all__ = ["parse_duration", "parse_match", "register"]

_MATCH = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(=~|!~|!=|=)(.*)$")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_BASE = "/api/v1/alerts"


def parse_match(texts: list[str] | None) -> dict[str, str]:
    """``label=value`` (or ``!=``, ``=~``, ``!~``) flags as the API's ``{label: "=value"}``."""
    matchers = {}
    for text in texts or []:
        found = _MATCH.match(text)
        if found is None:
            raise ConfigError(
                "The '--match' option must look like label=value (or label!=value, "
                f"label=~regex, label!~regex). Got {text!r} instead."
            )
        label, op, value = found.groups()
        matchers[label] = op + value
    return matchers


def parse_duration(text: str) -> timedelta:
    found = _DURATION.match(text.strip())
    if found is None:
        raise ConfigError(
            f"The '--for' option must be a duration like 30m, 2h or 1d. Got {text!r} instead."
        )
    return timedelta(**{_UNITS[found.group(2)]: float(found.group(1))})


def _json_option(text: str, option: str) -> Any:
    """A JSON value given inline or as @file."""
    source = text
    if text.startswith("@"):
        source = Path(text[1:]).read_text(encoding="utf-8")
    try:
        return json.loads(source)
    except json.JSONDecodeError as error:
        raise DatasetError(
            f"{option} is not valid JSON",
            path=text[1:] if text.startswith("@") else None,
            line=error.lineno,
            column=None,
            expected="a JSON document",
            found=error.msg,
        ) from None


def register(commands: Any) -> None:
    alerts = commands.add_parser(
        "alerts",
        help="alert rules, channels, silences and alerts on a server",
        description="Alerting on a modelmon server: rules, notification channels, remediation "
        "actions, silences, and the alerts themselves.",
    )
    actions = alerts.add_subparsers(dest="action", metavar="ACTION", required=True)
    _alerts(actions)
    _rules(actions)
    _named(actions, "channels", "notification channels (webhook, slack, email, command)")
    _named(actions, "actions", "remediation actions (webhook, command)")
    _silences(actions)
    command(
        actions,
        "notifications",
        "the delivery log",
        lambda a: call(a, "GET", f"{_BASE}/notifications"),
    )
    command(
        actions,
        "remediations",
        "the remediation audit log",
        lambda a: call(a, "GET", f"{_BASE}/remediations"),
    )


def _alerts(actions: Any) -> None:
    listing = command(
        actions,
        "list",
        "alerts, e.g. --state ALARM",
        lambda a: call(a, "GET", _BASE, params={"state": a.state, "model": a.model}),
    )
    listing.add_argument("--state", choices=("OK", "ALARM", "INSUFFICIENT_DATA"))
    listing.add_argument("--model")
    ack = command(
        actions,
        "ack",
        "acknowledge an alert in ALARM (stops its reminders)",
        lambda a: call(a, "POST", f"{_BASE}/{a.alert_id}/acknowledge", body={"by": a.by}),
    )
    ack.add_argument("alert_id", type=int)
    ack.add_argument("--by", help="who is on it (default: the token's name)")
    history = command(
        actions,
        "history",
        "an alert's transitions",
        lambda a: call(a, "GET", f"{_BASE}/{a.alert_id}/history"),
    )
    history.add_argument("alert_id", type=int)


def _rule_body(a: argparse.Namespace) -> dict[str, Any]:
    if a.file:
        document = _json_option(f"@{a.file}", "--file")
        if not isinstance(document, dict):
            raise ConfigError(f"The '--file' option must hold a JSON object. Got {document!r}.")
        return dict(document)
    if not a.name or not a.metric:
        raise ConfigError("The '--name' and '--metric' options are required without --file.")
    given = [c for c in ("above", "below", "outside", "sigma") if getattr(a, c) is not None]
    if len(given) != 1:
        raise ConfigError(
            "Exactly one of --above, --below, --outside, --sigma is required. "
            f"Got {len(given)} of them instead."
        )
    kind = given[0]
    condition: dict[str, Any] = {"type": kind}
    if kind in ("above", "below"):
        condition["threshold"] = getattr(a, kind)
    elif kind == "outside":
        condition["low"], condition["high"] = a.outside
    else:
        condition["k"] = a.sigma
    evaluation: dict[str, Any] = {"m": a.m, "n": a.n, "missing": a.missing}
    if a.min_samples is not None:
        evaluation["min_samples"] = a.min_samples
    body: dict[str, Any] = {
        "name": a.name,
        "metric": a.metric,
        "matchers": parse_match(a.match),
        "condition": condition,
        "evaluation": evaluation,
        "severity": a.severity,
        "channels": a.channel or [],
        "remediation": a.remediation or [],
        "allow_unknown_metric": a.allow_unknown_metric,
    }
    for key in ("description", "runbook_url", "reminder_minutes"):
        if getattr(a, key) is not None:
            body[key] = getattr(a, key)
    return body


def _rules(actions: Any) -> None:
    rules = group(actions, "rules", "alert rules", dest="subaction")
    command(rules, "list", "list rules", lambda a: call(a, "GET", f"{_BASE}/rules"))
    show = command(
        rules, "show", "one rule", lambda a: call(a, "GET", f"{_BASE}/rules/{a.rule_id}")
    )
    show.add_argument("rule_id", type=int)
    create = command(
        rules,
        "create",
        "create a rule from flags or --file rule.json",
        lambda a: call(a, "POST", f"{_BASE}/rules", body=_rule_body(a)),
    )
    create.add_argument("--file", metavar="FILE", help="the rule as JSON (the REST body)")
    create.add_argument("--name")
    create.add_argument("--metric", help="a metric name; a trailing * takes every suffix")
    create.add_argument("--match", action="append", metavar="LABEL=VALUE")
    create.add_argument("--above", type=float, metavar="X")
    create.add_argument("--below", type=float, metavar="X")
    create.add_argument("--outside", type=float, nargs=2, metavar=("LOW", "HIGH"))
    create.add_argument("--sigma", type=float, metavar="K", help="K sigma from its own history")
    create.add_argument("--m", type=int, default=1, help="breaching datapoints needed")
    create.add_argument("--n", type=int, default=1, help="of the last N datapoints")
    create.add_argument("--min-samples", type=int)
    create.add_argument(
        "--missing", choices=("ok", "alarm", "insufficient", "keep"), default="insufficient"
    )
    create.add_argument("--severity", choices=("info", "warning", "critical"), default="warning")
    create.add_argument("--description", help="a template: $metric, $value, $feature, ...")
    create.add_argument("--runbook-url")
    create.add_argument("--channel", action="append", metavar="NAME")
    create.add_argument("--remediation", action="append", metavar="ACTION")
    create.add_argument("--reminder-minutes", type=float)
    create.add_argument("--allow-unknown-metric", action="store_true")
    delete = command(
        rules, "delete", "delete a rule", lambda a: call(a, "DELETE", f"{_BASE}/rules/{a.rule_id}")
    )
    delete.add_argument("rule_id", type=int)
    for verb, enabled in (("enable", True), ("disable", False)):
        toggle = command(rules, verb, f"{verb} a rule", _toggle(enabled))
        toggle.add_argument("rule_id", type=int)


def _toggle(enabled: bool) -> Handler:
    def handler(a: argparse.Namespace) -> Any:
        return call(a, "PATCH", f"{_BASE}/rules/{a.rule_id}", body={"enabled": enabled})

    return handler


def _named(actions: Any, kind: str, help_text: str) -> None:
    sub = group(actions, kind, help_text, dest="subaction")
    command(sub, "list", f"list {kind}", lambda a: call(a, "GET", f"{_BASE}/{kind}"))
    create = command(
        sub,
        "create",
        "create one; --config is JSON inline or @file",
        lambda a: call(
            a,
            "POST",
            f"{_BASE}/{kind}",
            body={"name": a.name, "type": a.type, "config": _json_option(a.config, "--config")},
        ),
    )
    create.add_argument("name")
    types = (
        ("webhook", "slack", "email", "command") if kind == "channels" else ("webhook", "command")
    )
    create.add_argument("--type", required=True, choices=types)
    create.add_argument(
        "--config",
        required=True,
        metavar="JSON",
        help='e.g. \'{"url": "https://hooks.example/x"}\' or @channel.json',
    )
    delete = command(
        sub,
        "delete",
        f"delete one of the {kind}",
        lambda a: call(a, "DELETE", f"{_BASE}/{kind}/{a.name}"),
    )
    delete.add_argument("name")


def _silence_body(a: argparse.Namespace) -> dict[str, Any]:
    if (a.duration is None) == (a.until is None):
        raise ConfigError("Give exactly one of --for DURATION and --until TIME.")
    until = datetime.now(UTC) + parse_duration(a.duration) if a.duration is not None else a.until
    body: dict[str, Any] = {
        "matchers": parse_match(a.match),
        "until": until.isoformat() if isinstance(until, datetime) else until,
        "reason": a.reason,
    }
    if a.rule is not None:
        body["rule_id"] = a.rule
    if a.by:
        body["created_by"] = a.by
    return body


def _silences(actions: Any) -> None:
    sub = group(actions, "silence", "silences: mute matching alerts until a time", dest="subaction")
    listing = command(
        sub,
        "list",
        "list silences",
        lambda a: call(
            a, "GET", f"{_BASE}/silences", params={"active": "true" if a.active else None}
        ),
    )
    listing.add_argument("--active", action="store_true", help="only unexpired ones")
    create = command(
        sub,
        "create",
        "silence alerts matching --match (and/or --rule) for a while",
        lambda a: call(a, "POST", f"{_BASE}/silences", body=_silence_body(a)),
    )
    create.add_argument("--match", action="append", metavar="LABEL=VALUE")
    create.add_argument("--rule", type=int, metavar="RULE_ID")
    create.add_argument("--for", dest="duration", metavar="DURATION", help="e.g. 30m, 2h, 1d")
    create.add_argument("--until", metavar="TIME", help="ISO 8601 with a time zone")
    create.add_argument("--reason", default="")
    create.add_argument("--by")
    delete = command(
        sub,
        "delete",
        "end a silence",
        lambda a: call(a, "DELETE", f"{_BASE}/silences/{a.silence_id}"),
    )
    delete.add_argument("silence_id", type=int)
