"""A national-scale installation, seeded straight into the tables (bulk inserts) where the
services would be too slow, through the services where they are fast enough.

``seed_national(database_url, entries=3000, ...)`` makes, in Vietnamese:
  - organizers, BENCH_JUDGES judges (default 100) and BENCH_JOURNALISTS journalists
    (default 300), every account signed in with PASSWORD (hashed once, the hash reused);
  - the national award in judging ("Giải Báo chí quốc gia lần thứ XX"), 12 categories
    (sub-panels), ``entries`` accepted entries with 1–3 small real files each (PDFs, or PNGs
    for the photo category; stored through get_storage().put so that downloads work);
    round 1 (blind, 3 judges per entry) closed with every score final and the top of each
    category shortlisted; round 2 (the shortlist, 5 judges per entry) assigned through the
    service, started, about a third of its scores in;
  - next year's award, open, accepting new entries (a tenth of ``entries`` already there:
    drafts and entries waiting for screening);
  - last year's award, published: a third of ``entries``, one closed round, prizes
    allocated, results published (certificates issued).
Returns the ids, slugs and addresses the load generator needs.
"""

import hashlib
import io
import random
import uuid
from datetime import UTC, date, datetime, timedelta

PASSWORD = "do-chay-thu-2026"
BATCH = 5_000

CATEGORIES = [
    ("BI", "Báo in", ["pdf"]),
    ("BDT", "Báo điện tử", ["pdf"]),
    ("PT", "Phát thanh", ["pdf"]),
    ("TH", "Truyền hình", ["pdf"]),
    ("ANH", "Ảnh báo chí", ["image"]),
    ("CL", "Tác phẩm chính luận", ["pdf"]),
    ("PSDT", "Phóng sự điều tra", ["pdf"]),
    ("DN", "Thông tin đối ngoại", ["pdf"]),
    ("DTMN", "Dân tộc và miền núi", ["pdf"]),
    ("XDD", "Xây dựng Đảng", ["pdf"]),
    ("KT", "Kinh tế", ["pdf"]),
    ("VHXH", "Văn hóa – Xã hội", ["pdf"]),
]
QUOTA = {"A": 1, "B": 2, "C": 3, "KK": 5}
RUBRIC = [("Nội dung, tư tưởng", 40, "Giá trị thông tin, tính định hướng."),
          ("Hình thức thể hiện", 30, "Cấu trúc, ngôn ngữ, hình ảnh."),
          ("Hiệu quả xã hội", 30, "Tác động của tác phẩm đến công chúng.")]
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng",
          "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý"]
MIDDLE = ["Văn", "Thị", "Minh", "Đức", "Thu", "Hữu", "Ngọc", "Thanh", "Quang", "Hồng"]
GIVEN = ["An", "Bình", "Chi", "Dũng", "Giang", "Hà", "Hải", "Hạnh", "Hiếu", "Hòa", "Hùng",
         "Khánh", "Lan", "Linh", "Long", "Mai", "Nam", "Nga", "Phúc", "Phương", "Quân",
         "Sơn", "Tâm", "Thảo", "Trang", "Tuấn", "Vân", "Yến"]
OUTLETS = ["Báo Nhân Dân", "Báo Quân đội nhân dân", "Đài Tiếng nói Việt Nam",
           "Đài Truyền hình Việt Nam", "Thông tấn xã Việt Nam", "Báo Tuổi Trẻ",
           "Báo Thanh Niên", "Báo Lao Động", "Báo Tiền Phong", "Tạp chí Cộng sản",
           "Báo Hà Nội mới", "Báo Sài Gòn Giải Phóng", "Báo Đà Nẵng", "Báo Cần Thơ"]
TOPICS = ["Chuyển đổi số ở vùng cao", "Giữ rừng đầu nguồn", "Xây dựng nông thôn mới",
          "Phòng chống tham nhũng, tiêu cực", "Biển đảo quê hương", "Đường về bản xa",
          "Người giữ lửa nghề truyền thống", "Sạt lở bờ sông Cửu Long", "Kinh tế tuần hoàn",
          "Bảo tồn văn hóa dân tộc", "Cải cách hành chính", "Y tế cơ sở sau đại dịch"]
