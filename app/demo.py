"""The demo: the provincial press award on Party building, Ninh Thuận, 2021.

Modelled on the real award's shape (categories, limits, quotas); the rules text is our own.
The submission window is placed around today so that the demo can be used at once.
"""

from datetime import date, timedelta

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
        session.flush()
        if own:
            session.commit()
        return {
            "award": award.slug,
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
                        summary=f"Tác phẩm minh hoạ số {n} của giải (dữ liệu mẫu).",
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


def demo_award(session: Session) -> Award | None:
    return session.exec(select(Award).where(Award.slug == "xay-dung-dang-ninh-thuan-2021")).first()
