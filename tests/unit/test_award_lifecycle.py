"""The award's public phase, its moves' names, reopening, the slug, dates typed dd/mm/yyyy."""

from datetime import UTC, date, datetime, time, timedelta

import pytest

from app import i18n
from app.awards import rules
from app.awards.rules import Phase
from app.errors import Invalid
from app.text import parse_clock, parse_day, parse_local_datetime
from app.web import _megabytes

NOW = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
OPENS = NOW + timedelta(days=2)
CLOSES = NOW + timedelta(days=30)


@pytest.mark.parametrize(("status", "opens", "closes", "expected"), [
    ("open", OPENS, CLOSES, Phase.upcoming),
    ("open", NOW, CLOSES, Phase.open),  # the opening minute itself is open
    ("open", NOW - timedelta(days=1), NOW, Phase.ended),  # the closing minute is past
    ("open", NOW - timedelta(days=9), NOW - timedelta(days=1), Phase.ended),
    ("open", None, None, Phase.open),
    ("draft", OPENS, CLOSES, Phase.draft),
    ("closed", OPENS, CLOSES, Phase.closed),
    ("judging", None, None, Phase.judging),
    ("published", None, None, Phase.published),
])
def test_phase_reads_the_status_against_the_window(status, opens, closes, expected):
    assert rules.phase(status, opens, closes, NOW) == expected


def test_every_phase_has_a_label():
    assert set(rules.PHASE_LABELS) == set(Phase)


def test_moves_are_named_by_what_they_do_and_the_irreversible_come_last():
    assert rules.award_actions("closed") == [
        {"target": "open", "label": "Reopen submissions", "danger": False, "reopen": True},
        {"target": "judging", "label": "Start judging", "danger": True, "reopen": False},
    ]
    assert rules.award_actions("draft") == [
        {"target": "open", "label": "Open submissions", "danger": False, "reopen": False}]
    assert [a["label"] for a in rules.award_actions("open")] == ["Close submissions"]
    assert [a["label"] for a in rules.award_actions("judging")] == ["Publish the results"]
    assert rules.award_actions("published") == []


def test_reopening_needs_a_closing_time_ahead():
    rules.check_reopen(NOW + timedelta(minutes=1), NOW)
    for closes in (None, NOW, NOW - timedelta(days=1)):
        with pytest.raises(Invalid) as err:
            rules.check_reopen(closes, NOW)
        assert err.value.field == "submission_closes_at"
    assert (rules.is_reopening("closed", "open"), rules.is_reopening("draft", "open")) == (
        True, False)


@pytest.mark.parametrize(("title", "year", "slug"), [
    ("Giải báo chí tỉnh X năm 2026", 2026, "giai-bao-chi-tinh-x-nam-2026"),
    ("Giải báo chí tỉnh Ninh Thuận", 2026, "giai-bao-chi-tinh-ninh-thuan-2026"),
    ("Giải báo chí 2025", 2026, "giai-bao-chi-2025-2026"),
    ("Giải Búa liềm vàng lần thứ 20026", 2026, "giai-bua-liem-vang-lan-thu-20026-2026"),
    ("", 2026, "2026"),
])
def test_award_slug_has_the_year_once(title, year, slug):
    assert rules.award_slug(title, year) == slug


def test_a_long_title_is_cut_at_a_word_and_keeps_the_year():
    title = "Giải báo chí " + "tuyên truyền " * 20
    assert rules.award_slug(title, 2026, limit=23) == "giai-bao-chi-tuyen-2026"
    slug = rules.award_slug(title, 2026)
    assert (len(slug), slug[-17:], rules.check_slug(slug)) == (114, "truyen-tuyen-2026", slug)


@pytest.mark.parametrize("text", ["01/11/2026", "1/11/2026", "01-11-2026", "01.11.2026",
                                  "01112026", " 01/11/2026 ", "2026-11-01"])
def test_dates_are_read_as_vietnamese_write_them_and_as_iso(text):
    assert parse_day(text, field="d") == date(2026, 11, 1)


