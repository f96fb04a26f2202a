from datetime import datetime, timezone

from app import i18n, zones


def _in(lang, fn):
    token = i18n.current_language.set(lang)
    try:
        return fn()
    finally:
        i18n.current_language.reset(token)


def test_vietnam_reads_as_people_say_it():
    assert _in("vi", lambda: zones.label("Asia/Ho_Chi_Minh")) == "giờ Việt Nam (GMT+7)"
    assert _in("en", lambda: zones.label("Asia/Ho_Chi_Minh")) == "Vietnam time (GMT+7)"
    assert _in("vi", lambda: zones.label("Asia/Saigon")) == "giờ Việt Nam (GMT+7)"
    assert _in("vi", lambda: zones.label(None)) == "giờ Việt Nam (GMT+7)"


def test_offsets_follow_summer_time_and_half_hours():
    winter = datetime(2026, 1, 15, tzinfo=timezone.utc)
    summer = datetime(2026, 7, 15, tzinfo=timezone.utc)
    assert zones.offset_text("Europe/Paris", winter) == "GMT+1"
    assert zones.offset_text("Europe/Paris", summer) == "GMT+2"
    assert zones.offset_text("America/New_York", winter) == "GMT-5"
    assert zones.offset_text("Asia/Kolkata", winter) == "GMT+5:30"
    assert zones.offset_text("UTC", winter) == "GMT"
    assert _in("en", lambda: zones.label("Asia/Kolkata", winter)) == "Kolkata (GMT+5:30)"


def test_choices_keep_an_unlisted_current_zone():
    names = [name for name, _label in zones.choices()]
    assert names[0] == "Asia/Ho_Chi_Minh"
    assert "Asia/Kolkata" not in names
    assert [n for n, _l in zones.choices("Asia/Kolkata")][-1] == "Asia/Kolkata"
    assert len(zones.choices("Asia/Tokyo")) == len(zones.CHOICES)


def test_a_refused_zone_typed_into_a_form_is_not_offered():
    for junk in ("Mars/Olympus", "../../etc/passwd", "/etc/localtime", "Asia/Ho_Chi_Minh\x00",
                 "x" * 500, ""):
        assert len(zones.choices(junk)) == len(zones.CHOICES), repr(junk)