JOURNALIST_PREFIX = "phongvien"
JUDGE_PREFIX = "giamkhao"
ORGANIZER = "btc@quocgia.vn"


def person_name(i: int) -> str:
    return f"{FAMILY[i % len(FAMILY)]} {MIDDLE[(i // 3) % len(MIDDLE)]} " \
           f"{GIVEN[(i * 7) % len(GIVEN)]}"


def _batches(rows, size=BATCH):
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


def _users(session, password_hash: str, role: str, prefix: str, n: int, now) -> list:
    from sqlalchemy import select

    from app.accounts.models import User
    from app.text import fold

    rows = []
    for i in range(n):
        name = person_name(i + (0 if role == "journalist" else 1000))
        email = f"{prefix}{i + 1}@quocgia.vn"
        rows.append({"email": email, "password_hash": password_hash, "role": role,
                     "full_name": name,
                     # A judge working at an outlet would be in conflict with its entries.
                     "organization": OUTLETS[i % len(OUTLETS)] if role == "journalist"
                     else "Hội Nhà báo Việt Nam",
                     "email_verified_at": now, "created_at": now, "language": "vi",
                     "search_text": fold(f"{name} {email}")})
    for batch in _batches(rows):
        session.execute(User.__table__.insert(), batch)
    return list(session.execute(select(User).where(User.role == role,
                                                   User.email.like(f"{prefix}%"))
                                .order_by(User.id)).scalars())


def _award(session, organizer, *, title: str, slug: str, year: int, opens, closes,
           max_entries: int = 3):
    from app.awards import service as awards
    from app.awards.models import AwardCreate, CategoryCreate

    award = awards.create_award(session, AwardCreate(
        title=title, year=year, slug=slug,
        rules="Thể lệ Giải Báo chí quốc gia (dữ liệu thử tải).",
        submission_opens_at=opens, submission_closes_at=closes,
        published_from=date(year - 1, 11, 1), published_to=date(year, 10, 31),
        max_entries_per_author=max_entries, max_authors_per_entry=5, max_series_parts=5),
        actor=organizer)
    categories = [awards.add_category(session, award, CategoryCreate(
        code=code, name=name, accepted_kinds=kinds, max_file_mb=50, url_required=False,
        prize_quota=QUOTA), actor=organizer) for code, name, kinds in CATEGORIES]
    return award, categories


