"""Verified identities: mailed links, e-mail verification and change, password reset,
invitations — through the services, asserting the outbox rows they write."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from app.accounts import invitations, links, service
from app.accounts.models import (
    AccountToken,
    ApiToken,
    EmailChange,
    InvitationAccept,
    InvitationCreate,
    LoginThrottle,
    PasswordResetConfirm,
    PasswordResetRequest,
    User,
    UserRegister,
    WebSession,
)
from app.audit.models import AuditEntry
from app.entries.models import EntryAuthor
from app.errors import BadRequest, Conflict, Invalid, TooManyAttempts
from app.mail.models import Mail
from app.security import verify_password
from tests.factories import PASSWORD, make_award, make_entry, make_user

NOW = datetime(2026, 11, 1, 9, tzinfo=UTC)
NEW_PASSWORD = "mot-mat-khau-moi-rat-dai"


def mails(session, template: str | None = None) -> list[Mail]:
    query = select(Mail).order_by(Mail.id)
    if template:
        query = query.where(Mail.template == template)
    return list(session.exec(query).all())


def token_in(mail: Mail) -> str:
    return re.search(r"token=([A-Za-z0-9_-]+)", mail.text).group(1)


def _register(session, email="tacgia@example.vn", language="vi"):
    return service.register(session, UserRegister(email=email, password=PASSWORD,
                                                  full_name="Trần Thị Bích"),
                            now=NOW, language=language)


# --- Verification ----------------------------------------------------------------------------

def test_registration_mails_a_verification_link_in_the_registrants_language(session):
    user = _register(session, language="en")
    assert (user.email_verified, user.language) == (False, "en")
    [mail] = mails(session)
    assert (mail.to, mail.template, mail.language, mail.subject, mail.user_id, mail.secret) == (
        "tacgia@example.vn", "verify_email", "en", "Confirm your e-mail address", user.id, True)
    assert f"http://127.0.0.1:8000/verify?token={token_in(mail)}" in mail.text
    assert "expires in 48 hours" in mail.text
    row = session.exec(select(AccountToken)).one()
    assert (row.purpose, row.user_id, row.email, row.expires_at) == (
        "verify_email", user.id, "tacgia@example.vn", NOW + timedelta(hours=48))
    assert row.token_hash != token_in(mail)  # only the HMAC is stored


def test_registration_in_vietnamese_mails_in_vietnamese(session):
    _register(session)
    [mail] = mails(session)
    assert (mail.language, mail.subject) == ("vi", "Xác nhận địa chỉ e-mail của bạn")
    assert "Kính gửi Trần Thị Bích," in mail.text


def test_confirming_verifies_and_links_co_authorships(session):
    award = make_award(session, status="open")
    entry = make_entry(session, award, co_authors=[{"full_name": "Trần Thị Bích",
                                                    "email": "tacgia@example.vn"}])
    user = _register(session)
    token = token_in(mails(session)[0])
    assert links.verification_link(session, token, now=NOW).id == user.id
    confirmed = links.confirm_verification(session, token, now=NOW + timedelta(hours=1))
    assert (confirmed.id, confirmed.email_verified_at) == (user.id, NOW + timedelta(hours=1))
    line = session.exec(select(EntryAuthor).where(EntryAuthor.entry_id == entry.id,
                                                  EntryAuthor.position == 1)).one()
    assert line.user_id == user.id
    assert session.exec(select(AuditEntry.action).where(
        AuditEntry.action == "user.verify_email")).all() == ["user.verify_email"]


def test_a_used_link_says_so_and_changes_nothing(session):
    _register(session)
    token = token_in(mails(session)[0])
    links.confirm_verification(session, token, now=NOW)
    with pytest.raises(BadRequest) as err:
        links.confirm_verification(session, token, now=NOW + timedelta(minutes=1))
    assert (err.value.message, err.value.status_code) == ("This link was already used.", 400)


def test_an_expired_link_says_so(session):
    user = _register(session)
    token = token_in(mails(session)[0])
    with pytest.raises(BadRequest) as err:
        links.confirm_verification(session, token, now=NOW + timedelta(hours=48))
    assert err.value.message == "This link has expired."
    session.refresh(user)
    assert user.email_verified is False


@pytest.mark.parametrize("token", ["", "x" * 43, "x" * 5000, "a\x00b"])
def test_a_tampered_link_is_not_valid(session, token):
    _register(session)
    with pytest.raises(BadRequest) as err:
        links.verification_link(session, token, now=NOW)
    assert err.value.message == ("This link is not valid. Please check that you copied the "
                                 "whole address.")


def test_a_link_of_another_purpose_is_not_valid(session):
    user = make_user(session, email="a@example.vn")
    links.request_password_reset(session, PasswordResetRequest(email="a@example.vn"),
                                 address="10.0.0.1", now=NOW)
    token = token_in(mails(session, "password_reset")[0])
    with pytest.raises(BadRequest) as err:
        links.confirm_verification(session, token, now=NOW)
    assert err.value.message.startswith("This link is not valid.")
    assert links.reset_link(session, token, now=NOW).id == user.id


def test_asking_again_ends_the_older_link(session):
    user = _register(session)
    first = token_in(mails(session)[0])
    links.request_verification(session, user, now=NOW + timedelta(minutes=2))
    second = token_in(mails(session)[1])
    with pytest.raises(BadRequest) as err:
        links.verification_link(session, first, now=NOW + timedelta(minutes=3))
    assert err.value.message == ("This link was replaced by a newer one: please use the link "
                                 "in the most recent mail.")
    assert links.confirm_verification(session, second, now=NOW + timedelta(minutes=3)).id == \
        user.id


def test_asking_again_is_throttled_a_minute_apart_and_five_a_day(session):
    user = make_user(session, verified=False)
    links.request_verification(session, user, now=NOW)
    with pytest.raises(TooManyAttempts) as err:
        links.request_verification(session, user, now=NOW + timedelta(seconds=20))
    assert err.value.headers == {"Retry-After": "40"}
    for minute in range(1, 5):
        links.request_verification(session, user, now=NOW + timedelta(minutes=minute))
    with pytest.raises(TooManyAttempts) as err:
        links.request_verification(session, user, now=NOW + timedelta(hours=2))
    assert err.value.headers == {"Retry-After": str(22 * 3600)}
    assert err.value.params == {"minutes": 22 * 60}
    assert len(mails(session, "verify_email")) == 5
    links.request_verification(session, user, now=NOW + timedelta(hours=24))
    assert len(mails(session, "verify_email")) == 6


def test_a_verified_account_asking_again_is_a_conflict(session):
    with pytest.raises(Conflict) as err:
        links.request_verification(session, make_user(session), now=NOW)
    assert err.value.message == "Your e-mail address is already confirmed."
    assert mails(session) == []


def test_the_sweep_keeps_mail_counters_for_their_own_window(session):
    user = make_user(session, verified=False)
    links.request_verification(session, user, now=NOW)
    assert service.sweep_login_counters(session, now=NOW + timedelta(hours=1)) == 0
    assert service.sweep_login_counters(session, now=NOW + timedelta(hours=25)) == 1
    assert session.exec(select(LoginThrottle)).all() == []


# --- Changing the address ---------------------------------------------------------------------

def test_changing_the_address_waits_for_the_new_one_to_be_proved(session):
    user = make_user(session, email="cu@example.vn", language="en")
    new = links.request_email_change(session, user, EmailChange(email="Moi@Example.vn",
                                                                password=PASSWORD), now=NOW)
    assert (new, user.email, user.pending_email) == ("moi@example.vn", "cu@example.vn",
                                                     "moi@example.vn")
    link_mail, notice = mails(session)
    assert (link_mail.to, link_mail.template, link_mail.language) == (
        "moi@example.vn", "change_email", "en")
    assert "http://127.0.0.1:8000/confirm-email?token=" in link_mail.text
    assert (notice.to, notice.template, notice.subject) == (
        "cu@example.vn", "change_email_notice",
        "A new e-mail address was requested for your account")
    assert "moi@example.vn" in notice.text and "token=" not in notice.text
    changed = links.confirm_email_change(session, token_in(link_mail), now=NOW)
    assert (changed.email, changed.pending_email, changed.email_verified_at) == (
        "moi@example.vn", None, NOW)
    entry = session.exec(select(AuditEntry).where(AuditEntry.action == "user.email")).one()
    assert entry.changes == {"email": ["cu@example.vn", "moi@example.vn"]}


def test_changing_the_address_links_co_authorships_of_the_new_one(session):
    award = make_award(session, status="open")
    entry = make_entry(session, award, co_authors=[{"full_name": "Lê Văn Cường",
                                                    "email": "moi@example.vn"}])
    user = make_user(session, email="cu@example.vn")
    links.request_email_change(session, user, EmailChange(email="moi@example.vn",
                                                          password=PASSWORD), now=NOW)
    links.confirm_email_change(session, token_in(mails(session, "change_email")[0]), now=NOW)
    line = session.exec(select(EntryAuthor).where(EntryAuthor.entry_id == entry.id,
                                                  EntryAuthor.position == 1)).one()
    assert line.user_id == user.id


@pytest.mark.parametrize(("email", "password", "error", "message"), [
    ("moi@example.vn", "sai-mat-khau", Invalid, "The current password is wrong."),
    ("CU@example.vn", PASSWORD, Invalid, "This is already your e-mail address."),
    ("khac@example.vn", PASSWORD, Conflict, "An account with this e-mail already exists."),
    ("not-an-address", PASSWORD, Invalid, "This is not a valid e-mail address."),
])
def test_an_address_change_is_refused(session, email, password, error, message):
    user = make_user(session, email="cu@example.vn")
    make_user(session, email="khac@example.vn")
    with pytest.raises(error) as err:
        links.request_email_change(session, user, EmailChange(email=email, password=password),
                                   now=NOW)
    assert err.value.message == message
    assert (user.pending_email, mails(session)) == (None, [])


def test_an_address_taken_meanwhile_is_a_conflict(session):
    user = make_user(session, email="cu@example.vn")
    links.request_email_change(session, user, EmailChange(email="moi@example.vn",
                                                          password=PASSWORD), now=NOW)
    make_user(session, email="moi@example.vn")
    with pytest.raises(Conflict) as err:
        links.confirm_email_change(session, token_in(mails(session)[0]), now=NOW)
    assert err.value.message == "An account with this e-mail already exists."


def test_links_for_the_old_address_die_with_the_change(session):
    user = make_user(session, email="cu@example.vn", verified=False)
    links.request_verification(session, user, now=NOW)
    old_link = token_in(mails(session)[0])
    links.request_email_change(session, user, EmailChange(email="moi@example.vn",
                                                          password=PASSWORD), now=NOW)
    links.confirm_email_change(session, token_in(mails(session, "change_email")[0]), now=NOW)
    with pytest.raises(BadRequest):
        links.confirm_verification(session, old_link, now=NOW)


def test_a_second_change_ends_the_first_link(session):
    user = make_user(session, email="cu@example.vn")
    for n, minute in ((1, 0), (2, 2)):
        links.request_email_change(session, user, EmailChange(email=f"moi{n}@example.vn",
                                                              password=PASSWORD),
                                   now=NOW + timedelta(minutes=minute))
    first, second = mails(session, "change_email")
    with pytest.raises(BadRequest):
        links.confirm_email_change(session, token_in(first), now=NOW + timedelta(minutes=3))
    assert links.confirm_email_change(session, token_in(second),
                                      now=NOW + timedelta(minutes=3)).email == "moi2@example.vn"


# --- Password reset ---------------------------------------------------------------------------

def _ask_reset(session, email, *, address="10.0.0.1", now=NOW):
    return links.request_password_reset(session, PasswordResetRequest(email=email),
                                        address=address, now=now)


def test_a_reset_is_mailed_to_an_account_in_its_language(session):
    user = make_user(session, email="a@example.vn", language="en")
    assert _ask_reset(session, "A@Example.vn") is None
    [mail] = mails(session)
    assert (mail.to, mail.template, mail.language, mail.secret, mail.subject) == (
        "a@example.vn", "password_reset", "en", True, "Reset your password")
    assert "http://127.0.0.1:8000/reset-password?token=" in mail.text
    assert "expires in 60 minutes" in mail.text
    assert links.reset_link(session, token_in(mail), now=NOW).id == user.id


def test_an_unknown_address_gets_a_mail_saying_so_and_the_same_answer(session):
    assert _ask_reset(session, "nobody@example.vn") is None
    [mail] = mails(session)
    assert (mail.to, mail.template, mail.language, mail.secret, mail.user_id) == (
        "nobody@example.vn", "password_reset_unknown", "vi", False, None)
    assert "http://127.0.0.1:8000/register" in mail.text
    assert "token=" not in mail.text
    assert session.exec(select(AccountToken)).all() == []


def test_resets_are_counted_per_address_and_per_target(session):
    make_user(session, email="a@example.vn")
    for _ in range(3):
        _ask_reset(session, "a@example.vn")
    _ask_reset(session, "a@example.vn")  # over the target's limit: the same answer, no mail
    assert len(mails(session, "password_reset")) == 3
    _ask_reset(session, "b@example.vn")
    with pytest.raises(TooManyAttempts) as err:
        _ask_reset(session, "c@example.vn")
    assert err.value.headers == {"Retry-After": "3600"}
    _ask_reset(session, "c@example.vn", address="10.9.9.9")
    assert [m.to for m in mails(session, "password_reset_unknown")] == [
        "b@example.vn", "c@example.vn"]


def test_a_reset_sets_the_password_revokes_everything_and_proves_the_address(session):
    user = make_user(session, email="a@example.vn", verified=False)
    service.start_web_session(session, user, now=NOW)
    service.issue_api_token(session, user, now=NOW)
    _ask_reset(session, "a@example.vn")
    token = token_in(mails(session)[0])
    links.reset_password(session, PasswordResetConfirm(token=token, new_password=NEW_PASSWORD),
                         now=NOW + timedelta(minutes=5))
    session.refresh(user)
    assert verify_password(NEW_PASSWORD, user.password_hash)
    assert user.email_verified_at == NOW + timedelta(minutes=5)
    assert [s.revoked_at for s in session.exec(select(WebSession)).all()] == [
        NOW + timedelta(minutes=5)]
    assert [t.revoked_at for t in session.exec(select(ApiToken)).all()] == [
        NOW + timedelta(minutes=5)]
    with pytest.raises(BadRequest) as err:
        links.reset_password(session, PasswordResetConfirm(token=token,
                                                           new_password=NEW_PASSWORD + "x"),
                             now=NOW + timedelta(minutes=6))
    assert err.value.message == "This link was already used."


def test_a_weak_password_does_not_use_the_link(session):
    user = make_user(session, email="a@example.vn")
    _ask_reset(session, "a@example.vn")
    token = token_in(mails(session)[0])
    with pytest.raises(Invalid) as err:
        links.reset_password(session, PasswordResetConfirm(token=token, new_password="ngan"),
                             now=NOW)
    assert (err.value.field, err.value.message) == (
        "new_password", "The password must have at least {n} characters.")
    assert links.reset_link(session, token, now=NOW).id == user.id


def test_a_reset_link_expires_after_an_hour(session):
    make_user(session, email="a@example.vn")
    _ask_reset(session, "a@example.vn")
    with pytest.raises(BadRequest) as err:
        links.reset_link(session, token_in(mails(session)[0]), now=NOW + timedelta(hours=1))
    assert err.value.message == "This link has expired."


# --- Invitations ------------------------------------------------------------------------------

def _invite(session, organizer, email="gk@example.vn", role="judge", now=NOW, **extra):
    return invitations.invite(session, InvitationCreate(email=email, full_name="Phạm Văn Giám",
                                                        role=role, **extra),
                              actor=organizer, now=now)


def test_an_invitation_is_mailed_and_accepted_into_a_verified_account(session):
    organizer = make_user(session, role="organizer", full_name="Ban Tổ Chức")
    invitation = _invite(session, organizer, email="GK@example.vn")
    assert (invitation.email, invitation.role, invitation.status, invitation.expires_at) == (
        "gk@example.vn", "judge", "pending", NOW + timedelta(days=7))
    [mail] = mails(session)
    assert (mail.to, mail.template, mail.language, mail.secret, mail.subject) == (
        "gk@example.vn", "invitation", "vi", True,
        "Trân trọng mời bạn tham gia Giải báo chí với vai trò Giám khảo")
    assert "Ban Tổ Chức mời bạn" in mail.text and "7 ngày" in mail.text
    assert "http://127.0.0.1:8000/invitations/accept?token=" in mail.text
    user = invitations.accept(session, InvitationAccept(token=token_in(mail),
                                                        password=NEW_PASSWORD), now=NOW)
    assert (user.email, user.role, user.full_name, user.email_verified_at) == (
        "gk@example.vn", "judge", "Phạm Văn Giám", NOW)
    assert verify_password(NEW_PASSWORD, user.password_hash)
    assert invitations.list_pending(session, now=NOW) == ([], 0)


def test_inviting_again_replaces_the_older_link(session):
    organizer = make_user(session, role="organizer")
    _invite(session, organizer)
    second = _invite(session, organizer, role="organizer", now=NOW + timedelta(minutes=1))
    first_mail, second_mail = mails(session)
    with pytest.raises(BadRequest) as err:
        invitations.invitation_link(session, token_in(first_mail), now=NOW + timedelta(minutes=2))
    assert err.value.message == ("This link was replaced by a newer one: please use the link in "
                                 "the most recent mail.")
    assert invitations.list_pending(session, now=NOW + timedelta(minutes=2)) == ([second], 1)
    user = invitations.accept(session, InvitationAccept(token=token_in(second_mail),
                                                        password=NEW_PASSWORD),
                              now=NOW + timedelta(minutes=2))
    assert user.role == "organizer"


def test_a_verified_account_is_named_and_given_the_role_only_when_confirmed(session):
    organizer = make_user(session, role="organizer", full_name="Ban Tổ Chức")
    journalist = make_user(session, email="gk@example.vn", full_name="Hoàng Thị Lan",
                           language="en")
    with pytest.raises(invitations.NeedsConfirmation) as err:
        _invite(session, organizer)
    assert err.value.status_code == 409
    assert err.value.translated(lambda m: m) == (
        "The account of Hoàng Thị Lan (gk@example.vn) already uses this address. Confirm to "
        "give it the role Judge.")
    granted = _invite(session, organizer, confirm_existing=True)
    assert (granted.id, granted.status, granted.user_id, granted.role) == (
        None, "granted", journalist.id, "judge")
    assert journalist.role == "judge"
    [mail] = mails(session)
    assert (mail.to, mail.template, mail.language, mail.subject) == (
        "gk@example.vn", "role_granted", "en", "You are now Judge on Giải báo chí")
    assert session.exec(select(AuditEntry.changes).where(
        AuditEntry.action == "user.role")).one() == {"role": ["journalist", "judge"]}


def test_an_unverified_squatter_is_taken_over_by_the_invitation(session):
    organizer = make_user(session, role="organizer")
    squatter = make_user(session, email="gk@example.vn", verified=False, full_name="Kẻ Chiếm",
                         pen_name="Giả danh", organization="Không rõ")
    service.start_web_session(session, squatter, now=NOW)
    service.issue_api_token(session, squatter, now=NOW)
    _invite(session, organizer)
    [mail] = mails(session)
    assert mail.user_id == squatter.id
    user = invitations.accept(session, InvitationAccept(token=token_in(mail),
                                                        password=NEW_PASSWORD), now=NOW)
    assert user.id == squatter.id
    assert (user.role, user.full_name, user.pen_name, user.organization,
            user.email_verified_at) == ("judge", "Phạm Văn Giám", None, None, NOW)
    assert verify_password(NEW_PASSWORD, user.password_hash)
    assert not verify_password(PASSWORD, user.password_hash)
    assert all(s.revoked_at == NOW for s in session.exec(select(WebSession)).all())
    assert all(t.revoked_at == NOW for t in session.exec(select(ApiToken)).all())
    assert session.exec(select(User).where(User.email == "gk@example.vn")).one().id == user.id


def test_a_weak_password_does_not_use_the_invitation(session):
    organizer = make_user(session, role="organizer")
    _invite(session, organizer)
    token = token_in(mails(session)[0])
    with pytest.raises(Invalid) as err:
        invitations.accept(session, InvitationAccept(token=token, password="Phạm Văn Giám"),
                           now=NOW)
    assert err.value.message == "The password must not contain your name."
    assert invitations.invitation_link(session, token, now=NOW).status == "pending"


@pytest.mark.parametrize(("role", "message"), [
    ("journalist", "Only judges and organizers are invited."), ("boss", "Unknown role.")])
def test_only_judges_and_organizers_are_invited(session, role, message):
    with pytest.raises(Invalid) as err:
        _invite(session, make_user(session, role="organizer"), role=role)
    assert err.value.message == message


def test_an_organizer_cannot_invite_their_own_address(session):
    organizer = make_user(session, role="organizer", email="btc@example.vn")
    with pytest.raises(Conflict) as err:
        _invite(session, organizer, email="btc@example.vn", confirm_existing=True)
    assert err.value.message == "You cannot change your own role."


def test_resending_an_invitation_mails_a_new_link(session):
    organizer = make_user(session, role="organizer")
    first = _invite(session, organizer)
    again = invitations.resend(session, first.id, actor=organizer,
                               now=NOW + timedelta(days=8))
    assert (again.status, again.expires_at) == ("pending", NOW + timedelta(days=15))
    assert [m.template for m in mails(session)] == ["invitation", "invitation"]
    invitations.accept(session, InvitationAccept(token=token_in(mails(session)[1]),
                                                 password=NEW_PASSWORD),
                       now=NOW + timedelta(days=8))
    with pytest.raises(Conflict) as err:
        invitations.resend(session, again.id, actor=organizer, now=NOW + timedelta(days=8))
    assert err.value.message == "This invitation was already accepted."


# --- Language ---------------------------------------------------------------------------------

def test_mails_follow_the_language_of_the_account(session):
    from app.accounts.models import UserUpdate

    user = make_user(session, email="a@example.vn", verified=False)
    service.update_profile(session, user, UserUpdate(language="en"))
    links.request_verification(session, user, now=NOW)
    service.update_profile(session, user, UserUpdate(language="vi"))
    links.request_verification(session, user, now=NOW + timedelta(minutes=2))
    assert [(m.language, m.subject) for m in mails(session)] == [
        ("en", "Confirm your e-mail address"), ("vi", "Xác nhận địa chỉ e-mail của bạn")]


def test_an_unknown_language_is_refused(session):
    from app.accounts.models import UserUpdate

    user = make_user(session)
    with pytest.raises(Invalid) as err:
        service.update_profile(session, user, UserUpdate(language="fr"))
    assert (err.value.field, user.language) == ("language", "vi")


def test_a_password_reset_drops_an_address_change_someone_parked_before(session):
    """Whoever knew the password asked to move the account to their own mailbox; the owner
    resets the password: the parked change is gone and its link no longer works."""
    user = make_user(session, email="chu@example.vn")
    links.request_email_change(session, user, EmailChange(email="ke-gian@example.vn",
                                                          password=PASSWORD), now=NOW)
    change = token_in(mails(session, "change_email")[0])
    links.request_password_reset(session, PasswordResetRequest(email="chu@example.vn"),
                                 address="10.0.0.1", now=NOW + timedelta(minutes=1))
    reset = token_in(mails(session, "password_reset")[0])
    links.reset_password(session, PasswordResetConfirm(token=reset,
                                                       new_password="mat-khau-moi-an-toan"),
                         now=NOW + timedelta(minutes=2))
    assert user.pending_email is None
    with pytest.raises(BadRequest):
        links.confirm_email_change(session, change, now=NOW + timedelta(minutes=3))
    assert user.email == "chu@example.vn"


def test_a_password_change_ends_open_reset_and_address_change_links(session):
    from app.accounts.models import PasswordChange

    user = make_user(session, email="chu@example.vn")
    links.request_password_reset(session, PasswordResetRequest(email="chu@example.vn"),
                                 address="10.0.0.1", now=NOW)
    reset = token_in(mails(session, "password_reset")[0])
    links.request_email_change(session, user, EmailChange(email="moi@example.vn",
                                                          password=PASSWORD), now=NOW)
    change = token_in(mails(session, "change_email")[0])
    service.change_password(session, user, PasswordChange(
        current_password=PASSWORD, new_password="mat-khau-moi-an-toan"), now=NOW)
    for use in (lambda: links.reset_link(session, reset, now=NOW + timedelta(minutes=1)),
                lambda: links.confirm_email_change(session, change,
                                                   now=NOW + timedelta(minutes=1))):
        with pytest.raises(BadRequest):
            use()
    assert user.pending_email is None
