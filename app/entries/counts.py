"""How many entries each award has per (category, status), kept in ``entry_count``.

Every change of an entry that moves it between (award, category, status) cells — its
creation, its deletion, a change of status or of category — goes through the ORM, and one
listener here (``_count_changes``, on every flush) turns them into increments of the
cells, in the same transaction: a change rolled back leaves the counts as they were. On
PostgreSQL each increment is an ``UPDATE … SET n = n + :d`` (insert-on-conflict for a new
cell), so concurrent changes add up exactly; the cells of one flush are taken in key order.

Rows written around the ORM (bulk loads, benchmarks' seeding) call ``recount`` afterwards.
"""

from collections import Counter
from collections.abc import Iterable

from sqlalchemy import delete, event, func, insert, inspect, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from app.entries.models import Entry, EntryCount
from app.entries.rules import EntryStatus

Cell = tuple[int, int, str]  # (award, category, status)


def _cell(award_id, category_id, status) -> Cell:
    return int(award_id), int(category_id), str(status)


def _old(state, name: str, current):
    """The value an attribute had when loaded (before this flush's change)."""
    history = state.attrs[name].history
    if history.deleted:
        return history.deleted[0]
    return current


def changes_of(session: Session) -> Counter:
    """{cell: delta} of the entries this flush creates, deletes or moves."""
    deltas: Counter = Counter()
    for obj in session.new:
        if isinstance(obj, Entry):
            deltas[_cell(obj.award_id, obj.category_id, obj.status)] += 1
    for obj in session.deleted:
        if isinstance(obj, Entry):
            state = inspect(obj)
            deltas[_cell(_old(state, "award_id", obj.award_id),
                         _old(state, "category_id", obj.category_id),
                         _old(state, "status", obj.status))] -= 1
    for obj in session.dirty:
        if not isinstance(obj, Entry) or obj in session.deleted:
            continue
        state = inspect(obj)
        if state.deleted or state.transient or state.pending:
            continue
        before = _cell(_old(state, "award_id", obj.award_id),
                       _old(state, "category_id", obj.category_id),
                       _old(state, "status", obj.status))
        after = _cell(obj.award_id, obj.category_id, obj.status)
        if before != after:
            deltas[before] -= 1
            deltas[after] += 1
    return Counter({cell: d for cell, d in deltas.items() if d})


def apply(connection, deltas: Counter) -> None:
    """Adds the deltas to their cells, one statement per cell, in key order."""
    upsert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    table = EntryCount.__table__
    for (award_id, category_id, status), delta in sorted(deltas.items()):
        statement = upsert(table).values(award_id=award_id, category_id=category_id,
                                         status=status, n=delta)
        connection.execute(statement.on_conflict_do_update(
            index_elements=[table.c.award_id, table.c.category_id, table.c.status],
            set_={"n": table.c.n + statement.excluded.n}))


@event.listens_for(Session, "before_flush")
def _count_changes(session, _flush_context, _instances) -> None:
    deltas = changes_of(session)
    if deltas:
        apply(session.connection(), deltas)


# The old value of a status or category is loaded before it is replaced, so that the
# listener always knows which cell an entry leaves.
@event.listens_for(Entry.status, "set", active_history=True)
@event.listens_for(Entry.category_id, "set", active_history=True)
@event.listens_for(Entry.award_id, "set", active_history=True)
def _keep_old_value(_target, value, _oldvalue, _initiator):
    return value


def recount(session: Session, award_ids: Iterable[int] | None = None) -> None:
    """Rebuilds the cells of the given awards (all when None) from the entries themselves:
    after rows were written around the ORM."""
    table = EntryCount.__table__
    wipe = delete(table)
    grouped = select(Entry.award_id, Entry.category_id, Entry.status, func.count()) \
        .group_by(Entry.award_id, Entry.category_id, Entry.status)
    if award_ids is not None:
        award_ids = list(award_ids)
        wipe = wipe.where(table.c.award_id.in_(award_ids))
        grouped = grouped.where(col(Entry.award_id).in_(award_ids))
    session.execute(wipe)
    session.execute(insert(table).from_select(["award_id", "category_id", "status", "n"],
                                              grouped))


def cells(session: Session, award_id: int) -> list[tuple[int, str, int]]:
    """(category, status, n) of the award's non-empty cells."""
    return list(session.execute(
        select(EntryCount.category_id, EntryCount.status, EntryCount.n)
        .where(EntryCount.award_id == award_id, EntryCount.n != 0)).all())


def total(session: Session, award_id: int, *, status: str | None, category_id: int | None,
          include_drafts: bool) -> int:
    """The number of the award's entries with the status (any but drafts unless
    ``include_drafts``) and category (any when None), from the cells: one small query."""
    conditions = [EntryCount.award_id == award_id]
    if status:
        conditions.append(EntryCount.status == status)
    elif not include_drafts:
        conditions.append(EntryCount.status != EntryStatus.draft)
    if category_id:
        conditions.append(EntryCount.category_id == category_id)
    found = session.execute(select(func.coalesce(func.sum(EntryCount.n), 0))
                            .where(*conditions)).scalar_one()
    return int(found)
