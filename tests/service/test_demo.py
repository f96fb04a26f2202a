from sqlmodel import col, select

from app.accounts.models import User
from app.demo import (
    DEMO_PASSWORD,
    JUDGING_AWARD_SLUG,
    PUBLISHED_AWARD_SLUG,
    demo_award,
    load_demo,
)
from app.entries.models import Entry
from app.judging import queries
from app.judging.models import Assignment, Round, Score
from app.security import verify_password


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


def test_demo_has_a_blind_preliminary_round_in_progress_for_the_three_judges(session):
    created = load_demo(session=session)
    assert created["judging_award"] == JUDGING_AWARD_SLUG
    award = demo_award(session, JUDGING_AWARD_SLUG)
    assert (award.title, award.status) == (
        "Giải báo chí về xây dựng Đảng tỉnh Khánh Hòa năm 2026", "judging")
    entries = session.exec(select(Entry).where(Entry.award_id == award.id)
                           .order_by(Entry.id)).all()
    assert [(e.code, e.status) for e in entries] == [
        ("BI-001", "accepted"), ("BI-002", "accepted"), ("BI-003", "accepted"),
        ("BDT-001", "accepted"), ("BDT-002", "accepted"), ("BDT-003", "accepted")]
    assert all(e.files for e in entries)
    round_ = session.exec(select(Round).where(Round.award_id == award.id)).one()
    assert (round_.name, round_.status, round_.blind, round_.judges_per_entry) == (
        "Vòng sơ khảo", "scoring", True, 2)
    assert [(c.name, c.max_points) for c in queries.criteria_of(session, round_.id)] == [
        ("Nội dung tư tưởng", 40), ("Hình thức thể hiện", 30), ("Hiệu quả xã hội", 30)]
    judges = [session.exec(select(User).where(User.email == f"giamkhao{i}@giaibao.vn")).one()
              for i in (1, 2, 3)]
    assert all(j.role == "judge" and verify_password(DEMO_PASSWORD, j.password_hash)
               for j in judges)
    assert [m.judge_id for m in queries.panel_of(session, round_)] == sorted(
        (j.id for j in judges), key=lambda i: next(j.full_name for j in judges if j.id == i))
    active = session.exec(select(Assignment.entry_id).where(
        Assignment.round_id == round_.id, col(Assignment.conflict_at).is_(None))).all()
    assert sorted(active) == sorted([e.id for e in entries] * 2)  # two judges each
    # The second judge declared a conflict (kept, with its reason); the entry moved on.
    conflict = session.exec(select(Assignment).where(
        Assignment.round_id == round_.id, col(Assignment.conflict_at).is_not(None))).one()
    assert (conflict.judge_id, conflict.conflict_reason) == (
        judges[1].id, "Tôi là người biên tập trực tiếp tác phẩm này trước khi đăng.")
    # Every score final but the third judge's last one: the organizer sees it missing.
    scores = session.exec(select(Score).where(Score.round_id == round_.id)).all()
    assert (len(scores), all(s.final for s in scores)) == (11, True)
    assert queries.missing_final(session, round_) == 1
    progress = {p.judge_id: p for p in queries.progress(session, round_).judges}
    assert [(progress[j.id].assigned, progress[j.id].draft, progress[j.id].final)
            for j in judges] == [(4, 0, 4), (3, 0, 3), (5, 0, 4)]
    assert sum(p.assigned for p in progress.values()) == 12
    assert load_demo(only_if_empty=True, session=session) is None


def test_demo_has_a_published_award_judged_in_two_rounds(session):
    from app.results import queries as results_queries
    from app.results.models import Certificate, Prize

    created = load_demo(session=session)
    assert created["published_award"] == PUBLISHED_AWARD_SLUG
    award = demo_award(session, PUBLISHED_AWARD_SLUG)
    assert (award.title, award.status) == ("Giải báo chí tỉnh Khánh Hòa năm 2025", "published")
    rounds = session.exec(select(Round).where(Round.award_id == award.id)
                          .order_by(Round.id)).all()
    assert [(r.name, r.status, r.source_round_id) for r in rounds] == [
        ("Vòng sơ khảo", "closed", None), ("Vòng chung khảo", "closed", rounds[0].id)]
    assert [(c.name, [(w.level, w.code, w.score) for w in winners])
            for c, winners in results_queries.winners(session, award)] == [
        ("Báo in", [("A", "BI-001", 90.0), ("B", "BI-002", 85.0), ("C", "BI-003", 76.0)]),
        ("Báo điện tử", [("A", "BDT-001", 92.0), ("B", "BDT-002", 82.0),
                         ("KK", "BDT-003", 76.0)])]
    overridden = session.exec(select(Prize).where(Prize.proposed_level != Prize.level)).all()
    assert [(p.proposed_level, p.level, p.reason.startswith("Hội đồng chung khảo"))
            for p in overridden] == [("C", "KK", True)]
    assert len(session.exec(select(Certificate).where(
        Certificate.award_id == award.id)).all()) == 6
