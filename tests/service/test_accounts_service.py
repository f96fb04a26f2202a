from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from app.accounts import service
from app.accounts.models import LoginFailure, PasswordChange, UserCreate, UserRegister
from app.audit.models import AuditEntry
from app.db import request_scope
from app.errors import Conflict, Invalid, NotAuthenticated, TooManyAttempts
from tests.factories import PASSWORD, make_user

NOW = datetime(2026, 11, 1, 9, tzinfo=UTC)


def _register(session, email="phongvien@example.vn", **over):
    data = dict(email=email, password="mat-khau-8", full_name="  Nguyễn   Văn An ")
    data.update(over)
    return service.register(session, UserRegister(**data))


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


def test_account_is_throttled_after_five_failures_even_with_the_right_password(session):
    make_user(session, email="a@example.vn")
    for i in range(5):
        with pytest.raises(NotAuthenticated):
            service.authenticate(session, email="a@example.vn", password="x", address=f"10.0.0.{i}",
                                 now=NOW)
    with pytest.raises(TooManyAttempts):
        service.authenticate(session, email="a@example.vn", password=PASSWORD,
                             address="10.9.9.9", now=NOW)
    later = NOW + timedelta(minutes=16)
    assert service.authenticate(session, email="a@example.vn", password=PASSWORD,
                                address="10.9.9.9", now=later).email == "a@example.vn"


def test_address_is_throttled_across_accounts(session):
    for i in range(30):
        with pytest.raises(NotAuthenticated):
            service.authenticate(session, email=f"u{i}@example.vn", password="x",
                                 address="10.1.1.1", now=NOW)
    make_user(session, email="ok@example.vn")
    with pytest.raises(TooManyAttempts):
        service.authenticate(session, email="ok@example.vn", password=PASSWORD,
                             address="10.1.1.1", now=NOW)


def test_failures_are_kept_although_the_request_rolls_back(engine):
    """Runs on real, committed transactions: the failure must outlive the request's rollback."""
    from sqlmodel import Session, delete

    keys = ["x@example.vn", "10.2.2.2"]
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
            kinds = other_process.exec(
                select(LoginFailure.kind).where(LoginFailure.key.in_(keys))).all()
        assert sorted(kinds) == ["account", "address"]
    finally:
        with Session(engine) as cleanup:
            cleanup.exec(delete(LoginFailure).where(LoginFailure.key.in_(keys)))
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
