from datetime import UTC, datetime, timedelta

import pytest

from app.accounts import rules
from app.accounts.rules import Failures, ThrottleLimits, ThrottleScope
from app.errors import Invalid

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)
WINDOW = timedelta(minutes=15)
LIMITS = ThrottleLimits(window=WINDOW, per_pair=5, account_free=5, per_address=30)


# Passwords


def _refusal(password: str, **who) -> tuple[str, str, dict]:
    with pytest.raises(Invalid) as err:
        rules.check_password(password, **who)
    return err.value.field, err.value.message, err.value.params


@pytest.mark.parametrize("password", ["giaibao2021", "mat-khau-an-toan", "0123456789",
                                      "x" * 256])
def test_passwords_of_ten_to_256_characters_pass(password):
    assert rules.check_password(password, email="phongvien1@giaibao.vn",
                                full_name="Nguyễn Văn An") is None


def test_short_password_is_refused_with_the_minimum():
    assert _refusal("mat-khau9") == (
        "password", "The password must have at least {n} characters.", {"n": 10})


def test_long_password_is_refused_with_the_maximum():
    assert _refusal("x" * 257) == (
        "password", "The password must have at most {n} characters.", {"n": 256})


@pytest.mark.parametrize("password", ["qwertyuiop", "1234567890", "Password123",
                                      "QWERTYUIOP", "ｑｗｅｒｔｙｕｉｏｐ"])
def test_common_passwords_are_refused_whatever_their_case_or_width(password):
    assert _refusal(password)[:2] == (
        "password", "This password is one of the most commonly used; please choose another.")


def test_the_shipped_list_holds_at_least_ten_thousand_lower_case_passwords():
    common = rules.common_passwords()
    assert len(common) >= 10_000
    assert all(p == p.lower() for p in common)
    assert "123456" in common and "" not in common


@pytest.mark.parametrize("password", ["phongvien1-2026", "XXPHONGVIEN1xx", "phong vien1 !!"])
def test_password_containing_the_email_local_part_is_refused(password):
    assert _refusal(password, email="phongvien1@giaibao.vn")[:2] == (
        "password", "The password must not contain your e-mail address.")


def test_a_local_part_under_three_letters_may_appear():
    assert rules.check_password("ab-ab-ab-ab-1", email="ab@giaibao.vn") is None


@pytest.mark.parametrize("password", ["NguyenVanAn1!", "nguyễn văn an", "xx-nguyen-2026",
                                      "ĐặngĐặng99", "khoa-dang-1990"])
def test_password_containing_the_name_is_refused(password):
    name = "Đặng Minh Khoa" if "ng99" in password or "khoa" in password else "Nguyễn Văn An"
    assert _refusal(password, full_name=name)[:2] == (
        "password", "The password must not contain your name.")


def test_name_words_under_four_letters_may_appear():
    assert rules.check_password("van-an-thi-2026", full_name="Nguyễn Văn An") is None


def test_the_field_can_be_named():
    assert _refusal("ngan", field="new_password")[0] == "new_password"


# E-mails


def test_email_is_normalised_to_lower_case():
    assert rules.normalize_email("  Phong.Vien@Example.VN ") == "phong.vien@example.vn"


@pytest.mark.parametrize("email", [
    "phongvien1@giaibao.vn",
    "PhongVien1@GiaiBao.VN",
    "ｐｈｏｎｇｖｉｅｎ１＠ｇｉａｉｂａｏ．ｖｎ",
    "ＰＨＯＮＧＶＩＥＮ１@giaibao.vn",
    "\tphongvien1@GIAIBAO.vn ",
])
def test_look_alike_forms_of_an_address_are_one_address(email):
    assert rules.normalize_email(email) == "phongvien1@giaibao.vn"


def test_ligatures_and_sharp_s_fold():
    assert rules.normalize_email("ﬁle@x.vn") == rules.normalize_email("FILE@x.vn") == "file@x.vn"
    assert rules.normalize_email("Straße@x.vn") == "strasse@x.vn"


def test_international_domains_have_one_form():
    assert rules.normalize_email("user@xn--bcher-kva.example") == "user@bücher.example"
    assert rules.normalize_email("user@BÜCHER.example") == "user@bücher.example"


def test_international_local_parts_are_nfc_and_folded():
    decomposed = "Nguye\u0302\u0303n@giaibao.vn"
    assert rules.normalize_email(decomposed) == "nguyễn@giaibao.vn"


@pytest.mark.parametrize("email", ["phongvien1@giaibao.vn", "ｐｈｏｎｇ@ｇｉａｉｂａｏ．ｖｎ",
                                   "ﬁ@x.vn", "Nguyễn@BÜCHER.example", "Straße@x.vn"])
def test_the_canonical_form_is_stable(email):
    once = rules.normalize_email(email)
    assert rules.normalize_email(once) == once


@pytest.mark.parametrize("email", ["", "no-at-sign", "a@", "@b.vn", "a b@c.vn"])
def test_bad_emails_are_refused(email):
    with pytest.raises(Invalid) as err:
        rules.normalize_email(email)
    assert err.value.field == "email"


