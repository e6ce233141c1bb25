"""Alerting: rules, channels, remediation actions, alert states and their history, silences,
the notification outbox, the remediation audit log, and which schedules got default rules.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24

Column types are spelled out here (not imported from _schema.py), as in 0001.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _at(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "alert_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=True),
        _at("created_at"),
        _at("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_rules")),
        sa.UniqueConstraint("name", name=op.f("uq_alert_rules_name")),
    )
    op.create_table(
        "alert_channels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        _at("created_at"),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        _at("last_attempt_at", nullable=True),
        _at("last_success_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_channels")),
        sa.UniqueConstraint("name", name=op.f("uq_alert_channels_name")),
    )
    op.create_table(
        "alert_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        _at("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_actions")),
        sa.UniqueConstraint("name", name=op.f("uq_alert_actions_name")),
    )
    op.create_table(
        "alerts",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("metric", sa.String(length=255), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("labels_hash", sa.String(length=64), nullable=False),
        sa.Column("model", sa.String(length=255), nullable=False),
        sa.Column("version", sa.String(length=255), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        _at("since"),
        sa.Column("value", sa.Double(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("execution_id", sa.BigInteger(), nullable=True),
        _at("evaluated_at"),
        _at("notified_at", nullable=True),
        _at("acknowledged_at", nullable=True),
        sa.Column("acknowledged_by", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["alert_rules.id"],
            name=op.f("fk_alerts_rule_id_alert_rules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint(
            "rule_id", "metric", "labels_hash", name=op.f("uq_alerts_rule_id_metric_labels_hash")
        ),
    )
    op.create_index(op.f("ix_alerts_state"), "alerts", ["state"], unique=False)
    op.create_table(
        "alert_transitions",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("alert_id", _BIG_ID, nullable=False),
        _at("at"),
        sa.Column("from_state", sa.String(length=32), nullable=False),
        sa.Column("to_state", sa.String(length=32), nullable=False),
        sa.Column("value", sa.Double(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("execution_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alerts.id"],
            name=op.f("fk_alert_transitions_alert_id_alerts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_transitions")),
    )
    op.create_index(
        op.f("ix_alert_transitions_alert_id"), "alert_transitions", ["alert_id"], unique=False
    )
    op.create_table(
        "alert_silences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=True),
        sa.Column("matchers", sa.JSON(), nullable=False),
        _at("until"),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        _at("created_at"),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["alert_rules.id"],
            name=op.f("fk_alert_silences_rule_id_alert_rules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_silences")),
    )
    op.create_table(
        "alert_notifications",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("channel", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        _at("created_at"),
        _at("next_attempt_at"),
        _at("sent_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_notifications")),
    )
    op.create_index(
        op.f("ix_alert_notifications_status_next_attempt_at"),
        "alert_notifications",
        ["status", "next_attempt_at"],
        unique=False,
    )
    op.create_table(
        "alert_remediations",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("action", sa.String(length=255), nullable=False),
        sa.Column("action_type", sa.String(length=16), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=True),
        sa.Column("rule_name", sa.String(length=255), nullable=False),
        sa.Column("model", sa.String(length=255), nullable=False),
        sa.Column("version", sa.String(length=255), nullable=False),
        sa.Column("execution_id", sa.BigInteger(), nullable=True),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("output", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        _at("started_at"),
        _at("ended_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_remediations")),
    )
    op.create_table(
        "alert_defaults",
        sa.Column("schedule_id", sa.Integer(), nullable=False),
        _at("created_at"),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["schedules.id"],
            name=op.f("fk_alert_defaults_schedule_id_schedules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("schedule_id", name=op.f("pk_alert_defaults")),
    )


def downgrade() -> None:
    op.drop_table("alert_defaults")
    op.drop_table("alert_remediations")
    op.drop_index(
        op.f("ix_alert_notifications_status_next_attempt_at"), table_name="alert_notifications"
    )
    op.drop_table("alert_notifications")
    op.drop_table("alert_silences")
    op.drop_index(op.f("ix_alert_transitions_alert_id"), table_name="alert_transitions")
    op.drop_table("alert_transitions")
    op.drop_index(op.f("ix_alerts_state"), table_name="alerts")
    op.drop_table("alerts")
    op.drop_table("alert_actions")
    op.drop_table("alert_channels")
    op.drop_table("alert_rules")
