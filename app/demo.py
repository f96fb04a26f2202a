"""The demo: the provincial press award on Party building, Ninh Thuận, 2021, open for
entries; the Khánh Hòa award of 2026, in judging, its preliminary round nearly scored; and
the Khánh Hòa award of 2025, judged in two rounds and published (results, certificates).

Modelled on the real awards' shape (categories, limits, quotas, rubric); the rules text is
our own. Dates are placed around today so that the demo can be used at once: journalists
can submit to the first, judges can score the second.
"""

from datetime import UTC, date, datetime, timedelta

from sqlmodel import Session, func, select

from app.accounts import service as accounts
from app.accounts.models import User, UserCreate
from app.awards import service as awards
from app.awards.models import Award, AwardCreate, CategoryCreate
from app.db import get_engine, utcnow

DEMO_PASSWORD = "giaibao2021"

RULES = """\
## I. Mục đích

Giải báo chí về công tác xây dựng Đảng, xây dựng hệ thống chính trị tỉnh Ninh Thuận năm 2021
nhằm tôn vinh những tác phẩm báo chí có chất lượng cao về công tác xây dựng, chỉnh đốn Đảng,
đấu tranh bảo vệ nền tảng tư tưởng của Đảng; phát hiện, cổ vũ các gương điển hình tiên tiến.

## II. Đối tượng dự giải

- Phóng viên, biên tập viên, cộng tác viên của các cơ quan báo chí trung ương và địa phương.
- Tác giả là cán bộ, đảng viên, hội viên Hội Nhà báo và mọi công dân có tác phẩm đủ điều kiện.

## III. Điều kiện tác phẩm

1. Tác phẩm đã đăng, phát trên các cơ quan báo chí từ **01/11/2020 đến 31/10/2021**.
2. Mỗi tác giả (hoặc nhóm tác giả) gửi tối đa **03 tác phẩm**; nhóm tác giả không quá **05 người**.
3. Loạt bài không quá **05 kỳ**; tác phẩm phát thanh, truyền hình gửi kèm tệp âm thanh, video.
4. Không nhận tác phẩm đã đoạt giải ở các giải báo chí khác.

## IV. Thể loại và cơ cấu giải

Giải xét theo năm loại hình: báo in, báo điện tử, phát thanh, truyền hình và ảnh báo chí.
Mỗi loại hình có: 01 giải A, 02 giải B, 03 giải C và 04 giải khuyến khích.

## V. Chấm giải

Hội đồng giám khảo chấm hai vòng: **sơ khảo** và **chung khảo**, theo thang điểm 100
(nội dung 40, hình thức thể hiện 30, hiệu quả xã hội 30). Giám khảo không chấm tác phẩm
của chính mình.

## VI. Liên hệ

Ban Tuyên giáo Tỉnh ủy Ninh Thuận — thường trực Ban tổ chức giải.
"""

CATEGORIES = [
    ("BI", "Báo in", ["pdf", "image"], 50, False),
    ("BDT", "Báo điện tử", ["pdf", "image"], 50, True),
    ("PT", "Phát thanh", ["audio", "pdf"], 300, False),
    ("TH", "Truyền hình", ["video", "pdf"], 2048, False),
    ("ABC", "Ảnh báo chí", ["image", "pdf"], 100, False),
]

ACCOUNTS = [
    ("organizer", "btc@giaibao.vn", "Nguyễn Thị Thanh Hương", None, "Ban Tuyên giáo Tỉnh ủy"),
    ("judge", "giamkhao1@giaibao.vn", "Trần Văn Đức", None, "Hội Nhà báo tỉnh"),
    ("judge", "giamkhao2@giaibao.vn", "Lê Thị Ánh Tuyết", None, "Đài Phát thanh - Truyền hình"),
    ("judge", "giamkhao3@giaibao.vn", "Phạm Quốc Bảo", None, "Báo Ninh Thuận"),
    ("journalist", "phongvien1@giaibao.vn", "Đặng Minh Khoa", "Minh Khoa", "Báo Ninh Thuận"),
    ("journalist", "phongvien2@giaibao.vn", "Võ Thị Hồng Nhung", "Hồng Nhung",
     "Đài Phát thanh - Truyền hình Ninh Thuận"),
    ("journalist", "phongvien3@giaibao.vn", "Huỳnh Văn Lộc", "Lộc Huỳnh", "Báo Khánh Hòa"),
    ("journalist", "phongvien4@giaibao.vn", "Nguyễn Thị Mai Anh", None,
     "Đài Phát thanh và Truyền hình Khánh Hòa"),
]


