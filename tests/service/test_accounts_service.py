from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from app.accounts import service
from app.accounts.models import (
    KnownAddress,
    LoginThrottle,
    PasswordChange,
    UserCreate,
    UserRegister,
)
from app.audit.models import AuditEntry
from app.db import request_scope
from app.errors import Conflict, Invalid, NotAuthenticated, TooManyAttempts
from tests.factories import PASSWORD, make_user

NOW = datetime(2026, 11, 1, 9, tzinfo=UTC)


def _register(session, email="phongvien@example.vn", **over):
    data = dict(email=email, password="mat-khau-8", full_name="  Nguyễn   Văn An ")
    data.update(over)
    return service.register(session, UserRegister(**data), now=NOW)


def test_register_makes_a_journalist_with_an_argon2id_hash(session):
    user = _register(session, email="PhongVien@Example.vn")
    assert user.role == "journalist"
    assert user.email == "phongvien@example.vn"
    assert user.full_name == "Nguyễn Văn An"
    assert user.password_hash.startswith("$argon2id$")


def test_register_twice_with_the_same_email_is_a_conflict(session):
    _register(session)
    with pytest.raises(Conflict):
        _register(session, email="PHONGVIEN@example.vn")


def test_register_records_nfc_text(session):
    user = _register(session, email="nfd@example.vn", full_name="Nguye\u0302\u0303n", pen_name="Ha\u0300")
    assert user.full_name == "Nguyễn"
    assert user.pen_name == "Hà"


def test_organizer_creates_a_judge_and_it_is_audited(session):
    organizer = make_user(session, role="organizer")
    judge = service.create_user(
        session, UserCreate(email="gk@example.vn", password="mat-khau-8", full_name="Giám khảo",
                            role="judge"), actor=organizer)
    assert judge.role == "judge"
    entry = session.exec(select(AuditEntry).where(AuditEntry.action == "user.create")).one()
    assert (entry.actor_id, entry.object_id, entry.changes) == (organizer.id, judge.id,
                                                                {"role": "judge"})


def test_authenticate_accepts_the_right_password(session):
    user = make_user(session, email="a@example.vn")
    assert service.authenticate(session, email="A@example.vn", password=PASSWORD,
                                address="10.0.0.1", now=NOW).id == user.id


def test_wrong_password_and_unknown_email_get_the_same_answer(session):
    make_user(session, email="a@example.vn")
    messages = []
    for email in ("a@example.vn", "nobody@example.vn"):
        with pytest.raises(NotAuthenticated) as err:
            service.authenticate(session, email=email, password="wrong-pass", address="10.0.0.1",
                                 now=NOW)
        messages.append(err.value.message)
    assert messages == ["Wrong e-mail or password.", "Wrong e-mail or password."]


def _fail(session, email="a@example.vn", address="10.0.0.1", now=NOW, password="sai-mat-khau"):
    with pytest.raises(NotAuthenticated):
        service.authenticate(session, email=email, password=password, address=address, now=now)


def _throttled(session, email="a@example.vn", address="10.0.0.1", now=NOW, password=PASSWORD):
    with pytest.raises(TooManyAttempts) as err:
        service.authenticate(session, email=email, password=password, address=address, now=now)
    return err.value.message, err.value.params, err.value.headers


def test_one_address_is_refused_for_the_window_after_five_failures_on_one_account(session):
    make_user(session, email="a@example.vn")
    for i in range(5):
        _fail(session, now=NOW + timedelta(seconds=i))
    assert _throttled(session, now=NOW + timedelta(minutes=5)) == (
        "Too many failed sign-in attempts. Please wait {minutes} minutes and try again.",
        {"minutes": 10}, {"Retry-After": "600"})
    assert service.authenticate(session, email="a@example.vn", password=PASSWORD,
                                address="10.0.0.1", now=NOW + timedelta(minutes=15)).email \
        == "a@example.vn"


def test_failures_from_many_addresses_make_the_account_wait_longer_each_time(session):
    make_user(session, email="a@example.vn")
    for i in range(5):
        _fail(session, address=f"10.0.0.{i}")
    assert _throttled(session, address="10.9.9.9") == (
        "Too many failed sign-in attempts. Please wait {seconds} seconds and try again.",
        {"seconds": 2}, {"Retry-After": "2"})
    _fail(session, address="10.9.9.9", now=NOW + timedelta(seconds=2))
    assert _throttled(session, address="10.9.9.8", now=NOW + timedelta(seconds=5))[2] == \
        {"Retry-After": "1"}
    assert service.authenticate(session, email="a@example.vn", password=PASSWORD,
                                address="10.9.9.8", now=NOW + timedelta(seconds=6)).email \
        == "a@example.vn"


