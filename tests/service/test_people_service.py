"""People: finding accounts, deactivating and reactivating them, a reset link on request."""

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from app.accounts import links, service
from app.accounts.models import AccountToken, ApiToken, User, WebSession
from app.audit.models import AuditEntry
from app.errors import Conflict, Forbidden, NotFound, TooManyAttempts
from app.mail.models import Mail
from tests.factories import PASSWORD, make_judging, make_user

NOW = datetime(2026, 11, 1, 9, tzinfo=UTC)


def _names(users) -> list[str]:
    return [u.full_name for u in users]


def _people(session):
    return [
        make_user(session, full_name="Nguyễn Văn An", email="an@baotinh.vn"),
        make_user(session, full_name="Đặng Thị Đào", email="dao@example.vn", role="judge",
                  pen_name="Hoa Đào"),
        make_user(session, full_name="Trần Minh Đức", email="duc@baotinh.vn",
                  role="organizer"),
    ]


def test_search_matches_names_with_or_without_diacritics(session):
    _people(session)
    assert _names(service.list_users(session, q="Đặng")[0]) == ["Đặng Thị Đào"]
    assert _names(service.list_users(session, q="dang thi")[0]) == ["Đặng Thị Đào"]
    assert _names(service.list_users(session, q="DUC")[0]) == ["Trần Minh Đức"]
    assert _names(service.list_users(session, q="hoa dao")[0]) == ["Đặng Thị Đào"]


def test_search_matches_the_email_and_every_word(session):
    _people(session)
    assert _names(service.list_users(session, q="baotinh.vn")[0]) == ["Nguyễn Văn An",
                                                                       "Trần Minh Đức"]
    assert _names(service.list_users(session, q="baotinh nguyen")[0]) == ["Nguyễn Văn An"]
    assert service.list_users(session, q="không ai") == ([], 0)


def test_search_treats_like_wildcards_as_text(session):
    _people(session)
    assert service.list_users(session, q="%") == ([], 0)
    assert service.list_users(session, q="_") == ([], 0)


def test_search_follows_a_changed_name(session):
    user = make_user(session, full_name="Lê Văn Cũ")
    user.full_name = "Phạm Thị Mới"
    session.add(user)
    session.flush()
    assert _names(service.list_users(session, q="pham moi")[0]) == ["Phạm Thị Mới"]
    assert service.list_users(session, q="cu")[1] == 0


def test_filters_by_role_and_active_with_the_total(session):
    an, dao, duc = _people(session)
    service.deactivate_user(session, an.id, actor=duc, now=NOW)
    assert _names(service.list_users(session, active=False)[0]) == ["Nguyễn Văn An"]
    assert _names(service.list_users(session, active=True)[0]) == ["Đặng Thị Đào",
                                                                   "Trần Minh Đức"]
    assert _names(service.list_users(session, role="judge", active=True)[0]) == [
        "Đặng Thị Đào"]
    users, total = service.list_users(session, limit=1, offset=1)
    assert (_names(users), total) == (["Đặng Thị Đào"], 3)


def test_deactivating_ends_every_session_token_and_link_at_once(session):
    organizer = make_user(session, role="organizer")
    user = make_user(session)
    service.start_web_session(session, user, now=NOW)
    service.issue_api_token(session, user, now=NOW)
    links.send_verification(session, user, now=NOW)

    result = service.deactivate_user(session, user.id, actor=organizer, now=NOW)

    assert result.is_active is False
    assert [s.revoked_at for s in session.exec(select(WebSession)).all()] == [NOW]
    assert [t.revoked_at for t in session.exec(select(ApiToken)).all()] == [NOW]
    assert [t.expires_at for t in session.exec(select(AccountToken)).all()] == [NOW]
    record = session.exec(select(AuditEntry).where(AuditEntry.action == "user.deactivate")).one()
    assert (record.actor_id, record.object_id, record.changes) == (
        organizer.id, user.id, {"is_active": [True, False]})


def test_a_deactivated_account_cannot_sign_in_and_is_told_so(session):
    organizer = make_user(session, role="organizer")
    user = make_user(session, email="tacgia@example.vn")
    service.deactivate_user(session, user.id, actor=organizer, now=NOW)
    with pytest.raises(Forbidden) as refused:
        service.authenticate(session, email="tacgia@example.vn", password=PASSWORD,
                             address="10.0.0.1", now=NOW)
    assert refused.value.message.startswith("This account has been deactivated")