def load_demo(*, only_if_empty: bool = False, session: Session | None = None) -> dict | None:
    """Creates the demo accounts and award; returns what was created, or None if skipped."""
    own = session is None
    session = session or Session(get_engine())
    try:
        if only_if_empty and session.exec(select(func.count()).select_from(User)).one() > 0:
            return None
        users = {}
        for role, email, name, pen_name, org in ACCOUNTS:
            users[email] = accounts.create_user(
                session,
                UserCreate(email=email, password=DEMO_PASSWORD, full_name=name, role=role,
                           pen_name=pen_name, organization=org),
                actor=None,
            )
        organizer = users["btc@giaibao.vn"]
        now = utcnow()
        award = awards.create_award(
            session,
            AwardCreate(
                title="Giải báo chí về công tác xây dựng Đảng, xây dựng hệ thống chính trị "
                      "tỉnh Ninh Thuận năm 2021",
                slug="xay-dung-dang-ninh-thuan-2021",
                year=2021,
                rules=RULES,
                submission_opens_at=now - timedelta(days=7),
                submission_closes_at=now + timedelta(days=60),
                published_from=date(2020, 11, 1),
                published_to=date(2021, 10, 31),
                max_entries_per_author=3,
                max_authors_per_entry=5,
                max_series_parts=5,
            ),
            actor=organizer,
        )
        for code, name, kinds, size, url_required in CATEGORIES:
            awards.add_category(
                session, award,
                CategoryCreate(code=code, name=name, accepted_kinds=kinds, max_file_mb=size,
                               url_required=url_required,
                               prize_quota={"A": 1, "B": 2, "C": 3, "KK": 4}),
                actor=organizer,
            )
        awards.change_status(session, award, "open", actor=organizer, now=now)
        _demo_entries(session, award, users, organizer, now)
        judging_award = _demo_judging(session, users, organizer, now)
        published_award = _demo_published(session, users, organizer, now)
        session.flush()
        if own:
            session.commit()
        return {
            "award": award.slug,
            "judging_award": judging_award.slug,
            "published_award": published_award.slug,
            "password": DEMO_PASSWORD,
            "accounts": [(role, email) for role, email, *_ in ACCOUNTS],
        }
    finally:
        if own:
            session.close()


DEMO_ENTRIES = [
    # (author, category, title, outlet, published, series parts, url, files, final state, reason)
    ("phongvien1@giaibao.vn", "BI", "Chi bộ vùng cao Phước Bình: giữ lửa niềm tin",
     "Báo Ninh Thuận", date(2021, 3, 2), None, None, ["pdf", "png"], "accepted", None),
    ("phongvien1@giaibao.vn", "BDT",
     "Loạt bài: Đảng viên trẻ và chuyển đổi số ở cơ sở", "Báo Ninh Thuận điện tử",
     date(2021, 6, 14), 3, "https://baoninhthuan.com.vn/vi/xay-dung-dang", ["pdf"], "returned",
     "Đề nghị bổ sung bản PDF đủ 3 kỳ của loạt bài."),
    ("phongvien1@giaibao.vn", "PT", "Tiếng nói người bí thư thôn",
     "Đài Phát thanh - Truyền hình Ninh Thuận", date(2021, 8, 20), None, None, ["wav"], "draft",
     None),
    ("phongvien2@giaibao.vn", "PT", "Dân vận khéo ở làng biển Mỹ Tân",
     "Đài Phát thanh - Truyền hình Ninh Thuận", date(2021, 5, 9), None, None, ["wav", "pdf"],
     "submitted", None),
    ("phongvien2@giaibao.vn", "ABC", "Những bàn tay giữ rừng",
     "Báo Ninh Thuận", date(2021, 9, 1), None, None, ["png"], "submitted", None),
]


