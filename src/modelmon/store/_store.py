"""The store: one database, one aggregate store per concern."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.engine import Engine

from modelmon.store._alerts import AlertStore
from modelmon.store._executions import ExecutionStore
from modelmon.store._metrics import MetricStore
from modelmon.store._migrate import check_revision, upgrade
from modelmon.store._models import ModelStore
from modelmon.store._schedules import ScheduleStore
from modelmon.store._tokens import TokenStore
from modelmon.store._uri import create_store_engine
from modelmon.store._violations import ViolationStore

__all__ = ["Store", "open_store"]


class Store:
    """Models, schedules, executions, violations, metric points, API tokens and alerting in one
    database.

    Build it with :func:`open_store`. Each attribute is the store of one aggregate; they share
    the engine (and its connection pool).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.models = ModelStore(engine)
        self.schedules = ScheduleStore(engine)
        self.executions = ExecutionStore(engine)
        self.violations = ViolationStore(engine)
        self.metrics = MetricStore(engine)
        self.tokens = TokenStore(engine)
        self.alerts = AlertStore(engine)

    def migrate(self) -> None:
        """Bring the schema to this modelmon's newest revision; creates it in an empty database."""
        upgrade(self.engine)

    def check_schema(self) -> None:
        """Raise SchemaVersionError unless the schema is exactly this modelmon's revision."""
        check_revision(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def open_store(uri: str, *, migrate: bool = False) -> Store:
    """Open the store at ``uri`` (``sqlite:///path`` or ``postgresql://...``).

    With ``migrate=True`` an empty or older schema is migrated first; otherwise it must already
    be current. A schema newer than this modelmon is always refused: upgrade modelmon.
    """
    store = Store(create_store_engine(uri))
    try:
        if migrate:
            store.migrate()
        else:
            store.check_schema()
    except BaseException:
        store.close()
        raise
    return store