def test_a_wrong_password_on_a_deactivated_account_says_nothing_more(session):
    organizer = make_user(session, role="organizer")
    user = make_user(session, email="tacgia@example.vn")
    service.deactivate_user(session, user.id, actor=organizer, now=NOW)
    from app.errors import NotAuthenticated

    with pytest.raises(NotAuthenticated) as refused:
        service.authenticate(session, email="tacgia@example.vn", password="sai-mat-khau",
                             address="10.0.0.1", now=NOW)
    assert refused.value.message == "Wrong e-mail or password."


def test_reactivating_lets_the_account_sign_in_again(session):
    organizer = make_user(session, role="organizer")
    user = make_user(session, email="tacgia@example.vn")
    service.deactivate_user(session, user.id, actor=organizer, now=NOW)
    service.reactivate_user(session, user.id, actor=organizer)
    signed = service.authenticate(session, email="tacgia@example.vn", password=PASSWORD,
                                  address="10.0.0.1", now=NOW)
    assert (signed.id, signed.last_login_at) == (user.id, NOW)
    actions = session.exec(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["user.deactivate", "user.reactivate"]


def test_deactivating_twice_changes_nothing_the_second_time(session):
    organizer = make_user(session, role="organizer")
    user = make_user(session)
    service.deactivate_user(session, user.id, actor=organizer, now=NOW)
    service.deactivate_user(session, user.id, actor=organizer, now=NOW)
    service.reactivate_user(session, user.id, actor=organizer)
    service.reactivate_user(session, user.id, actor=organizer)
    actions = session.exec(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["user.deactivate", "user.reactivate"]


def test_an_organizer_cannot_deactivate_themself(session):
    organizer = make_user(session, role="organizer")
    make_user(session, role="organizer")
    with pytest.raises(Conflict) as refused:
        service.deactivate_user(session, organizer.id, actor=organizer, now=NOW)
    assert refused.value.message == "You cannot deactivate your own account."
    assert session.get(User, organizer.id).is_active is True


def test_an_organizer_deactivated_meanwhile_cannot_act(session):
    first = make_user(session, role="organizer")
    second = make_user(session, role="organizer")
    service.deactivate_user(session, second.id, actor=first, now=NOW)
    # An organizer deactivated meanwhile (``second``, whose request was already under way)
    # can no longer act.
    with pytest.raises(Forbidden) as refused:
        service.deactivate_user(session, first.id, actor=second, now=NOW)
    assert refused.value.message == "Your account can no longer do this."
    assert session.get(User, first.id).is_active is True


def test_a_deactivated_organizer_may_be_deactivated_again_without_a_check(session):
    first = make_user(session, role="organizer")
    second = make_user(session, role="organizer")
    service.deactivate_user(session, second.id, actor=first, now=NOW)
    assert service.deactivate_user(session, second.id, actor=first, now=NOW).is_active is False


def test_a_missing_account_is_not_found(session):
    organizer = make_user(session, role="organizer")
    with pytest.raises(NotFound):
        service.deactivate_user(session, 999_999, actor=organizer, now=NOW)
    with pytest.raises(NotFound):
        service.reactivate_user(session, 999_999, actor=organizer)
    with pytest.raises(NotFound):
        links.send_password_reset_for(session, 999_999, actor=organizer, now=NOW)


def test_a_judge_keeps_their_assignments_when_deactivated(session):
    scene = make_judging(session, entries=3, judges=2, judges_per_entry=2)
    judge = scene.judges[0]
    assert service.open_assignment_count(session, judge) == 3
    service.deactivate_user(session, judge.id, actor=scene.organizer, now=NOW)
    assert service.open_assignment_count(session, judge) == 3


def test_the_reset_link_on_request_is_mailed_counted_and_audited(session):
    organizer = make_user(session, role="organizer")
    user = make_user(session, email="tacgia@example.vn")
    for _ in range(3):
        links.send_password_reset_for(session, user.id, actor=organizer, now=NOW)
    mails = session.exec(select(Mail).where(Mail.template == "password_reset")).all()
    assert [m.to for m in mails] == ["tacgia@example.vn"] * 3
    # The same limit as the person's own requests: three an hour to one address.
    with pytest.raises(TooManyAttempts):
        links.send_password_reset_for(session, user.id, actor=organizer, now=NOW)
    record = session.exec(
        select(AuditEntry).where(AuditEntry.action == "user.password_reset_sent")).first()
    assert (record.actor_id, record.object_id) == (organizer.id, user.id)


def test_no_reset_link_for_a_deactivated_account(session):
    organizer = make_user(session, role="organizer")
    user = make_user(session)
    service.deactivate_user(session, user.id, actor=organizer, now=NOW)
    with pytest.raises(Conflict):
        links.send_password_reset_for(session, user.id, actor=organizer, now=NOW)