def _demo_entries(session: Session, award: Award, users: dict, organizer: User, now) -> None:
    """Journalists' entries in several states, each with small real files."""
    from app.entries import files as entry_files
    from app.entries import writes as entry_writes
    from app.entries.models import CoAuthorIn, EntryCreate
    from app.samples import pdf, png, wav
    from app.storage import get_storage

    makers = {"pdf": (pdf, "trang-bao.pdf"), "png": (png, "anh-minh-hoa.png"),
              "wav": (wav, "ban-tin.wav")}
    categories = {c.code: c for c in awards.list_categories(session, award)}
    for n, (email, code, title, outlet, published, parts, url, files, state, reason) in \
            enumerate(DEMO_ENTRIES, start=1):
        author = users[email]
        entry = entry_writes.create_entry(
            session, award,
            EntryCreate(category_id=categories[code].id, title=title, outlet=outlet,
                        summary=f"Tác phẩm minh họa số {n} của giải (dữ liệu mẫu).",
                        published_on=published, series_parts=parts, url=url,
                        co_authors=[CoAuthorIn(full_name="Nguyễn Văn Thành",
                                               pen_name="Thành Nguyễn")] if n == 2 else []),
            user=author, now=now)
        for kind in files:
            make, name = makers[kind]
            writer = get_storage().open_writer(max_bytes=10**8, accept=lambda s: True)
            variant = {"pdf": {"text": f"Tac pham {n}"}, "png": {"color": (40 * n, 90, 120)},
                       "wav": {"frequency": 220 * n}}[kind]
            writer.write(make(**variant))
            entry_files.attach_file(session, entry.id, writer.finish(), name, user=author, now=now)
        if state == "draft":
            continue
        entry_writes.submit_entry(session, entry, user=author, now=now)
        decision = {"accepted": "accept", "returned": "return"}.get(state)
        if decision:
            entry_writes.screen_entry(session, entry, decision=decision, reason=reason,
                                 actor=organizer, now=now)


def demo_award(session: Session, slug: str = "xay-dung-dang-ninh-thuan-2021") -> Award | None:
    return session.exec(select(Award).where(Award.slug == slug)).first()


JUDGING_AWARD_SLUG = "xay-dung-dang-khanh-hoa-2026"

JUDGING_RULES = """\
## I. Mục đích

Giải báo chí về xây dựng Đảng tỉnh Khánh Hòa năm 2026 tôn vinh những tác phẩm báo chí phản ánh
sinh động công tác xây dựng, chỉnh đốn Đảng và hệ thống chính trị ở cơ sở sau sắp xếp tổ chức
bộ máy, chính quyền địa phương hai cấp.

## II. Chấm giải

Hội đồng giám khảo chấm **kín** (không biết tên tác giả) hai vòng, sơ khảo và chung khảo,
theo thang điểm 100: nội dung tư tưởng 40, hình thức thể hiện 30, hiệu quả xã hội 30.
Giám khảo không chấm tác phẩm của chính mình hoặc của cơ quan mình công tác.
"""

JUDGING_RUBRIC = [
    ("Nội dung tư tưởng", "Tính chính xác, chiều sâu, giá trị thông tin và định hướng", 40),
    ("Hình thức thể hiện", "Bố cục, ngôn ngữ, hình ảnh, sự sáng tạo trong cách thể hiện", 30),
    ("Hiệu quả xã hội", "Sức lan tỏa, tác động đến nhận thức và hành động", 30),
]

