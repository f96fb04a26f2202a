"""An award judged in two rounds, built through the real services, for the tests of what
authors see of judging (sealed outcomes, published results, certificates, mails)."""

from datetime import UTC, datetime
from types import SimpleNamespace

from app.accounts.rules import Role
from app.awards import service as awards
from app.judging import service as judging
from app.results import service as results
from app.results.models import AllocateIn, PrizeIn, ShortlistIn
from tests.factories import make_award, make_entry, make_round, make_user, score_round, seat

PRELIMINARY = "Vòng sơ khảo"
FINAL = "Vòng chung khảo"
# The points of the followed entry (``ours``): totals 87.5 in the preliminary round and
# 73.5 in the final one — numbers that appear nowhere else on a page.
OURS_PRELIMINARY = (35, 27.5, 25)
OURS_FINAL = (33.5, 20, 20)
OTHERS = [(30, 20, 20), (25, 20, 15), (20, 15, 10)]  # 70, 60, 45
OTHERS_FINAL = [(36, 26, 28), (30, 25, 25), (20, 10, 10)]  # 90, 80, 40


def now():
    return datetime.now(UTC)


def two_rounds(session, *, co_author_without_account: bool = True):
    """An award in judging: four accepted entries in one category, ``ours`` by ``author``
    with ``co_author`` (an account) and, unless told otherwise, a co-author known only by
    address; the preliminary round closed, three entries shortlisted, prizes allocated from
    it and ``ours`` overridden (A → C, with a reason); the final round (of the shortlist)
    started, ``ours`` scored by one judge. Returns a namespace."""
    organizer = make_user(session, role=Role.organizer, full_name="Trần Thị Tổ Chức")
    award = make_award(session, organizer=organizer, status="open")
    category = awards.list_categories(session, award)[0]
    author = make_user(session, full_name="Lê Văn Tác Giả", pen_name="Lê Tác",
                       email="tacgia@example.vn")
    co_author = make_user(session, full_name="Phạm Thị Đồng", email="dongtacgia@example.vn")
    co_authors = [{"full_name": "Phạm Thị Đồng", "pen_name": "Đồng Phạm",
                   "email": "dongtacgia@example.vn"}]
    if co_author_without_account:
        co_authors.append({"full_name": "Hoàng Văn Khách", "email": "khach@example.vn"})
    ours = make_entry(session, award, user=author, status="accepted",
                      title="Chi bộ giữa biển khơi", co_authors=co_authors)
    others = [make_entry(session, award, status="accepted", title=f"Tác phẩm khác số {i}")
              for i in (1, 2, 3)]
    for target in ("closed", "judging"):
        awards.change_status(session, award, target, actor=organizer)
    judges = [make_user(session, role=Role.judge, full_name=f"Giám khảo {i}",
                        email=f"gk{i}-{award.id}@example.vn") for i in (1, 2, 3)]
    points = {ours.id: OURS_PRELIMINARY, **{e.id: p for e, p in zip(others, OTHERS, strict=True)}}
    first = _round(session, award, category, judges, organizer, name=PRELIMINARY)
    score_round(session, first, lambda entry, judge: points[entry.id], organizer=organizer)
    results.shortlist(session, first, ShortlistIn(top_n=3), actor=organizer, now=now())
    results.allocate(session, award, AllocateIn(round_id=first.id), actor=organizer, now=now())
    results.set_prize(session, ours, PrizeIn(level="C", reason="Hội đồng thống nhất hạ giải"),
                      actor=organizer, now=now())
    final = _round(session, award, category, judges, organizer, name=FINAL,
                   source_round_id=first.id)
    scored_once = set()

    def one_judge_on_ours(entry, judge):
        if entry.id != ours.id or entry.id in scored_once:
            return None
        scored_once.add(entry.id)
        return OURS_FINAL

    score_round(session, final, one_judge_on_ours, close=False)
    return SimpleNamespace(award=award, category=category, organizer=organizer, author=author,
                           co_author=co_author, ours=ours, others=others, judges=judges,
                           first=first, final=final)


def _round(session, award, category, judges, organizer, **fields):
    round_ = make_round(session, award, organizer=organizer, judges_per_entry=2, **fields)
    for judge in judges:
        seat(session, round_, judge, [category], organizer=organizer)
    judging.assign_round(session, round_, actor=organizer, now=now())
    judging.move_round(session, round_, "start", actor=organizer, now=now())
    return round_


def finish_and_publish(session, world) -> None:
    """Every final-round score given and the round closed (totals: others 90 and 80,
    ``ours`` 73.5); prizes allocated from it (A, B, B), ``ours`` overridden B → C with a
    reason; the award published."""
    points = {world.ours.id: OURS_FINAL,
              **{e.id: p for e, p in zip(world.others, OTHERS_FINAL, strict=True)}}
    score_round(session, world.final, lambda entry, judge: points[entry.id],
                organizer=world.organizer)
    results.allocate(session, world.award, AllocateIn(round_id=world.final.id),
                     actor=world.organizer, now=now())
    results.set_prize(session, world.ours, PrizeIn(level="C", reason="Trùng đề tài năm trước"),
                      actor=world.organizer, now=now())
    awards.change_status(session, world.award, "published", actor=world.organizer)