def _entries(session, award, categories, submitters, n: int, now, rng, *,
             statuses: list[str], files: bool = True) -> list[tuple[int, int]]:
    """n entries spread over the categories, one author (a co-author for one in five), 1–3
    files each; ``statuses`` cycles (drafts get no code). Returns (entry id, category id)."""
    from sqlalchemy import select, update

    from app.awards.models import Category
    from app.entries.models import Entry, EntryAuthor, EntryFile
    from app.samples import pdf, png
    from app.storage import get_storage
    from app.text import fold, vi_name_sort_string, vi_sort_string

    storage = get_storage()
    numbers = {c.id: c.last_code_number for c in categories}
    rows, authors_of = [], []
    for i in range(n):
        category = categories[i % len(categories)]
        author = submitters[(i * 7 + award.id) % len(submitters)]
        status = statuses[i % len(statuses)]
        code = None
        if status != "draft":
            numbers[category.id] += 1
            code = f"{category.code}-{numbers[category.id]:03d}"
        title = f"{TOPICS[i % len(TOPICS)]} (kỳ {i // len(TOPICS) + 1})"
        co = person_name(i + 5000) if i % 5 == 0 else None
        names = [author.full_name] + ([co] if co else [])
        rows.append({
            "award_id": award.id, "category_id": category.id, "submitter_id": author.id,
            "status": status, "code": code, "screening_reason": None, "title": title,
            "summary": f"Loạt bài phản ánh {TOPICS[i % len(TOPICS)].lower()}, "
                       "ghi nhận ở nhiều địa phương trong năm qua.",
            "outlet": OUTLETS[i % len(OUTLETS)],
            "published_on": date(award.year, 1 + i % 9, 1 + i % 28), "url": None,
            "series_parts": None,
            "search_text": fold(" ".join([code or "", title, *names])),
            "author_sort": vi_name_sort_string(author.full_name),
            "title_sort": vi_sort_string(title), "created_at": now, "updated_at": now,
            "submitted_at": None if status == "draft" else now})
        authors_of.append((author, co))
    for batch in _batches(rows):
        session.execute(Entry.__table__.insert(), batch)
    for category_id, number in numbers.items():
        session.execute(update(Category).where(Category.id == category_id)
                        .values(last_code_number=number))
    made = session.execute(select(Entry.id, Entry.category_id).where(Entry.award_id == award.id)
                           .order_by(Entry.id)).all()[-n:] if n else []
    kinds = {c.id: c.accepted_kinds for c in categories}
    author_rows, file_rows = [], []
    for (entry_id, category_id), (author, co) in zip(made, authors_of, strict=True):
        author_rows.append({"entry_id": entry_id, "position": 0, "user_id": author.id,
                            "full_name": author.full_name, "pen_name": None,
                            "email": author.email})
        if co:
            author_rows.append({"entry_id": entry_id, "position": 1, "user_id": None,
                                "full_name": co, "pen_name": None, "email": None})
        if not files:
            continue
        for k in range(1 + rng.randrange(3)):
            if "image" in kinds[category_id]:
                data = png(32 + k, 24, (entry_id % 256, k * 60, 90))
                name, kind, content_type = f"anh-{k + 1}.png", "image", "image/png"
            else:
                data = pdf(f"Tac pham {entry_id} phan {k + 1}")
                name, kind, content_type = f"tac-pham-{k + 1}.pdf", "pdf", "application/pdf"
            stored = uuid.uuid4().hex
            storage.put(stored, io.BytesIO(data))
            file_rows.append({"entry_id": entry_id, "stored_name": stored, "filename": name,
                              "size": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                              "kind": kind, "content_type": content_type, "created_at": now})
    for batch in _batches(author_rows):
        session.execute(EntryAuthor.__table__.insert(), batch)
    for batch in _batches(file_rows):
        session.execute(EntryFile.__table__.insert(), batch)
    return [(entry_id, category_id) for entry_id, category_id in made]


def _panels(session, round_, categories, judges, organizer, now) -> dict[int, list[int]]:
    """The judges split into one sub-panel per category (through the service)."""
    from app.judging import service as judging
    from app.judging.models import PanelIn

    seats: dict[int, list[int]] = {c.id: [] for c in categories}
    for i, judge in enumerate(judges):
        category = categories[i % len(categories)]
        judging.set_panel(session, round_, PanelIn(judge_id=judge.id,
                                                   category_ids=[category.id]),
                          actor=organizer, now=now)
        seats[category.id].append(judge.id)
    return seats