JUDGING_ENTRIES = [
    # (author, category, title, outlet, published on, file kinds)
    ("phongvien1@giaibao.vn", "BI", "Bí thư chi bộ thôn sau sáp nhập: gần dân hơn, việc nhiều hơn",
     "Báo Khánh Hòa", date(2026, 3, 12), ["pdf", "png"]),
    ("phongvien2@giaibao.vn", "BI", "Đảng viên trẻ giữ nghề làm muối ở Cà Ná",
     "Tạp chí Tuyên giáo", date(2026, 4, 20), ["pdf"]),
    ("phongvien1@giaibao.vn", "BI", "Kỳ họp chi bộ không giấy tờ ở xã đảo Bích Đầm",
     "Báo Nhân Dân", date(2026, 6, 2), ["pdf"]),
    ("phongvien2@giaibao.vn", "BDT", "Chính quyền hai cấp: những ngày đầu ở xã mới Phước Hậu",
     "Báo điện tử Đảng Cộng sản Việt Nam", date(2026, 7, 8), ["pdf", "png"]),
    ("phongvien1@giaibao.vn", "BDT", "Chuyển đổi số trong sinh hoạt đảng ở vùng đồng bào Raglai",
     "VnExpress", date(2026, 8, 15), ["pdf"]),
    ("phongvien2@giaibao.vn", "BDT", "Dân vận khéo trên công trường cao tốc Vân Phong - Nha Trang",
     "Báo Thanh Niên", date(2026, 9, 1), ["png"]),
]


# Each entry's points (content /40, form /30, impact /30), as the first judge gives them;
# the others add a point of content and take one of impact.
JUDGING_POINTS = [(34, 25, 26), (31.5, 27, 24), (36, 24, 25), (30, 22, 21), (35, 26, 27),
                  (28, 21, 20)]


