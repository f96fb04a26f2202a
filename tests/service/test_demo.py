from sqlmodel import select

from app.demo import DEMO_PASSWORD, demo_award, load_demo
from app.entries.models import Entry


def test_demo_loads_the_award_with_entries_in_several_states(session):
    created = load_demo(session=session)
    assert created["password"] == DEMO_PASSWORD
    award = demo_award(session)
    assert award.status == "open"
    entries = session.exec(select(Entry).where(Entry.award_id == award.id).order_by(Entry.id)).all()
    assert [(e.code, e.status) for e in entries] == [
        ("BI-001", "accepted"), ("BDT-001", "returned"), (None, "draft"),
        ("PT-001", "submitted"), ("ABC-001", "submitted")]
    assert all(e.files for e in entries)
    assert load_demo(only_if_empty=True, session=session) is None
