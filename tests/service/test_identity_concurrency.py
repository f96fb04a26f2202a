"""Mailed links and mail throttles under real concurrency, on real commits (a fresh
database): a link is used once however many requests hold it; counters are not passed."""

import re
from datetime import UTC, datetime

from sqlmodel import Session, func, select

import app.models  # noqa: F401
from app.accounts import invitations, links
from app.accounts.models import (
    InvitationAccept,
    InvitationCreate,
    PasswordResetConfirm,
    PasswordResetRequest,
    User,
)
from app.errors import BadRequest, TooManyAttempts
from app.mail.models import Mail
from app.security import verify_password
from tests.factories import make_user
from tests.service.test_accounts_concurrency import THREADS, _in_parallel

NOW = datetime(2026, 11, 1, 9, tzinfo=UTC)


def _token(engine, template: str) -> str:
    with Session(engine) as session:
        text = session.exec(select(Mail.text).where(Mail.template == template)).one()
    return re.search(r"token=([A-Za-z0-9_-]+)", text).group(1)


def _kinds(outcomes) -> list[str]:
    return sorted(type(o).__name__ for o in outcomes)


def test_parallel_confirmations_of_one_link_verify_once(real_engine):
    with Session(real_engine) as session:
        user = make_user(session, email="a@example.vn", verified=False)
        links.request_verification(session, user, now=NOW)
        session.commit()
    token = _token(real_engine, "verify_email")

    outcomes = _in_parallel(real_engine, lambda s, i: links.confirm_verification(s, token, now=NOW))
    assert _kinds(outcomes) == ["BadRequest"] * (THREADS - 1) + ["User"]
    assert {o.message for o in outcomes if isinstance(o, BadRequest)} == {
        "This link was already used."}


def test_parallel_resets_with_one_link_set_one_password(real_engine):
    with Session(real_engine) as session:
        make_user(session, email="a@example.vn")
        links.request_password_reset(session, PasswordResetRequest(email="a@example.vn"),
                                     address="10.0.0.1", now=NOW)
        session.commit()
    token = _token(real_engine, "password_reset")

    def reset(session, i):
        return links.reset_password(session, PasswordResetConfirm(
            token=token, new_password=f"mat-khau-moi-so-{i}"), now=NOW)

    outcomes = _in_parallel(real_engine, reset)
    winners = [i for i, o in enumerate(outcomes) if isinstance(o, User)]
    assert len(winners) == 1 and _kinds(outcomes).count("BadRequest") == THREADS - 1
    with Session(real_engine) as session:
        user = session.exec(select(User)).one()
        assert verify_password(f"mat-khau-moi-so-{winners[0]}", user.password_hash)


def test_parallel_acceptances_of_one_invitation_make_one_account(real_engine):
    with Session(real_engine) as session:
        organizer = make_user(session, role="organizer")
        invitations.invite(session, InvitationCreate(email="gk@example.vn", full_name="Giám Khảo",
                                                     role="judge"), actor=organizer, now=NOW)
        session.commit()
    token = _token(real_engine, "invitation")

    def accept(session, i):
        return invitations.accept(session, InvitationAccept(token=token,
                                                            password="mat-khau-rat-an-toan"),
                                  now=NOW)

    outcomes = _in_parallel(real_engine, accept)
    assert _kinds(outcomes) == ["BadRequest"] * (THREADS - 1) + ["User"]
    with Session(real_engine) as session:
        assert session.exec(select(func.count()).select_from(User).where(
            User.email == "gk@example.vn")).one() == 1


def test_parallel_requests_for_a_verification_link_send_one_mail(real_engine):
    with Session(real_engine) as session:
        user = make_user(session, email="a@example.vn", verified=False)
        session.commit()
        user_id = user.id

    def ask(session, i):
        return links.request_verification(session, session.get(User, user_id), now=NOW)

    outcomes = _in_parallel(real_engine, ask)
    assert sum(isinstance(o, TooManyAttempts) for o in outcomes) == THREADS - 1
    with Session(real_engine) as session:
        assert session.exec(select(func.count()).select_from(Mail)).one() == 1


def test_parallel_reset_requests_mail_one_address_at_most_three_times(real_engine):
    def ask(session, i):
        return links.request_password_reset(session, PasswordResetRequest(email="a@example.vn"),
                                            address=f"10.0.0.{i}", now=NOW)

    outcomes = _in_parallel(real_engine, ask)
    assert outcomes == [None] * THREADS
    with Session(real_engine) as session:
        assert session.exec(select(func.count()).select_from(Mail)).one() == 3