def _demo_judging(session: Session, users: dict, organizer: User, now) -> Award:
    """An award in judging with accepted entries in two categories and a blind preliminary
    round (the 40/30/30 rubric) in scoring: the three demo judges seated and assigned, two
    per entry; the second declared a conflict on one entry (moved to another judge); every
    score is final except the third judge's last one, so the organizer sees the missing
    score, and can close the round once it is given (or close it forced), shortlist, run
    the final round, allocate and publish. Built through the services, its dates in the
    recent past as if it had been run."""
    from app.entries import files as entry_files
    from app.entries import writes as entry_writes
    from app.entries.models import EntryCreate
    from app.judging import queries as judging_queries
    from app.judging import service as judging
    from app.judging.models import CriterionIn, PanelIn, RoundCreate, ScoreIn
    from app.samples import pdf, png
    from app.storage import get_storage

    def days(n: int):
        return now - timedelta(days=n)

    award = awards.create_award(
        session,
        AwardCreate(
            title="Giải báo chí về xây dựng Đảng tỉnh Khánh Hòa năm 2026",
            slug=JUDGING_AWARD_SLUG,
            year=2026,
            rules=JUDGING_RULES,
            submission_opens_at=days(45),
            submission_closes_at=days(6),
            published_from=date(2025, 11, 1),
            published_to=date(2026, 10, 31),
            max_entries_per_author=3,
            max_authors_per_entry=5,
            max_series_parts=5,
        ),
        actor=organizer,
    )
    categories = {}
    for code, name in (("BI", "Báo in"), ("BDT", "Báo điện tử")):
        categories[code] = awards.add_category(
            session, award,
            CategoryCreate(code=code, name=name, accepted_kinds=["pdf", "image"],
                           max_file_mb=50, url_required=False,
                           prize_quota={"A": 1, "B": 1, "C": 2, "KK": 2}),
            actor=organizer)
    awards.change_status(session, award, "open", actor=organizer, now=days(45))
    makers = {"pdf": (pdf, "trang-bao.pdf"), "png": (png, "anh-tac-pham.png")}
    entries = []
    for n, (email, code, title, outlet, published, kinds) in enumerate(JUDGING_ENTRIES, 1):
        author = users[email]
        entry = entry_writes.create_entry(
            session, award,
            EntryCreate(category_id=categories[code].id, title=title, outlet=outlet,
                        summary=f"Tác phẩm dự giải năm 2026 số {n} (dữ liệu mẫu).",
                        published_on=published),
            user=author, now=days(20))
        for kind in kinds:
            make, name = makers[kind]
            writer = get_storage().open_writer(max_bytes=10**8, accept=lambda s: True)
            writer.write(make(**{"pdf": {"text": f"Tac pham 2026 so {n}"},
                                 "png": {"color": (120, 30 * n, 60)}}[kind]))
            entry_files.attach_file(session, entry.id, writer.finish(), name, user=author,
                                    now=days(20))
        entry_writes.submit_entry(session, entry, user=author, now=days(19))
        entry_writes.screen_entry(session, entry, decision="accept", reason=None,
                                  actor=organizer, now=days(8))
        entries.append(entry)
    awards.change_status(session, award, "closed", actor=organizer, now=days(6))
    awards.change_status(session, award, "judging", actor=organizer, now=days(5))
    round_ = judging.create_round(session, award, RoundCreate(
        name="Vòng sơ khảo", judges_per_entry=2, blind=True, aggregation="mean",
        criteria=[CriterionIn(name=name, description=description, max_points=points)
                  for name, description, points in JUDGING_RUBRIC]),
        actor=organizer, now=days(5))
    judges = [users[f"giamkhao{i}@giaibao.vn"] for i in (1, 2, 3)]
    for judge in judges:
        judging.set_panel(session, round_, PanelIn(
            judge_id=judge.id, category_ids=[c.id for c in categories.values()]),
            actor=organizer, now=days(5))
    judging.assign_round(session, round_, actor=organizer, now=days(4))
    judging.move_round(session, round_, "start", actor=organizer, now=days(4))
    criteria = [str(c.id) for c in judging_queries.criteria_of(session, round_.id)]

    def queue(judge):
        return [a.entry_id for a in judging_queries.judge_queue(session, round_, judge)]

    first, second, third = judges
    mine = queue(second)
    judging.declare_conflict(
        session, round_.id, mine[-1], judge=second, now=days(3),
        reason="Tôi là người biên tập trực tiếp tác phẩm này trước khi đăng.")
    quality = {e.id: JUDGING_POINTS[n] for n, e in enumerate(entries)}
    for j, judge in enumerate(judges):
        todo = queue(judge)
        if judge is third:
            todo = todo[:-1]  # the one score missing: the organizer sees it before closing
        for k, entry_id in enumerate(todo):
            content, form, impact = quality[entry_id]
            judging.save_score(session, round_.id, entry_id, ScoreIn(
                points={criteria[0]: min(40, content + j), criteria[1]: form,
                        criteria[2]: max(0, impact - j)},
                comment="Đề tài thời sự, khai thác sâu." if k == 0 else "", final=True),
                judge=judge, now=days(2))
    return award


PUBLISHED_AWARD_SLUG = "bao-chi-khanh-hoa-2025"
PAST_AWARD_ANCHOR = datetime(2026, 4, 10, 3, 0, tzinfo=UTC)

PUBLISHED_RULES = """\
## I. Mục đích

Giải báo chí tỉnh Khánh Hòa năm 2025 tôn vinh các tác phẩm báo chí viết về công tác xây dựng
Đảng, xây dựng hệ thống chính trị và đời sống ở cơ sở trên địa bàn tỉnh.

## II. Chấm giải

Hội đồng giám khảo chấm hai vòng: **sơ khảo** (chấm kín, hai giám khảo mỗi tác phẩm) chọn
ba tác phẩm mỗi thể loại vào **chung khảo** (ba giám khảo mỗi tác phẩm). Mỗi thể loại có
01 giải A, 01 giải B, 01 giải C và 01 giải khuyến khích.
"""

