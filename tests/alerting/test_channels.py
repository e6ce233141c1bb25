"""Each channel against a real receiver: HTTP on 127.0.0.1, SMTP with STARTTLS and AUTH
(aiosmtpd with a trustme CA), and a real subprocess."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from modelmon.alerting import DeliveryError
from modelmon.alerting.channels import send, validate_config
from modelmon.alerting.remediation import run_action, validate_action
from modelmon.alerting.testing import WebhookReceiver as Hook

PAYLOAD: dict[str, Any] = {
    "subject": "[ALARM] credit v1: 2 alerts firing (execution 3)",
    "text": "FIRING [warning] drift: feature_baseline_drift_age = 0.3 feature=age",
    "model": "credit",
    "version": "v1",
    "execution_id": 3,
    "alerts": [{"metric": "feature_baseline_drift_age", "value": 0.3}],
}


def test_webhook_posts_the_payload_as_json(hook: Hook) -> None:
    config = validate_config("webhook", {"url": hook.url, "headers": {"X-Team": "ml"}})
    send("webhook", config, PAYLOAD)
    assert hook.received == [PAYLOAD]
    assert hook.headers[0]["X-Team"] == "ml"
    assert hook.headers[0]["Content-Type"] == "application/json"


def test_a_failing_webhook_raises_with_the_status(hook: Hook) -> None:
    hook.status = 503
    with pytest.raises(DeliveryError, match="answered 503: broken"):
        send("webhook", {"url": hook.url, "timeout": 5}, PAYLOAD)
    with pytest.raises(DeliveryError, match="failed"):
        send("webhook", {"url": "http://127.0.0.1:9/nothing", "timeout": 5}, PAYLOAD)


def test_slack_gets_an_incoming_webhook_message(hook: Hook) -> None:
    config = validate_config("slack", {"url": hook.url, "channel": "#ml-alerts"})
    send("slack", config, PAYLOAD)
    (body,) = hook.received
    assert body["channel"] == "#ml-alerts"
    assert body["text"].startswith(f"*{PAYLOAD['subject']}*\n")
    assert "feature_baseline_drift_age" in body["text"]


def test_email_over_starttls_with_auth(smtp: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MM_SMTP_PASSWORD", smtp.password)
    config = validate_config(
        "email",
        {
            "host": smtp.host,
            "port": smtp.port,
            "username": smtp.username,
            "password_env": "MM_SMTP_PASSWORD",
            "sender": "modelmon@example.com",
            "to": ["oncall@example.com", "ml@example.com"],
            "ca_file": smtp.ca_file,
        },
    )
    send("email", config, PAYLOAD)
    (message,) = smtp.messages
    assert message["Subject"] == PAYLOAD["subject"]
    assert message["To"] == "oncall@example.com, ml@example.com"
    assert "feature_baseline_drift_age" in message.get_payload()
    assert smtp.logins == ["alerts"]


def test_email_refuses_a_wrong_password_and_an_untrusted_certificate(smtp: Any) -> None:
    base = {
        "host": smtp.host,
        "port": smtp.port,
        "username": smtp.username,
        "sender": "modelmon@example.com",
        "to": ["oncall@example.com"],
        "timeout": 10,
    }
    with pytest.raises(DeliveryError, match="Authentication"):
        send("email", {**base, "password": "wrong", "ca_file": smtp.ca_file}, PAYLOAD)
    with pytest.raises(DeliveryError, match="CERTIFICATE_VERIFY_FAILED"):
        send("email", {**base, "password": smtp.password}, PAYLOAD)
    assert smtp.messages == []


def _script(tmp_path: Path, body: str) -> list[str]:
    path = tmp_path / "hook.py"
    path.write_text(body)
    return [sys.executable, str(path)]


def test_a_command_gets_the_context_as_env_and_json_on_stdin(tmp_path: Path) -> None:
    out = tmp_path / "seen.json"
    argv = _script(
        tmp_path,
        "import json, os, sys\n"
        f"json.dump({{'stdin': json.load(sys.stdin), 'model': os.environ['MODELMON_ALERT_MODEL'],"
        f" 'subject': os.environ['MODELMON_ALERT_SUBJECT']}}, open({str(out)!r}, 'w'))\n",
    )
    # A label value that would be shell syntax stays a plain string: there is no shell.
    payload = {**PAYLOAD, "model": "credit; rm -rf /"}
    send("command", {"argv": argv}, payload)
    seen = json.loads(out.read_text())
    assert seen == {"stdin": payload, "model": "credit; rm -rf /", "subject": PAYLOAD["subject"]}


def test_a_failing_command_raises_with_its_exit_code_and_stderr(tmp_path: Path) -> None:
    argv = _script(tmp_path, "import sys\nprint('disk full', file=sys.stderr)\nsys.exit(3)\n")
    with pytest.raises(DeliveryError, match="exit code 3: disk full"):
        send("command", {"argv": argv}, PAYLOAD)
    with pytest.raises(DeliveryError, match="cannot run"):
        send("command", {"argv": [str(tmp_path / "missing")]}, PAYLOAD)


def test_remediation_outcomes_are_reported_not_raised(tmp_path: Path, hook: Hook) -> None:
    argv = _script(tmp_path, "import sys, json\nprint('retraining', json.load(sys.stdin)['model'])")
    ran = run_action("command", validate_action("command", {"argv": argv}), {"model": "credit"})
    assert (ran.ok, ran.exit_code, ran.output.strip(), ran.error) == (
        True,
        0,
        "retraining credit",
        None,
    )
    slow = _script(tmp_path, "import time\ntime.sleep(30)\n")
    timed_out = run_action("command", {"argv": slow, "timeout": 0.5}, {})
    assert (timed_out.ok, timed_out.exit_code, timed_out.error) == (False, None, "timed out")
    hook.status = 500
    called = run_action("webhook", {"url": hook.url}, {"model": "credit"})
    assert not called.ok
    assert called.error is not None
    assert "answered 500" in called.error


@pytest.mark.parametrize(
    ("kind", "config", "says"),
    [
        ("webhook", {"url": "ftp://x"}, "config.url: .*http"),
        ("webhook", {"url": "http://x", "retries": 3}, "config.retries: Extra inputs"),
        ("email", {"host": "h", "sender": "a@b"}, "config.to: Field required"),
        ("command", {"argv": []}, "config.argv"),
        ("command", {"argv": "rm -rf /"}, "config.argv: Input should be a valid list"),
        ("pager", {}, "type must be one of"),
    ],
)
def test_invalid_channel_configs_name_the_field(
    kind: str, config: dict[str, Any], says: str
) -> None:
    with pytest.raises(ValueError, match=says):
        validate_config(kind, config)