def test_the_owner_signs_in_from_a_known_address_while_a_stranger_is_refused(session):
    make_user(session, email="a@example.vn")
    service.authenticate(session, email="a@example.vn", password=PASSWORD, address="10.7.7.7",
                         now=NOW - timedelta(days=3))
    for i, seconds in enumerate([0, 0, 0, 0, 0, 2, 6, 14]):
        _fail(session, address=f"10.66.0.{i}", now=NOW + timedelta(seconds=seconds))
    later = NOW + timedelta(seconds=15)
    assert _throttled(session, address="10.66.1.1", now=later)[2] == {"Retry-After": "15"}
    assert service.authenticate(session, email="a@example.vn", password=PASSWORD,
                                address="10.7.7.7", now=later).email == "a@example.vn"


def test_a_known_address_still_has_its_own_limit(session):
    make_user(session, email="a@example.vn")
    service.authenticate(session, email="a@example.vn", password=PASSWORD, address="10.7.7.7",
                         now=NOW)
    for _ in range(5):
        _fail(session, address="10.7.7.7")
    assert _throttled(session, address="10.7.7.7")[2] == {"Retry-After": "900"}


def test_success_clears_the_pair_but_not_the_account(session):
    make_user(session, email="a@example.vn")
    for _ in range(4):
        _fail(session)
    service.authenticate(session, email="a@example.vn", password=PASSWORD, address="10.0.0.1",
                         now=NOW)
    for _ in range(4):
        _fail(session)
    rows = session.exec(select(LoginThrottle.scope, LoginThrottle.failures)
                        .order_by(LoginThrottle.scope)).all()
    assert rows == [("account", 4), ("address", 8), ("pair", 4)]


def test_an_unknown_email_is_counted_and_refused_like_a_real_one(session):
    make_user(session, email="a@example.vn")
    answers = []
    for email in ("a@example.vn", "nobody@example.vn"):
        for i in range(5):
            _fail(session, email=email, now=NOW + timedelta(seconds=i))
        answers.append(_throttled(session, email=email, now=NOW + timedelta(seconds=5)))
    assert answers[0] == answers[1]


def test_address_is_throttled_across_accounts(session):
    for i in range(30):
        _fail(session, email=f"u{i}@example.vn", address="10.1.1.1")
    make_user(session, email="ok@example.vn")
    assert _throttled(session, email="ok@example.vn", address="10.1.1.1")[2] == \
        {"Retry-After": "900"}


def test_known_addresses_are_bounded(session):
    user = make_user(session, email="a@example.vn")
    for i in range(12):
        service.authenticate(session, email="a@example.vn", password=PASSWORD,
                             address=f"10.3.3.{i}", now=NOW + timedelta(minutes=i))
    kept = session.exec(select(KnownAddress.address).where(KnownAddress.user_id == user.id)
                        .order_by(KnownAddress.address)).all()
    assert kept == sorted(f"10.3.3.{i}" for i in range(2, 12))


def test_look_alike_email_signs_in_to_the_same_account(session):
    user = make_user(session, email="phongvien1@giaibao.vn")
    for email in ("ｐｈｏｎｇｖｉｅｎ１＠ｇｉａｉｂａｏ．ｖｎ", "PhongVien1@GiaiBao.VN"):
        assert service.authenticate(session, email=email, password=PASSWORD, address="10.0.0.1",
                                    now=NOW).id == user.id


def test_sweep_deletes_idle_counters_only(session):
    _fail(session, email="old@example.vn", address="10.4.4.4", now=NOW - timedelta(minutes=20))
    _fail(session, email="new@example.vn", address="10.5.5.5", now=NOW - timedelta(minutes=5))
    assert service.sweep_login_counters(session, now=NOW) == 3
    keys = session.exec(select(LoginThrottle.key).order_by(LoginThrottle.key)).all()
    assert keys == ["10.5.5.5", "10.5.5.5 new@example.vn", "new@example.vn"]


def test_failures_are_kept_although_the_request_rolls_back(engine):
    """Runs on real, committed transactions: the failure must outlive the request's rollback."""
    from sqlmodel import Session, delete

    keys = ["x@example.vn", "10.2.2.2", "10.2.2.2 x@example.vn"]
    try:
        with Session(engine) as request_session:
            scope = request_scope(request_session)
            next(scope)
            with pytest.raises(NotAuthenticated) as err:
                service.authenticate(request_session, email="x@example.vn", password="x",
                                     address="10.2.2.2", now=NOW)
            with pytest.raises(NotAuthenticated):
                scope.throw(err.value)
        with Session(engine) as other_process:
            counted = other_process.exec(
                select(LoginThrottle.scope, LoginThrottle.failures)
                .where(LoginThrottle.key.in_(keys)).order_by(LoginThrottle.scope)).all()
        assert counted == [("account", 1), ("address", 1), ("pair", 1)]
    finally:
        with Session(engine) as cleanup:
            cleanup.exec(delete(LoginThrottle).where(LoginThrottle.key.in_(keys)))
            cleanup.commit()