PUBLISHED_ENTRIES = [
    # (author, category, title, outlet, published on, co-authors, points (content, form,
    #  impact) in the preliminary round, then in the final round or None)
    ("phongvien1@giaibao.vn", "BI", "Những người giữ lửa ở chi bộ làng chài Ninh Hải",
     "Báo Khánh Hòa", date(2025, 3, 18), [("Trần Quang Vinh", "Quang Vinh")],
     (35, 26, 26), (36, 27, 27)),
    ("phongvien2@giaibao.vn", "BI", "Bí thư xã vùng cao và con đường về bản Tà Lọt",
     "Báo Thanh Niên", date(2025, 5, 6), [], (33, 25, 24), (34, 26, 25)),
    ("phongvien3@giaibao.vn", "BI", "Sinh hoạt chi bộ: nói thật, làm thật",
     "Báo Khánh Hòa", date(2025, 6, 30), [], (31, 24, 23), (30, 24, 22)),
    ("phongvien4@giaibao.vn", "BI", "Đảng viên trẻ trên công trường điện gió",
     "Tạp chí Xây dựng Đảng", date(2025, 8, 12), [], (27, 20, 19), None),
    ("phongvien2@giaibao.vn", "BDT", "Loạt bài: Tinh gọn bộ máy, dân được gì?",
     "Báo điện tử Dân Việt", date(2025, 4, 2), [("Lê Hoàng Nam", None)],
     (36, 27, 27), (37, 27, 28)),
    ("phongvien1@giaibao.vn", "BDT", "Chuyển đổi số trong công tác kiểm tra, giám sát đảng",
     "VnExpress", date(2025, 7, 21), [], (32, 26, 24), (33, 25, 24)),
    ("phongvien4@giaibao.vn", "BDT", "Người cao tuổi làm dân vận ở khu phố biển",
     "Báo điện tử Đảng Cộng sản Việt Nam", date(2025, 9, 9), [], (30, 23, 24), (31, 22, 23)),
    ("phongvien3@giaibao.vn", "BDT", "Cán bộ cơ sở sau sáp nhập xã: áp lực và niềm tin",
     "Báo Tuổi Trẻ", date(2025, 10, 1), [], (26, 21, 20), None),
]


