"""Every sort and filter of the organizer's list reads its rows in order from an index —
page 1 and a deep page by cursor alike: no plan sorts the award (EXPLAIN on PostgreSQL,
EXPLAIN QUERY PLAN on SQLite), on 3,000 entries. ``giaibao migrate`` runs ANALYZE on
PostgreSQL."""

import time
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event, text
from sqlmodel import Session, select

from app.awards import service as awards
from app.entries import counts
from app.entries import queries as entry_queries
from app.entries.models import Entry
from app.text import fold, vi_name_sort_string, vi_sort_string
from tests.conftest import TEST_DATABASE_URL, fresh_database_url
from tests.factories import make_award, make_category, make_user

SIZE = 3000
STATUSES = ["submitted", "accepted", "accepted", "returned", "draft", "withdrawn",
            "rejected", "submitted"]
FILTERS = [{}, {"status": "submitted"}, {"status": "draft"}, {"category": 2},
           {"status": "accepted", "category": 1}, {"include_drafts": True}]


@pytest.fixture(scope="module")
def real_engine():
    """An empty database of this module's own, seeded once (``seeded``)."""
    from sqlmodel import SQLModel

    from app.db import make_engine

    engine = make_engine(fresh_database_url("entry_list_plans"))
    SQLModel.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def seeded(real_engine):
    """An award with SIZE entries in 4 categories, written straight into the table."""
    with Session(real_engine, expire_on_commit=False) as session:
        organizer = make_user(session, role="organizer")
        award = make_award(session, organizer=organizer, status="open")
        cats = [awards.list_categories(session, award)[0]] + [
            make_category(session, award, organizer=organizer, code=f"X{i}", name=f"Loại {i}")
            for i in range(3)]
        journalist = make_user(session)
        now = datetime.now(UTC)
        rows = []
        for i in range(SIZE):
            status = STATUSES[i % len(STATUSES)]
            category = cats[i % len(cats)]
            title = f"Tác phẩm số {i} về biển đảo"
            author = f"Nguyễn Văn {chr(65 + i % 26)}{i}"
            rows.append({
                "award_id": award.id, "category_id": category.id,
                "submitter_id": journalist.id, "status": status,
                "code": None if status == "draft" else f"{category.code}-{i:05d}",
                "title": title, "summary": "", "outlet": "Báo Nhân Dân",
                "published_on": date(2026, 3, 1), "search_text": fold(f"{title} {author}"),
                "author_sort": vi_name_sort_string(author), "title_sort": vi_sort_string(title),
                "created_at": now - timedelta(seconds=SIZE - i), "updated_at": now})
        session.execute(Entry.__table__.insert(), rows)
        counts.recount(session, [award.id])
        session.commit()
    if real_engine.dialect.name == "postgresql":
        with real_engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
    else:
        with real_engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
    return award, cats


def _plans(engine, run) -> list[str]:
    """The plans of the list's main query (the entries, ordered) that ``run`` issues."""
    captured = []

    def listen(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().startswith("SELECT entry.") and "ORDER BY" in statement:
            captured.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", listen)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    assert captured
    explain = "EXPLAIN " if engine.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN "
    plans = []
    with engine.execution_options(read_only=True).connect() as conn:
        for statement, parameters in captured:
            rows = conn.exec_driver_sql(explain + statement, parameters).all()
            plans.append("\n".join(str(r[-1]) for r in rows))
    return plans


@pytest.mark.parametrize("sort", ["code", "author", "title", "newest"])
def test_every_sort_and_filter_reads_an_index_in_order_on_page_one_and_deep(
        real_engine, seeded, sort):
    award, cats = seeded
    postgres = real_engine.dialect.name == "postgresql"
    for filters in FILTERS:
        options = {"sort": sort, "limit": 50, "status": filters.get("status"),
                   "include_drafts": filters.get("include_drafts", False)
                   or filters.get("status") == "draft"}
        if "category" in filters:
            options["category_id"] = cats[filters["category"]].id
        with Session(real_engine.execution_options(read_only=True)) as session:
            ordered = session.exec(select(Entry).where(Entry.award_id == award.id)).all()
            assert len(ordered) == SIZE
            page = entry_queries.award_entries_page(session, award, **options, offset=0)
            deep = page
            # Ten pages on by cursor, then the deep page's plan.
            for _ in range(10):
                if deep.next_after is None:
                    break
                deep = entry_queries.award_entries_page(session, award, **options,
                                                        after=deep.next_after)
            assert deep is not page
            after = deep.next_after or page.next_after
            plans = _plans(real_engine, lambda session=session, options=options, after=after: [
                entry_queries.award_entries_page(session, award, **options),
                entry_queries.award_entries_page(session, award, **options, after=after),
                entry_queries.award_entries_page(session, award, **options, offset=2000)])
        # A deep offset may read the index too (SQLite does); PostgreSQL's planner may
        # rather sort than skip 2,000 index rows: only the cursor is held to the index there.
        for plan in plans[:2] if postgres else plans:
            context = (sort, filters, plan)
            assert "ix_entry_list_" in plan, context
            if postgres:
                assert "Sort" not in plan, context
                assert "Seq Scan" not in plan, context
            else:
                assert "TEMP B-TREE" not in plan, context


@pytest.mark.skipif(not TEST_DATABASE_URL.startswith("postgresql"),
                    reason="ANALYZE is run on PostgreSQL only")
def test_migrate_runs_analyze_on_postgresql():
    from app.cli import migrate
    from app.db import make_engine

    url = fresh_database_url("analyze_check")
    migrate(url)
    engine = make_engine(url)
    try:
        analyzed = None
        for _ in range(50):  # the statistics of the ANALYZE's backend reach the view soon after
            with engine.connect() as conn:
                analyzed = conn.execute(text(
                    "SELECT last_analyze FROM pg_stat_user_tables WHERE schemaname = "
                    "'analyze_check' AND relname = 'entry'")).scalar_one_or_none()
            if analyzed is not None:
                break
            time.sleep(0.1)
        assert analyzed is not None
    finally:
        engine.dispose()
