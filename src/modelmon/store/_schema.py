"""The tables, as SQLAlchemy Core metadata: the one source the migrations are checked against.

Changing anything here needs a new migration in ``migrations/versions/`` and a refreshed snapshot
(``tests/store/test_schema.py`` says how); the snapshot test fails otherwise.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from modelmon.store._types import UtcDateTime

__all__ = [
    "alert_actions",
    "alert_channels",
    "alert_defaults",
    "alert_notifications",
    "alert_remediations",
    "alert_rules",
    "alert_silences",
    "alert_transitions",
    "alerts",
    "baselines",
    "executions",
    "metadata",
    "model_versions",
    "models",
    "points",
    "schedules",
    "series",
    "tokens",
    "violations",
]

# Named constraints, so migrations can refer to them and both databases agree on the names.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite only auto-increments an "INTEGER PRIMARY KEY"; PostgreSQL gets 64-bit ids for the tables
# that grow with time.
BigId = BigInteger().with_variant(Integer(), "sqlite")

models = Table(
    "models",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(255), nullable=False, unique=True),
    Column("description", Text, nullable=False),
    Column("problem_type", String(32), nullable=False),
    Column("schema", JSON, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
)

model_versions = Table(
    "model_versions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("model_id", Integer, ForeignKey("models.id", ondelete="CASCADE"), nullable=False),
    Column("version", String(255), nullable=False),
    Column("description", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("model_id", "version"),
)

baselines = Table(
    "baselines",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "version_id", Integer, ForeignKey("model_versions.id", ondelete="CASCADE"), nullable=False
    ),
    Column("monitor_type", String(32), nullable=False),
    Column("files", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("version_id", "monitor_type"),
)

schedules = Table(
    "schedules",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(255), nullable=False, unique=True),
    Column(
        "version_id", Integer, ForeignKey("model_versions.id", ondelete="CASCADE"), nullable=False
    ),
    Column("monitor_type", String(32), nullable=False),
    Column("cron", String(64), nullable=False),
    # Offsets in whole seconds: an interval type is not portable between the two databases.
    Column("start_offset_s", BigInteger, nullable=True),
    Column("end_offset_s", BigInteger, nullable=True),
    Column("window_start", UtcDateTime, nullable=True),
    Column("window_end", UtcDateTime, nullable=True),
    Column("config", JSON, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index(None, "version_id"),
)

executions = Table(
    "executions",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("schedule_id", Integer, ForeignKey("schedules.id", ondelete="CASCADE"), nullable=False),
    Column("scheduled_time", UtcDateTime, nullable=False),
    Column("window_start", UtcDateTime, nullable=False),
    Column("window_end", UtcDateTime, nullable=False),
    Column("status", String(32), nullable=False),
    Column("failure_reason", Text, nullable=True),
    Column("started_at", UtcDateTime, nullable=True),
    Column("ended_at", UtcDateTime, nullable=True),
    Column("output_files", JSON, nullable=False),
    Column("exit_message", Text, nullable=True),
    Column("lease_owner", String(255), nullable=True),
    Column("lease_expires_at", UtcDateTime, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    # The lease: a scheduled run exists once, whichever server instance creates it first.
    UniqueConstraint("schedule_id", "scheduled_time"),
    Index(None, "status", "lease_expires_at"),
)

violations = Table(
    "violations",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("execution_id", BigId, ForeignKey("executions.id", ondelete="CASCADE"), nullable=False),
    Column("feature", String(255), nullable=False),
    Column("check_type", String(64), nullable=False),
    Column("description", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index(None, "execution_id"),
    Index(None, "created_at"),
)

# A series is one (name, label set). Labels are stored once here and points refer to the id, so
# a point costs a few bytes; labels_hash (sha256 of the canonical JSON) keeps the unique index
# small whatever the labels' length.
series = Table(
    "series",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("name", String(255), nullable=False),
    Column("labels", JSON, nullable=False),
    Column("labels_hash", String(64), nullable=False),
    UniqueConstraint("name", "labels_hash"),
)

# The hot table. The primary key (series_id, time_us) is the read path: one series over a time
# range is one index range scan. On SQLite the table is WITHOUT ROWID, so the rows themselves are
# clustered by that key. Times are integer microseconds since the epoch: compact, exact and
# compared the same way by both databases. execution_id records provenance only; it is not a
# foreign key because deleting an execution would then need an index on this table.
points = Table(
    "points",
    metadata,
    Column("series_id", BigId, ForeignKey("series.id", ondelete="CASCADE"), nullable=False),
    Column("time_us", BigInteger, nullable=False),
    # Nullable because SQLite stores NaN as NULL; it is read back as NaN on both databases.
    Column("value", Double, nullable=True),
    Column("execution_id", BigInteger, nullable=True),
    PrimaryKeyConstraint("series_id", "time_us"),
    sqlite_with_rowid=False,
)

tokens = Table(
    "tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(255), nullable=False),
    Column("secret_hash", String(64), nullable=False, unique=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
)

# ---------------------------------------------------------------------------------------------
# Alerting (revision 0002). A rule's definition is one JSON document: the alerting package owns
# its shape and validates it, so adding a condition type never needs a migration.
# ---------------------------------------------------------------------------------------------

alert_rules = Table(
    "alert_rules",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(255), nullable=False, unique=True),
    Column("spec", JSON, nullable=False),
    # Where the rule came from ("schedule:<id>" for a monitor's default rules), None if a user.
    Column("source", String(255), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

alert_channels = Table(
    "alert_channels",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(255), nullable=False, unique=True),
    Column("type", String(16), nullable=False),
    Column("config", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    # Delivery health: a channel that keeps failing is reported, never silently dropped.
    Column("consecutive_failures", Integer, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("last_attempt_at", UtcDateTime, nullable=True),
    Column("last_success_at", UtcDateTime, nullable=True),
)

alert_actions = Table(
    "alert_actions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(255), nullable=False, unique=True),
    Column("type", String(16), nullable=False),
    Column("config", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

# One alert per (rule, series): its current state; the history is in alert_transitions.
alerts = Table(
    "alerts",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("rule_id", Integer, ForeignKey("alert_rules.id", ondelete="CASCADE"), nullable=False),
    Column("metric", String(255), nullable=False),
    Column("labels", JSON, nullable=False),
    Column("labels_hash", String(64), nullable=False),
    Column("model", String(255), nullable=False),
    Column("version", String(255), nullable=False),
    Column("state", String(32), nullable=False),
    Column("since", UtcDateTime, nullable=False),
    Column("value", Double, nullable=True),
    Column("message", Text, nullable=False),
    Column("execution_id", BigInteger, nullable=True),
    Column("evaluated_at", UtcDateTime, nullable=False),
    Column("notified_at", UtcDateTime, nullable=True),
    Column("acknowledged_at", UtcDateTime, nullable=True),
    Column("acknowledged_by", String(255), nullable=True),
    UniqueConstraint("rule_id", "metric", "labels_hash"),
    Index(None, "state"),
)

alert_transitions = Table(
    "alert_transitions",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("alert_id", BigId, ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("from_state", String(32), nullable=False),
    Column("to_state", String(32), nullable=False),
    Column("value", Double, nullable=True),
    Column("message", Text, nullable=False),
    Column("execution_id", BigInteger, nullable=True),
    Index(None, "alert_id"),
)

alert_silences = Table(
    "alert_silences",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("rule_id", Integer, ForeignKey("alert_rules.id", ondelete="CASCADE"), nullable=True),
    Column("matchers", JSON, nullable=False),
    Column("until", UtcDateTime, nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_by", String(255), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

# The outbox: every message is stored before it is sent, so a failure is retried and recorded.
# channel is a name, not a foreign key, so the delivery log outlives a deleted channel.
alert_notifications = Table(
    "alert_notifications",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("channel", String(255), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("subject", Text, nullable=False),
    Column("payload", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime, nullable=True),
    Index(None, "status", "next_attempt_at"),
)

# The audit log of remediation actions: what ran, with which context, and what came of it.
alert_remediations = Table(
    "alert_remediations",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("action", String(255), nullable=False),
    Column("action_type", String(16), nullable=False),
    Column("rule_id", Integer, nullable=True),
    Column("rule_name", String(255), nullable=False),
    Column("model", String(255), nullable=False),
    Column("version", String(255), nullable=False),
    Column("execution_id", BigInteger, nullable=True),
    Column("context", JSON, nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("exit_code", Integer, nullable=True),
    Column("output", Text, nullable=False),
    Column("error", Text, nullable=True),
    Column("started_at", UtcDateTime, nullable=False),
    Column("ended_at", UtcDateTime, nullable=False),
)

# Schedules whose default rules were created once: deleting a default rule must not bring it back.
alert_defaults = Table(
    "alert_defaults",
    metadata,
    Column(
        "schedule_id",
        Integer,
        ForeignKey("schedules.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("created_at", UtcDateTime, nullable=False),
)