def test_web_session_lives_until_logout(session):
    user = make_user(session)
    token = service.start_web_session(session, user, now=NOW)
    row = service.web_session_for(session, token, now=NOW)
    assert row.user_id == user.id
    assert row.token_hash != token
    service.end_web_session(session, row.id, now=NOW)
    assert service.web_session_for(session, token, now=NOW) is None


def test_web_session_expires(session):
    user = make_user(session)
    token = service.start_web_session(session, user, now=NOW)
    assert service.web_session_for(session, token, now=NOW + timedelta(days=15)) is None


def test_password_change_ends_every_session_and_token(session):
    user = make_user(session)
    cookie = service.start_web_session(session, user, now=NOW)
    api_token, _ = service.issue_api_token(session, user, now=NOW)
    service.change_password(session, user,
                            PasswordChange(current_password=PASSWORD, new_password="moi-moi-moi"),
                            now=NOW)
    assert service.web_session_for(session, cookie, now=NOW) is None
    assert service.api_token_for(session, api_token, now=NOW) is None
    assert service.authenticate(session, email=user.email, password="moi-moi-moi",
                                address=None, now=NOW).id == user.id


def test_password_change_needs_the_current_password(session):
    user = make_user(session)
    with pytest.raises(Invalid) as err:
        service.change_password(session, user,
                                PasswordChange(current_password="wrong", new_password="moi-moi-moi"),
                                now=NOW)
    assert err.value.field == "current_password"


def test_api_token_expires(session):
    user = make_user(session)
    token, expires_at = service.issue_api_token(session, user, now=NOW)
    assert expires_at == NOW + timedelta(hours=12)
    assert service.api_token_for(session, token, now=expires_at) is None


@pytest.mark.parametrize("email", ["ｐｈｏｎｇｖｉｅｎ１＠ｇｉａｉｂａｏ．ｖｎ", "PhongVien1@GiaiBao.VN"])
def test_a_look_alike_of_a_registered_email_is_a_conflict(session, email):
    _register(session, email="phongvien1@giaibao.vn")
    with pytest.raises(Conflict) as err:
        _register(session, email=email)
    assert (err.value.field, err.value.message) == (
        "email", "An account with this e-mail already exists.")


def test_full_width_registration_stores_the_canonical_email(session):
    assert _register(session, email="ｐｈｏｎｇｖｉｅｎ１＠ｇｉａｉｂａｏ．ｖｎ").email == \
        "phongvien1@giaibao.vn"


def test_organizer_cannot_create_a_look_alike_of_an_account(session):
    organizer = make_user(session, role="organizer", email="btc@giaibao.vn")
    with pytest.raises(Conflict):
        service.create_user(session, UserCreate(email="ＢＴＣ@giaibao.vn", password="mat-khau-8x",
                                                full_name="Giám khảo", role="judge"),
                            actor=organizer)


@pytest.mark.parametrize(("password", "message"), [
    ("nguyenvanan", "The password must not contain your name."),
    ("phongvien-2026", "The password must not contain your e-mail address."),
    ("1q2w3e4r5t", "This password is one of the most commonly used; please choose another."),
])
def test_registration_refuses_weak_passwords(session, password, message):
    with pytest.raises(Invalid) as err:
        _register(session, password=password)
    assert (err.value.field, err.value.message) == ("password", message)


def test_organizer_created_account_refuses_a_password_with_its_name(session):
    organizer = make_user(session, role="organizer")
    with pytest.raises(Invalid) as err:
        service.create_user(session, UserCreate(email="gk@example.vn", password="tuyet-2026-gk",
                                                full_name="Lê Thị Ánh Tuyết", role="judge"),
                            actor=organizer)
    assert err.value.message == "The password must not contain your name."


def test_password_change_refuses_a_password_with_the_name_on_the_new_field(session):
    user = make_user(session, full_name="Trần Văn Đức", email="gk7@example.vn")
    with pytest.raises(Invalid) as err:
        service.change_password(session, user,
                                PasswordChange(current_password=PASSWORD,
                                               new_password="Đức-Trần-2026"), now=NOW)
    assert (err.value.field, err.value.message) == (
        "new_password", "The password must not contain your name.")