def test_login_key_is_the_canonical_address_or_the_folded_input():
    assert rules.login_key("ＰhongVien1@GiaiBao.VN") == "phongvien1@giaibao.vn"
    assert rules.login_key(" Not An Address ") == "not an address"


def test_unknown_role_is_refused():
    assert rules.check_role("judge") == rules.Role.judge
    with pytest.raises(Invalid):
        rules.check_role("admin")


# Login throttling


def _wait(scope, count, *, first_ago, last_ago):
    failures = Failures(count=count, first_at=NOW - first_ago, last_at=NOW - last_ago)
    return rules.throttle_wait(scope, failures, limits=LIMITS, now=NOW)


def test_nothing_counted_means_no_wait():
    for scope in ThrottleScope:
        assert rules.throttle_wait(scope, Failures(), limits=LIMITS, now=NOW) == 0


def test_pair_waits_until_the_window_of_its_first_failure_ends():
    minute = timedelta(minutes=1)
    assert _wait(ThrottleScope.pair, 4, first_ago=minute, last_ago=minute) == 0
    assert _wait(ThrottleScope.pair, 5, first_ago=minute * 3, last_ago=minute) == 12 * 60
    assert _wait(ThrottleScope.pair, 5, first_ago=WINDOW, last_ago=minute) == 0


def test_address_limit_is_thirty():
    second = timedelta(seconds=1)
    assert _wait(ThrottleScope.address, 29, first_ago=second, last_ago=second) == 0
    assert _wait(ThrottleScope.address, 30, first_ago=second, last_ago=second) == 899


@pytest.mark.parametrize(("count", "delay"), [(0, 0), (4, 0), (5, 2), (6, 4), (7, 8), (10, 64),
                                               (13, 512), (14, 900), (40, 900)])
def test_account_delays_double_after_the_free_failures_up_to_the_window(count, delay):
    assert rules.backoff_delay(count, free=5, window=WINDOW) == timedelta(seconds=delay)


def test_account_waits_from_its_last_failure():
    assert _wait(ThrottleScope.account, 7, first_ago=WINDOW / 2, last_ago=timedelta(seconds=3)) == 5
    assert _wait(ThrottleScope.account, 7, first_ago=WINDOW / 2, last_ago=timedelta(seconds=8)) == 0


def test_account_forgets_after_a_quiet_window_not_a_window_since_the_first():
    stale = Failures(count=14, first_at=NOW - 2 * WINDOW, last_at=NOW - WINDOW)
    assert rules.current(stale, scope=ThrottleScope.account, now=NOW, window=WINDOW) == Failures()
    busy = Failures(count=14, first_at=NOW - 2 * WINDOW, last_at=NOW - timedelta(minutes=1))
    assert rules.current(busy, scope=ThrottleScope.account, now=NOW, window=WINDOW) == busy
    assert rules.current(busy, scope=ThrottleScope.pair, now=NOW, window=WINDOW) == Failures()


def test_a_failure_starts_or_extends_the_count():
    first = rules.after_failure(Failures(), now=NOW)
    assert first == Failures(count=1, first_at=NOW, last_at=NOW)
    later = NOW + timedelta(seconds=5)
    assert rules.after_failure(first, now=later) == Failures(count=2, first_at=NOW, last_at=later)


def test_throttle_keys_skip_the_account_from_a_known_address():
    assert rules.throttle_keys("a@x.vn", "10.0.0.1", known=False) == [
        (ThrottleScope.account, "a@x.vn"), (ThrottleScope.address, "10.0.0.1"),
        (ThrottleScope.pair, "10.0.0.1 a@x.vn")]
    assert rules.throttle_keys("a@x.vn", "10.0.0.1", known=True) == [
        (ThrottleScope.address, "10.0.0.1"), (ThrottleScope.pair, "10.0.0.1 a@x.vn")]


def test_a_known_browser_is_counted_on_its_own():
    from app.accounts.rules import ThrottleScope, throttle_keys

    assert throttle_keys("a@x.vn", "10.0.0.1", known=False, device="d1") == [
        (ThrottleScope.device, "d1 a@x.vn")]
    assert [s for s, _ in throttle_keys("a@x.vn", "10.0.0.1", known=True)] == [
        ThrottleScope.address, ThrottleScope.pair]


def test_a_device_token_belongs_to_one_account():
    from app.security import device_of, device_token

    token = device_token("a@x.vn")
    device = token.split(".")[0]
    assert device_of(token, "a@x.vn") == device
    assert device_of(token, "b@x.vn") is None
    assert device_of(device + ".0" * 32, "a@x.vn") is None
    assert device_of("khong-hop-le", "a@x.vn") is None
    assert device_of(None, "a@x.vn") is None


def test_no_delay_is_no_wait_even_for_an_attempt_read_a_moment_earlier():
    from datetime import UTC, datetime, timedelta

    from app.accounts.rules import Failures, backoff_wait

    last = datetime(2026, 11, 1, 9, tzinfo=UTC)
    earlier = last - timedelta(milliseconds=5)
    window = timedelta(minutes=15)
    assert backoff_wait(Failures(4, last, last), free=5, now=earlier, window=window) == 0
    assert backoff_wait(Failures(5, last, last), free=5, now=earlier, window=window) == 3
