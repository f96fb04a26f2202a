"""The audit log's words: lists as added/removed, booleans, labels, local dates, and nothing
for what did not change."""

from app.audit.present import Change, describe_change, describe_changes
from app.i18n import current_language, gettext


def _vi(action, changes, **kw):
    token = current_language.set("vi")
    try:
        return describe_changes(action, changes, gettext=gettext, **kw)
    finally:
        current_language.reset(token)


def test_a_lists_change_names_what_was_added_and_removed():
    assert _vi("category.update", {"accepted_kinds": [["pdf"], ["pdf", "video"]]}) == [
        Change("Loại tệp được nhận", "thêm: Video (MP4, MOV)")]
    assert _vi("entry.update", {"authors": [["Nguyễn Văn A", "Trần Thị B"],
                                            ["Nguyễn Văn A", "Lê Văn C"]]}) == [
        Change("Tác giả", "thêm: Lê Văn C · bỏ: Trần Thị B")]


def test_a_list_set_at_creation_reads_as_a_list_not_as_a_change():
    assert _vi("category.create", {"accepted_kinds": ["pdf", "video"]}) == [
        Change("Loại tệp được nhận", "Tài liệu PDF; Video (MP4, MOV)")]
    # Older rows stored the authors after an edit, not a pair.
    assert _vi("entry.update", {"authors": ["Nguyễn Văn A", "Trần Thị B"]}) == [
        Change("Tác giả", "Nguyễn Văn A; Trần Thị B")]


def test_unchanged_fields_and_lists_show_nothing():
    assert _vi("entry.update", {"title": ["Làng chài", "Làng chài"],
                                "authors": [["Nguyễn Văn A"], ["Nguyễn Văn A"]]}) == []
    assert describe_change("award.update", "year", [2026, 2026], gettext=gettext) is None


def test_a_reordered_list_says_so():
    assert _vi("entry.update", {"authors": [["A", "B"], ["B", "A"]]}) == [
        Change("Tác giả", "thứ tự mới: B; A")]


def test_booleans_statuses_and_dates_read_as_people_say_them():
    assert _vi("round.create", {"blind": True}) == [Change("Chấm kín (ẩn danh tác giả)", "Có")]
    assert _vi("entry.reject", {"status": ["submitted", "rejected"]},
               object_type="entry") == [Change("Trạng thái", "Đã gửi → Không tiếp nhận")]
    assert _vi("award.update", {"submission_closes_at": [
        "2026-11-30T10:00:00+00:00", "2026-12-05T16:59:00+00:00"]}) == [
        Change("Hạn nhận tác phẩm",
               "30/11/2026 17:00 giờ Việt Nam (GMT+7) → 05/12/2026 23:59 giờ Việt Nam (GMT+7)")]
    assert _vi("award.update", {"published_to": ["2026-10-31", None]}) == [
        Change("Tác phẩm đăng, phát đến ngày", "31/10/2026 → —")]


def test_a_rubric_change_names_the_criteria_added_and_removed():
    assert _vi("round.update", {"criteria": [[["Nội dung", 60], ["Hình thức", 40]],
                                             [["Nội dung", 60], ["Sáng tạo", 40]]]}) == [
        Change("Tiêu chí chấm", "thêm: Sáng tạo (40 điểm) · bỏ: Hình thức (40 điểm)")]
    assert _vi("round.create", {"criteria": [["Nội dung", 60], ["Hình thức", 40]]}) == [
        Change("Tiêu chí chấm", "Nội dung (60 điểm); Hình thức (40 điểm)")]


def test_scores_read_with_a_decimal_comma_in_vietnamese():
    assert _vi("score.save", {"total": [None, 77.5]}) == [Change("Tổng", "— → 77,5")]


def test_every_action_the_code_records_has_a_label():
    """A new audit action without a label would show its raw code in the log."""
    import re
    from pathlib import Path

    from app.audit.present import ACTION_LABELS
    from app.entries.rules import EntryAction
    from app.judging.rules import RoundAction

    root = Path(__file__).resolve().parents[2] / "app"
    recorded = set()
    for path in root.rglob("*.py"):
        recorded.update(re.findall(r'action="([a-z_]+\.[a-z_]+)"', path.read_text()))
    recorded |= {f"entry.{a.value}" for a in EntryAction}
    recorded |= {f"round.{a.value}" for a in RoundAction}
    assert "entry.delete" in recorded and "user.deactivate" in recorded
    assert sorted(recorded - set(ACTION_LABELS)) == []