def _scored_round(session, award, categories, judges, organizer, listed, now, rng, *,
                  name: str, per_entry: int) -> object:
    """A first round over ``listed`` (entry id, category id), every assignment with a final
    score (inserted straight into the tables), closed."""
    from sqlalchemy import select, update

    from app.judging import queries as judging_queries
    from app.judging import service as judging
    from app.judging.models import Assignment, CriterionIn, Round, RoundCreate, Score

    round_ = judging.create_round(session, award, RoundCreate(
        name=name, judges_per_entry=per_entry, blind=True, aggregation="mean",
        criteria=[CriterionIn(name=c, description=d, max_points=p) for c, p, d in RUBRIC]),
        actor=organizer, now=now)
    seats = _panels(session, round_, categories, judges, organizer, now)
    keys = [str(c.id) for c in judging_queries.criteria_of(session, round_.id)]
    tops = [p for _c, p, _d in RUBRIC]
    session.flush()
    assignments = []
    for n, (entry_id, category_id) in enumerate(listed):
        panel = seats[category_id]
        for k in range(min(per_entry, len(panel))):
            assignments.append({"round_id": round_.id, "entry_id": entry_id,
                                "judge_id": panel[(n + k) % len(panel)], "created_at": now})
    for batch in _batches(assignments):
        session.execute(Assignment.__table__.insert(), batch)
    ids = session.execute(select(Assignment.id, Assignment.entry_id, Assignment.judge_id)
                          .where(Assignment.round_id == round_.id)).all()
    scores = []
    for assignment_id, entry_id, judge_id in ids:
        values = [rng.randint(top, top * 2) / 2 for top in tops]
        scores.append({"assignment_id": assignment_id, "round_id": round_.id,
                       "entry_id": entry_id, "judge_id": judge_id,
                       "points": dict(zip(keys, values, strict=True)),
                       "total": round(sum(values), 2), "comment": "", "final": True,
                       "created_at": now, "updated_at": now})
    for batch in _batches(scores):
        session.execute(Score.__table__.insert(), batch)
    session.execute(update(Round).where(Round.id == round_.id).values(
        status="closed", started_at=now, closed_at=now, updated_at=now))
    session.flush()
    session.expire(round_)
    return round_


