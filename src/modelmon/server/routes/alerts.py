"""Alerting: rules, channels, remediation actions, alerts and their history, acknowledgements,
silences, the delivery log and the remediation audit log.

Rules are refused with a 422 naming the field: malformed matchers, impossible M of N, bad
templates (by the RuleSpec model), and here, with the store at hand, an unknown metric (unless
``allow_unknown_metric``), channel or remediation action.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from modelmon.alerting.channels import public_config, validate_config
from modelmon.alerting.dispatch import DEFAULT_UNHEALTHY_AFTER
from modelmon.alerting.engine import silenced_until
from modelmon.alerting.policy import AlertState
from modelmon.alerting.remediation import validate_action
from modelmon.alerting.rules import RuleSpec, parse_matchers
from modelmon.errors import ConflictError
from modelmon.server.auth import require_write, state_of
from modelmon.store import (
    ActionRecord,
    AlertRecord,
    ChannelRecord,
    NotificationRecord,
    RemediationRecord,
    RuleRecord,
    SilenceRecord,
    Store,
    TokenInfo,
    TransitionRecord,
)

__all__ = ["router"]

router = APIRouter(tags=["alerts"])
Writer = Annotated[TokenInfo | None, Depends(require_write)]
_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"


def _invalid(field: str, message: str) -> RequestValidationError:
    return RequestValidationError([{"loc": ("body", field), "msg": message, "type": "value_error"}])


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- rules -------------------------------------------------------------------------------------


class RuleOut(RuleSpec):
    model_config = ConfigDict(extra="ignore")

    id: int
    source: str | None = None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, record: RuleRecord) -> RuleOut:
        return cls.model_validate(
            {
                **record.spec,
                "id": record.id,
                "source": record.source,
                "created_at": record.created_at,
                "updated_at": record.updated_at,
            }
        )


def _check_references(store: Store, spec: RuleSpec) -> None:
    if not spec.allow_unknown_metric and not any(
        spec.matches_metric(name) for name, _ in store.metrics.list_series(spec.metric_prefix)
    ):
        raise _invalid(
            "metric",
            f"no series named {spec.metric!r} exists yet; check the name, or set "
            "allow_unknown_metric: true for a metric that a monitor will write later",
        )
    channels = {c.name for c in store.alerts.list_channels()} | {"*"}
    for index, name in enumerate(spec.channels):
        if name not in channels:
            raise _invalid(
                f"channels[{index}]",
                f"unknown channel {name!r}; known: {', '.join(sorted(channels))}",
            )
    actions = {a.name for a in store.alerts.list_actions()}
    for index, name in enumerate(spec.remediation):
        if name not in actions:
            raise _invalid(
                f"remediation[{index}]",
                f"unknown remediation action {name!r}; known: {', '.join(sorted(actions)) or '-'}",
            )


@router.get("/alerts/rules", response_model=list[RuleOut])
def list_rules(request: Request) -> list[RuleOut]:
    return [RuleOut.of(r) for r in state_of(request).store.alerts.list_rules()]


@router.post("/alerts/rules", response_model=RuleOut, status_code=201)
def create_rule(body: RuleSpec, request: Request, _: Writer) -> RuleOut:
    state = state_of(request)
    _check_references(state.store, body)
    record = state.store.alerts.create_rule(body.name, body.document(), now=state.clock())
    return RuleOut.of(record)


@router.get("/alerts/rules/{rule_id}", response_model=RuleOut)
def get_rule(rule_id: int, request: Request) -> RuleOut:
    return RuleOut.of(state_of(request).store.alerts.get_rule(rule_id))


@router.patch("/alerts/rules/{rule_id}", response_model=RuleOut)
def update_rule(rule_id: int, body: dict[str, Any], request: Request, _: Writer) -> RuleOut:
    """Change some fields; the whole rule is validated again."""
    state = state_of(request)
    record = state.store.alerts.get_rule(rule_id)
    try:
        spec = RuleSpec.model_validate({**record.spec, **body})
    except ValidationError as error:
        raise RequestValidationError(error.errors()) from None
    _check_references(state.store, spec)
    updated = state.store.alerts.update_rule(
        rule_id, name=spec.name, spec=spec.document(), now=state.clock()
    )
    return RuleOut.of(updated)


@router.delete("/alerts/rules/{rule_id}", status_code=204)
def delete_rule(rule_id: int, request: Request, _: Writer) -> None:
    state_of(request).store.alerts.delete_rule(rule_id)


# -- channels and actions ----------------------------------------------------------------------


class ChannelIn(_Strict):
    name: str = Field(pattern=_NAME)
    type: Literal["webhook", "slack", "email", "command"]
    config: dict[str, Any]

    @field_validator("config")
    @classmethod
    def _config(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        kind = info.data.get("type")
        return value if kind is None else validate_config(kind, value)


class ChannelOut(BaseModel):
    name: str
    type: str
    config: dict[str, Any]
    healthy: bool
    consecutive_failures: int
    last_error: str | None
    last_attempt_at: datetime | None
    last_success_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, channel: ChannelRecord) -> ChannelOut:
        return cls(
            name=channel.name,
            type=channel.type,
            config=public_config(channel.type, channel.config),
            healthy=channel.consecutive_failures < DEFAULT_UNHEALTHY_AFTER,
            consecutive_failures=channel.consecutive_failures,
            last_error=channel.last_error,
            last_attempt_at=channel.last_attempt_at,
            last_success_at=channel.last_success_at,
            created_at=channel.created_at,
        )


class ActionIn(_Strict):
    name: str = Field(pattern=_NAME)
    type: Literal["webhook", "command"]
    config: dict[str, Any]

    @field_validator("config")
    @classmethod
    def _config(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        kind = info.data.get("type")
        return value if kind is None else validate_action(kind, value)


class ActionOut(BaseModel):
    name: str
    type: str
    config: dict[str, Any]
    created_at: datetime

    @classmethod
    def of(cls, action: ActionRecord) -> ActionOut:
        return cls(
            name=action.name,
            type=action.type,
            config=public_config(action.type, action.config),
            created_at=action.created_at,
        )


def _rules_using(store: Store, key: str, name: str) -> list[str]:
    return [r.name for r in store.alerts.list_rules() if name in r.spec.get(key, [])]


@router.get("/alerts/channels", response_model=list[ChannelOut])
def list_channels(request: Request) -> list[ChannelOut]:
    return [ChannelOut.of(c) for c in state_of(request).store.alerts.list_channels()]


def _refuse_open_commands(kind: str, token: TokenInfo | None) -> None:
    # A command runs a program on this machine: on a server that anyone may write to (no
    # token yet), adding one would hand out code execution.
    if kind == "command" and token is None:
        raise HTTPException(
            403,
            "Command channels and actions run programs on the server, so they need an "
            "authenticated write: create an API token first ('modelmon tokens create') and send "
            "it as 'Authorization: Bearer <token>'.",
        )


@router.post("/alerts/channels", response_model=ChannelOut, status_code=201)
def create_channel(body: ChannelIn, request: Request, token: Writer) -> ChannelOut:
    _refuse_open_commands(body.type, token)
    state = state_of(request)
    channel = state.store.alerts.create_channel(
        body.name, body.type, body.config, now=state.clock()
    )
    return ChannelOut.of(channel)


@router.delete("/alerts/channels/{name}", status_code=204)
def delete_channel(name: str, request: Request, _: Writer) -> None:
    store = state_of(request).store
    store.alerts.get_channel(name)
    users = _rules_using(store, "channels", name)
    if users:
        raise ConflictError(
            f"Channel {name!r} is used by rule(s) {', '.join(users)}; remove it from them first."
        )
    store.alerts.delete_channel(name)


@router.get("/alerts/actions", response_model=list[ActionOut])
def list_actions(request: Request) -> list[ActionOut]:
    return [ActionOut.of(a) for a in state_of(request).store.alerts.list_actions()]


@router.post("/alerts/actions", response_model=ActionOut, status_code=201)
def create_action(body: ActionIn, request: Request, token: Writer) -> ActionOut:
    _refuse_open_commands(body.type, token)
    state = state_of(request)
    action = state.store.alerts.create_action(body.name, body.type, body.config, now=state.clock())
    return ActionOut.of(action)


@router.delete("/alerts/actions/{name}", status_code=204)
def delete_action(name: str, request: Request, _: Writer) -> None:
    store = state_of(request).store
    store.alerts.get_action(name)
    users = _rules_using(store, "remediation", name)
    if users:
        raise ConflictError(
            f"Action {name!r} is used by rule(s) {', '.join(users)}; remove it from them first."
        )
    store.alerts.delete_action(name)


# -- silences ----------------------------------------------------------------------------------


class SilenceIn(_Strict):
    matchers: dict[str, str] = {}
    rule_id: int | None = None
    until: datetime
    reason: str = Field(default="", max_length=10_000)
    created_by: str | None = Field(default=None, max_length=255)

    @field_validator("matchers")
    @classmethod
    def _matchers(cls, value: dict[str, str]) -> dict[str, str]:
        parse_matchers(value)
        return value


class SilenceOut(BaseModel):
    id: int
    matchers: dict[str, str]
    rule_id: int | None
    until: datetime
    reason: str
    created_by: str
    created_at: datetime
    active: bool

    @classmethod
    def of(cls, silence: SilenceRecord, now: datetime) -> SilenceOut:
        return cls(
            id=silence.id,
            matchers=silence.matchers,
            rule_id=silence.rule_id,
            until=silence.until,
            reason=silence.reason,
            created_by=silence.created_by,
            created_at=silence.created_at,
            active=silence.until > now,
        )


@router.get("/alerts/silences", response_model=list[SilenceOut])
def list_silences(request: Request, active: Annotated[bool, Query()] = False) -> list[SilenceOut]:
    """Every silence, or with ``active=true`` only those not yet expired."""
    state = state_of(request)
    now = state.clock()
    found = state.store.alerts.list_silences(active_at=now if active else None)
    return [SilenceOut.of(s, now) for s in found]


@router.post("/alerts/silences", response_model=SilenceOut, status_code=201)
def create_silence(body: SilenceIn, request: Request, token: Writer) -> SilenceOut:
    state = state_of(request)
    now = state.clock()
    if body.until.tzinfo is None:
        raise _invalid("until", "must carry a time zone, e.g. 2026-11-02T18:00:00Z")
    if body.until <= now:
        raise _invalid("until", f"must be in the future; it is {now.isoformat()} now")
    if not body.matchers and body.rule_id is None:
        raise _invalid("matchers", "give at least one matcher or a rule_id; silencing everything")
    if body.rule_id is not None and body.rule_id not in {
        r.id for r in state.store.alerts.list_rules()
    }:
        raise _invalid("rule_id", f"there is no alert rule with id {body.rule_id}")
    silence = state.store.alerts.create_silence(
        matchers=body.matchers,
        until=body.until,
        reason=body.reason,
        created_by=body.created_by or (token.name if token else "anonymous"),
        rule_id=body.rule_id,
        now=now,
    )
    return SilenceOut.of(silence, now)


@router.delete("/alerts/silences/{silence_id}", status_code=204)
def delete_silence(silence_id: int, request: Request, _: Writer) -> None:
    state_of(request).store.alerts.delete_silence(silence_id)


# -- logs --------------------------------------------------------------------------------------


class NotificationOut(BaseModel):
    id: int
    channel: str
    kind: str
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None
    subject: str

    @classmethod
    def of(cls, n: NotificationRecord) -> NotificationOut:
        return cls(
            id=n.id,
            channel=n.channel,
            kind=n.kind,
            status=n.status,
            attempts=n.attempts,
            last_error=n.last_error,
            created_at=n.created_at,
            next_attempt_at=n.next_attempt_at,
            sent_at=n.sent_at,
            subject=n.subject,
        )


@router.get("/alerts/notifications", response_model=list[NotificationOut])
def list_notifications(
    request: Request,
    status: Literal["pending", "sent", "failed"] | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> list[NotificationOut]:
    """The delivery log, newest first."""
    store = state_of(request).store
    return [
        NotificationOut.of(n) for n in store.alerts.list_notifications(status=status, limit=limit)
    ]


@router.get("/alerts/remediations", response_model=list[RemediationRecord])
def list_remediations(
    request: Request, limit: Annotated[int, Query(ge=1, le=10_000)] = 100
) -> list[RemediationRecord]:
    """The remediation audit log, newest first: action, rule, model, version, execution, the
    context it was given, ok, exit code, output, error, start and end."""
    return state_of(request).store.alerts.list_remediations(limit=limit)


# -- alerts ------------------------------------------------------------------------------------


class AlertOut(BaseModel):
    id: int
    rule_id: int
    rule_name: str
    severity: str
    model: str
    version: str
    metric: str
    labels: dict[str, str]
    state: AlertState
    since: datetime
    value: float | None
    message: str
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    silenced_until: datetime | None


class TransitionOut(BaseModel):
    at: datetime
    from_: str = Field(serialization_alias="from")
    to: str
    value: float | None
    message: str
    execution_id: int | None

    @classmethod
    def of(cls, t: TransitionRecord) -> TransitionOut:
        return cls(
            at=t.at,
            from_=t.from_state,
            to=t.to_state,
            value=t.value,
            message=t.message,
            execution_id=t.execution_id,
        )


class AcknowledgeIn(_Strict):
    by: str | None = Field(default=None, max_length=255)


def _alerts_out(store: Store, found: list[AlertRecord], now: datetime) -> list[AlertOut]:
    rules = {r.id: r for r in store.alerts.list_rules()}
    silences = store.alerts.list_silences(active_at=now)
    out = []
    for alert in found:
        rule = rules.get(alert.rule_id)
        out.append(
            AlertOut(
                id=alert.id,
                rule_id=alert.rule_id,
                rule_name=rule.name if rule else "",
                severity=str(rule.spec.get("severity", "warning")) if rule else "warning",
                model=alert.model,
                version=alert.version,
                metric=alert.metric,
                labels=alert.labels,
                state=AlertState(alert.state),
                since=alert.since,
                value=alert.value,
                message=alert.message,
                acknowledged_at=alert.acknowledged_at,
                acknowledged_by=alert.acknowledged_by,
                silenced_until=silenced_until(alert, silences, now),
            )
        )
    return out


@router.get("/alerts", response_model=list[AlertOut])
def list_alerts(
    request: Request,
    state: AlertState | None = None,
    model: str | None = None,
    rule_id: int | None = None,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 10_000,
) -> list[AlertOut]:
    """Alert instances (one per rule and series), e.g. ``?state=ALARM&model=churn``."""
    server = state_of(request)
    found = server.store.alerts.list_alerts(
        state=None if state is None else state.value, model=model, rule_id=rule_id, limit=limit
    )
    return _alerts_out(server.store, found, server.clock())


@router.get("/alerts/{alert_id}/history", response_model=list[TransitionOut])
def alert_history(alert_id: int, request: Request) -> list[TransitionOut]:
    store = state_of(request).store
    return [TransitionOut.of(t) for t in store.alerts.list_transitions(alert_id)]


@router.post("/alerts/{alert_id}/acknowledge", response_model=AlertOut)
def acknowledge(alert_id: int, body: AcknowledgeIn, request: Request, token: Writer) -> AlertOut:
    """Someone is on it: no more reminders for this episode of ALARM."""
    state = state_of(request)
    by = body.by or (token.name if token else "anonymous")
    alert = state.store.alerts.acknowledge(alert_id, by=by, now=state.clock())
    return _alerts_out(state.store, [alert], state.clock())[0]