def test_an_empty_date_is_none():
    assert (parse_day("", field="d"), parse_day(None, field="d")) == (None, None)


@pytest.mark.parametrize(("text", "message"), [
    ("11/2026", "The date must be written as dd/mm/yyyy."),
    ("2026/11/01", "The date must be written as dd/mm/yyyy."),
    ("mồng một", "The date must be written as dd/mm/yyyy."),
    ("31/02/2026", "There is no such day: {value}."),
    ("01/13/2026", "There is no such day: {value}."),
])
def test_a_bad_date_says_how_to_write_it(text, message):
    with pytest.raises(Invalid) as err:
        parse_day(text, field="published_from")
    assert (err.value.message, err.value.field) == (message, "published_from")


def test_the_date_error_reads_in_vietnamese():
    token = i18n.current_language.set("vi")
    try:
        with pytest.raises(Invalid) as err:
            parse_day("2026/11/01", field="d")
        assert err.value.translated(i18n.gettext) == "Ngày phải có dạng dd/mm/yyyy."
    finally:
        i18n.current_language.reset(token)


@pytest.mark.parametrize(("text", "expected"), [
    ("17:00", time(17, 0)), ("8:30", time(8, 30)), ("8h30", time(8, 30)), ("17h", time(17, 0)),
    ("1700", time(17, 0)), ("00:00", time(0, 0)), ("23:59", time(23, 59)), ("", None),
])
def test_times_are_read_on_the_24_hour_clock(text, expected):
    assert parse_clock(text, field="t") == expected


@pytest.mark.parametrize("text", ["24:00", "8:60", "5 PM", "17:0"])
def test_a_bad_time_is_refused(text):
    with pytest.raises(Invalid) as err:
        parse_clock(text, field="t")
    assert err.value.message == ("The time must be written as HH:MM on the 24-hour clock, "
                                 "e.g. 17:00.")


def test_a_date_and_a_time_read_together():
    read = parse_local_datetime
    assert read("31/12/2026", "17:00", field="c", default_clock=time(23, 59)) == datetime(
        2026, 12, 31, 17, 0)
    assert read("31/12/2026", "", field="c", default_clock=time(23, 59)) == datetime(
        2026, 12, 31, 23, 59)
    assert read("2026-12-31T17:00", None, field="c", default_clock=time(0, 0)) == datetime(
        2026, 12, 31, 17, 0)
    assert read("", "", field="c", default_clock=time(0, 0)) is None
    with pytest.raises(Invalid) as err:
        read("", "17:00", field="c", default_clock=time(0, 0))
    assert (err.value.message, err.value.field) == (
        "Please enter the date as well (dd/mm/yyyy).", "c")
    with pytest.raises(Invalid) as err:
        read("31/12/2026", "25:00", field="c", default_clock=time(0, 0))
    assert err.value.field == "c_time"


@pytest.mark.parametrize(("mb", "vi", "en"), [
    (50, "50 MB", "50 MB"), (1023, "1023 MB", "1023 MB"), (1024, "1 GB", "1 GB"),
    (1536, "1,5 GB", "1.5 GB"), (4096, "4 GB", "4 GB"),
])
def test_size_limits_past_1024_mb_read_in_gb(mb, vi, en):
    shown = {}
    for lang in ("vi", "en"):
        token = i18n.current_language.set(lang)
        try:
            shown[lang] = _megabytes(mb)
        finally:
            i18n.current_language.reset(token)
    assert (shown["vi"], shown["en"]) == (vi, en)


def test_dates_and_times_take_ascii_digits_only():
    import pytest

    from app.errors import Invalid
    from app.text import parse_clock, parse_day

    for odd in ("٠١/٠٣/٢٠٢٧", "０１/０３/２０２７"):
        with pytest.raises(Invalid):
            parse_day(odd, field="d")
    with pytest.raises(Invalid):
        parse_clock("１０:００", field="t")