def seed_national(database_url: str, *, entries: int = 3000, judges: int = 100,
                  journalists: int = 300, password_hash: str, seed: int = 2026) -> dict:
    from sqlalchemy import select
    from sqlmodel import Session

    import app.models  # noqa: F401
    from app.accounts.models import User
    from app.awards import service as awards
    from app.db import make_engine
    from app.entries.counts import recount
    from app.judging import queries as judging_queries
    from app.judging import service as judging
    from app.judging.models import CriterionIn, Round, RoundCreate, Score
    from app.results import service as results
    from app.results.models import AllocateIn, ShortlistIn

    rng = random.Random(seed)
    engine = make_engine(database_url)
    now = datetime.now(UTC)
    shortlist_n = max(2, min(25, entries // (len(CATEGORIES) * 10)))
    with Session(engine, expire_on_commit=False) as session:
        organizer = User(email=ORGANIZER, password_hash=password_hash, role="organizer",
                         full_name="Ban tổ chức Giải", email_verified_at=now)
        session.add(organizer)
        session.flush()
        panel = _users(session, password_hash, "judge", JUDGE_PREFIX, judges, now)
        writers = _users(session, password_hash, "journalist", JOURNALIST_PREFIX, journalists,
                         now)

        # Last year's award, published.
        past, past_categories = _award(
            session, organizer, title="Giải Báo chí quốc gia lần thứ XIX năm 2025",
            slug="giai-bao-chi-quoc-gia-2025", year=2025,
            opens=now - timedelta(days=400), closes=now - timedelta(days=300), max_entries=20)
        awards.change_status(session, past, "open", actor=organizer, now=now)
        listed = _entries(session, past, past_categories, writers, max(24, entries // 3), now,
                          rng, statuses=["accepted"])
        recount(session, [past.id])  # the entries went in around the ORM
        for target in ("closed", "judging"):
            awards.change_status(session, past, target, actor=organizer, now=now)
        seated = panel[:len(CATEGORIES) * 3]
        past_round = _scored_round(session, past, past_categories, seated, organizer, listed,
                                   now, rng, name="Vòng chấm",
                                   per_entry=max(1, min(3, len(seated) // len(CATEGORIES))))
        results.allocate(session, past, AllocateIn(round_id=past_round.id), actor=organizer,
                         now=now)
        awards.change_status(session, past, "published", actor=organizer, now=now)
        session.commit()

        # This year's national award, in judging.
        award, categories = _award(
            session, organizer, title="Giải Báo chí quốc gia lần thứ XX năm 2026",
            slug="giai-bao-chi-quoc-gia-2026", year=2026,
            opens=now - timedelta(days=120), closes=now - timedelta(days=30), max_entries=20)
        awards.change_status(session, award, "open", actor=organizer, now=now)
        listed = _entries(session, award, categories, writers, entries, now, rng,
                          statuses=["accepted"] * 19 + ["rejected"])
        recount(session, [award.id])
        accepted = [row for n, row in enumerate(listed) if n % 20 != 19]
        for target in ("closed", "judging"):
            awards.change_status(session, award, target, actor=organizer, now=now)
        first = _scored_round(session, award, categories, panel, organizer, accepted, now,
                              rng, name="Vòng sơ khảo",
                              per_entry=max(1, min(3, judges // len(CATEGORIES))))
        results.shortlist(session, first, ShortlistIn(top_n=shortlist_n), actor=organizer,
                          now=now)
        second = judging.create_round(session, award, RoundCreate(
            name="Vòng chung khảo", judges_per_entry=max(1, min(5, judges // len(CATEGORIES))),
            blind=False, aggregation="mean",
            source_round_id=first.id,
            criteria=[CriterionIn(name=c, description=d, max_points=p)
                      for c, p, d in RUBRIC]), actor=organizer, now=now)
        _panels(session, second, categories, panel, organizer, now)
        judging.assign_round(session, second, actor=organizer, now=now)
        judging.move_round(session, second, "start", actor=organizer, now=now)
        session.commit()
        second = session.get(Round, second.id)
        keys = [str(c.id) for c in judging_queries.criteria_of(session, second.id)]
        from app.judging.models import Assignment
        rows = session.execute(select(Assignment.id, Assignment.entry_id, Assignment.judge_id)
                               .where(Assignment.round_id == second.id)
                               .order_by(Assignment.id)).all()
        scores = []
        for n, (assignment_id, entry_id, judge_id) in enumerate(rows):
            if n % 3:
                continue  # a third of the scores in, one in six final
            values = [rng.randint(top, top * 2) / 2 for _c, top, _d in RUBRIC]
            scores.append({"assignment_id": assignment_id, "round_id": second.id,
                           "entry_id": entry_id, "judge_id": judge_id,
                           "points": dict(zip(keys, values, strict=True)),
                           "total": round(sum(values), 2), "comment": "",
                           "final": n % 2 == 0, "created_at": now, "updated_at": now})
        for batch in _batches(scores):
            session.execute(Score.__table__.insert(), batch)
        session.commit()

        # Next year's award, open: drafts and entries waiting for screening.
        upcoming, upcoming_categories = _award(
            session, organizer, title="Giải Báo chí quốc gia lần thứ XXI năm 2027",
            slug="giai-bao-chi-quoc-gia-2027", year=2027,
            opens=now - timedelta(days=10), closes=now + timedelta(days=60), max_entries=50)
        awards.change_status(session, upcoming, "open", actor=organizer, now=now)
        _entries(session, upcoming, upcoming_categories, writers, max(12, entries // 10), now,
                 rng, statuses=["submitted", "submitted", "draft"])
        recount(session, [upcoming.id])
        session.commit()
        judges_seated = sorted({judge_id for _a, _e, judge_id in rows})
        by_id = {u.id: u.email for u in panel}
        info = {
            "organizer": ORGANIZER,
            "judges": [by_id[j] for j in judges_seated],
            "journalists": [u.email for u in writers],
            "national": {"id": award.id, "slug": award.slug, "round1": first.id,
                         "round2": second.id},
            "open": {"id": upcoming.id, "slug": upcoming.slug,
                     "categories": [(c.id, c.accepted_kinds) for c in upcoming_categories]},
            "published": {"id": past.id, "slug": past.slug, "round": past_round.id},
            "assignments_round2": len(rows),
            "shortlisted": len(set(e for _a, e, _j in rows)),
        }
    engine.dispose()
    return info