def _demo_published(session: Session, users: dict, organizer: User, now) -> Award:
    """A past award run to the end through the services: eight accepted entries in two
    categories, a blind preliminary round (two judges each), the top three of each category
    shortlisted for the final round (three judges each), prizes allocated from the final
    ranking, one decision overridden with its reason, and the results published (the
    certificates issued, the authors' mails queued)."""
    from app.entries import files as entry_files
    from app.entries import writes as entry_writes
    from app.entries.models import CoAuthorIn, EntryCreate
    from app.judging import queries as judging_queries
    from app.judging import service as judging
    from app.judging.models import CriterionIn, PanelIn, RoundCreate, ScoreIn
    from app.results import service as results
    from app.results.models import AllocateIn, PrizeIn, ShortlistIn
    from app.samples import pdf
    from app.storage import get_storage

    # A 2025 award keeps 2025's calendar: entries sent in October 2025, judged in the winter,
    # results published in February 2026 (whatever today is, from then on).
    now = min(now, PAST_AWARD_ANCHOR)

    def days(n: int):
        return now - timedelta(days=n)

    award = awards.create_award(session, AwardCreate(
        title="Giải báo chí tỉnh Khánh Hòa năm 2025", slug=PUBLISHED_AWARD_SLUG, year=2025,
        rules=PUBLISHED_RULES, submission_opens_at=days(200), submission_closes_at=days(150),
        published_from=date(2024, 11, 1), published_to=date(2025, 10, 31),
        max_entries_per_author=3, max_authors_per_entry=5, max_series_parts=5),
        actor=organizer)
    categories = {code: awards.add_category(session, award, CategoryCreate(
        code=code, name=name, accepted_kinds=["pdf", "image"], max_file_mb=50,
        url_required=False, prize_quota={"A": 1, "B": 1, "C": 1, "KK": 1}), actor=organizer)
        for code, name in (("BI", "Báo in"), ("BDT", "Báo điện tử"))}
    awards.change_status(session, award, "open", actor=organizer, now=days(200))
    points = [{}, {}]
    for n, (email, code, title, outlet, published, co_authors, first, final) in \
            enumerate(PUBLISHED_ENTRIES, 1):
        author = users[email]
        entry = entry_writes.create_entry(session, award, EntryCreate(
            category_id=categories[code].id, title=title, outlet=outlet,
            summary=f"Tác phẩm dự giải năm 2025 số {n} (dữ liệu mẫu).", published_on=published,
            co_authors=[CoAuthorIn(full_name=name, pen_name=pen) for name, pen in co_authors]),
            user=author, now=days(180))
        writer = get_storage().open_writer(max_bytes=10**8, accept=lambda s: True)
        writer.write(pdf(text=f"Tac pham 2025 so {n}"))
        entry_files.attach_file(session, entry.id, writer.finish(), "tac-pham.pdf", user=author,
                                now=days(180))
        entry_writes.submit_entry(session, entry, user=author, now=days(170))
        entry_writes.screen_entry(session, entry, decision="accept", reason=None,
                                  actor=organizer, now=days(145))
        points[0][entry.id] = first
        if final is not None:
            points[1][entry.id] = final
    awards.change_status(session, award, "closed", actor=organizer, now=days(150))
    awards.change_status(session, award, "judging", actor=organizer, now=days(140))
    judges = [users[f"giamkhao{i}@giaibao.vn"] for i in (1, 2, 3)]
    source = None
    for r, (name, per_entry, blind) in enumerate((("Vòng sơ khảo", 2, True),
                                                  ("Vòng chung khảo", 3, False))):
        start = days(135 - 40 * r)
        round_ = judging.create_round(session, award, RoundCreate(
            name=name, judges_per_entry=per_entry, blind=blind, aggregation="mean",
            source_round_id=source.id if source else None,
            criteria=[CriterionIn(name=c, description=d, max_points=p)
                      for c, d, p in JUDGING_RUBRIC]), actor=organizer, now=start)
        for judge in judges:
            judging.set_panel(session, round_, PanelIn(
                judge_id=judge.id, category_ids=[c.id for c in categories.values()]),
                actor=organizer, now=start)
        judging.assign_round(session, round_, actor=organizer, now=start)
        judging.move_round(session, round_, "start", actor=organizer, now=start)
        criteria = [str(c.id) for c in judging_queries.criteria_of(session, round_.id)]
        for j, judge in enumerate(judges):
            for a in judging_queries.judge_queue(session, round_, judge):
                content, form, impact = points[r][a.entry_id]
                judging.save_score(session, round_.id, a.entry_id, ScoreIn(
                    points={criteria[0]: min(40, content + (j - 1)), criteria[1]: form,
                            criteria[2]: impact}, final=True), judge=judge,
                    now=start + timedelta(days=10))
        judging.move_round(session, round_, "close", actor=organizer,
                           now=start + timedelta(days=20))
        if source is None:
            results.shortlist(session, round_, ShortlistIn(top_n=3), actor=organizer,
                              now=start + timedelta(days=21))
        source = round_
    results.allocate(session, award, AllocateIn(round_id=source.id), actor=organizer,
                     now=days(60))
    overridden = next(e for e in award_entries(session, award)
                      if e.title == "Người cao tuổi làm dân vận ở khu phố biển")
    results.set_prize(session, overridden, PrizeIn(
        level="KK", reason="Hội đồng chung khảo thống nhất: tác phẩm có chi tiết chưa được "
                           "kiểm chứng, hạ từ giải C xuống giải khuyến khích."),
        actor=organizer, now=days(59))
    awards.change_status(session, award, "published", actor=organizer, now=days(55))
    return award


def award_entries(session: Session, award: Award) -> list:
    from app.entries.models import Entry

    return list(session.exec(select(Entry).where(Entry.award_id == award.id)
                             .order_by(Entry.id)).all())
