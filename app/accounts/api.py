from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from app import bounds, i18n
from app.accounts import invitations, links, service
from app.accounts.models import (
    Accepted,
    EmailChange,
    InvitationAccept,
    InvitationCreate,
    InvitationPublic,
    LinkConfirm,
    PasswordChange,
    PasswordResetConfirm,
    PasswordResetRequest,
    TokenOut,
    UserCreate,
    UserPublic,
    UserRegister,
    UserUpdate,
)
from app.deps import (
    ApiOrganizer,
    ApiUser,
    Id,
    Now,
    PageParams,
    SessionDep,
    oauth2_scheme,
    with_total,
)
from app.errors import N_
from app.openapi import errors, paged
from app.web import client_ip

router = APIRouter(tags=["auth and users"])


@router.post("/auth/register", response_model=UserPublic, status_code=status.HTTP_201_CREATED,
             responses=errors(409, 429))
def register(data: UserRegister, request: Request, session: SessionDep, now: Now):
    """Mails a verification link, in the language of the request (``Accept-Language``),
    which becomes the account's."""
    return service.register(session, data, now=now, address=client_ip(request))


@router.post("/auth/token", response_model=TokenOut, responses=errors(401, 429))
def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request,
    session: SessionDep,
    now: Now,
):
    user = service.authenticate(
        session,
        email=form.username,
        password=form.password,
        address=client_ip(request),
        now=now,
    )
    access_token, expires_at = service.issue_api_token(session, user, now=now)
    return TokenOut(access_token=access_token, expires_at=expires_at)


@router.delete("/auth/token", status_code=status.HTTP_204_NO_CONTENT)
def revoke_token(
    user: ApiUser, session: SessionDep, now: Now, token: Annotated[str, Depends(oauth2_scheme)]
):
    """Sign out: the token presented stops working at once."""
    row = service.api_token_for(session, token, now=now)
    service.revoke_api_token(session, row, now=now)


@router.get("/me", response_model=UserPublic)
def me(user: ApiUser):
    return user


@router.patch("/me", response_model=UserPublic)
def update_me(data: UserUpdate, user: ApiUser, session: SessionDep):
    """Changes the fields given; ``language`` ("vi" or "en") is the language of the
    account's mails."""
    return service.update_profile(session, user, data)


def _accepted(message: str, **params) -> Accepted:
    return Accepted(message=i18n.gettext(message).format(**params))


@router.post("/me/email", response_model=Accepted, status_code=status.HTTP_202_ACCEPTED,
             responses=errors(409, 429))
def change_email(data: EmailChange, user: ApiUser, session: SessionDep, now: Now):
    """Mails a confirmation link to the new address; the account keeps its address until
    the link is used (``POST /auth/email-change/confirm``). 422 wrong password, 409 the
    address is another account's, 429 asked too often."""
    new = links.request_email_change(session, user, data, now=now)
    return _accepted(N_("We sent a confirmation link to {email}. Your address changes when "
                        "you open it."), email=new)


@router.post("/auth/email-change/confirm", response_model=UserPublic, responses=errors(409))
def confirm_email_change(data: LinkConfirm, session: SessionDep, now: Now):
    """The new address becomes the account's, verified; 400 expired, used or tampered
    link; 409 another account took the address meanwhile."""
    return links.confirm_email_change(session, data.token, now=now)


@router.post("/auth/verification", response_model=Accepted,
             status_code=status.HTTP_202_ACCEPTED, responses=errors(409, 429))
def request_verification(user: ApiUser, session: SessionDep, now: Now):
    """Mails a new verification link (at most one a minute, five a day: 429 with
    Retry-After); 409 when the address is already verified."""
    links.request_verification(session, user, now=now)
    return _accepted(N_("We sent a new confirmation link to {email}."), email=user.email)


@router.post("/auth/verification/confirm", response_model=UserPublic)
def confirm_verification(data: LinkConfirm, session: SessionDep, now: Now):
    """400 when the link expired, was used, or is not one of ours."""
    return links.confirm_verification(session, data.token, now=now)


PASSWORD_RESET_SENT = N_("If an account uses this address, we have sent it a link to choose a "
                         "new password. The link works for one hour.")


@router.post("/auth/password-reset", response_model=Accepted,
             status_code=status.HTTP_202_ACCEPTED, responses=errors(429))
def request_password_reset(data: PasswordResetRequest, request: Request, session: SessionDep,
                           now: Now):
    """202 whether or not an account uses the address; 429 after five requests in an hour
    from one network address."""
    links.request_password_reset(session, data, now=now,
                                 address=client_ip(request))
    return _accepted(PASSWORD_RESET_SENT)



@router.post("/auth/password-reset/confirm", response_model=Accepted)
def confirm_password_reset(data: PasswordResetConfirm, session: SessionDep, now: Now):
    """Sets the new password and ends every session and token of the account; 400 bad
    link; 422 weak password (the link still works)."""
    links.reset_password(session, data, now=now)
    return _accepted(N_("Your password has been changed. Please sign in with it."))


@router.post("/me/password", status_code=status.HTTP_204_NO_CONTENT)
def change_password(data: PasswordChange, user: ApiUser, session: SessionDep, now: Now):
    """Changes the password and ends every session and token of the account."""
    service.change_password(session, user, data, now=now)


@router.post("/users", response_model=UserPublic, status_code=status.HTTP_201_CREATED,
             responses=errors(409))
def create_user(data: UserCreate, organizer: ApiOrganizer, session: SessionDep):
    return service.create_user(session, data, actor=organizer)


@router.get("/users", response_model=list[UserPublic], responses=paged())
def list_users(
    organizer: ApiOrganizer,
    session: SessionDep,
    page: PageParams,
    response: Response,
    role: str | None = None,
    q: Annotated[str | None, Query(max_length=bounds.NAME)] = None,
    active: bool | None = None,
):
    """``q`` matches name, pen name and e-mail with or without Vietnamese diacritics;
    ``active=false`` lists the deactivated accounts."""
    users, total = service.list_users(session, role=role, q=q, active=active,
                                      limit=page.limit, offset=page.offset)
    with_total(response, total)
    return users


@router.post("/users/invitations", response_model=InvitationPublic,
             status_code=status.HTTP_201_CREATED, responses=errors(409))
def invite(data: InvitationCreate, organizer: ApiOrganizer, session: SessionDep, now: Now):
    """Mails an invitation to be a judge or organizer (seven days; re-inviting replaces
    the link). 409 names the account when one with a verified address holds it; with
    ``confirm_existing: true`` that account is given the role (``status: "granted"``)."""
    return invitations.invite(session, data, actor=organizer, now=now)


@router.get("/users/invitations", response_model=list[InvitationPublic], responses=paged())
def list_invitations(organizer: ApiOrganizer, session: SessionDep, page: PageParams,
                     response: Response, now: Now):
    """Invitations still waiting to be accepted, newest first."""
    items, total = invitations.list_pending(session, now=now, limit=page.limit,
                                            offset=page.offset)
    with_total(response, total)
    return items


@router.post("/users/invitations/accept", response_model=UserPublic, responses=errors(409))
def accept_invitation(data: InvitationAccept, session: SessionDep, now: Now):
    """The invitee's account (verified, with the invited role); 400 bad link; 422 weak
    password (the link still works); 409 only when an account registered the address at
    this very moment."""
    return invitations.accept(session, data, now=now)


@router.post("/users/invitations/{invitation_id}/resend", response_model=InvitationPublic,
             status_code=status.HTTP_201_CREATED, responses=errors(404, 409))
def resend_invitation(invitation_id: Id, organizer: ApiOrganizer, session: SessionDep,
                      now: Now):
    """A new link for an invitation not accepted yet; the old one stops working."""
    return invitations.resend(session, invitation_id, actor=organizer, now=now)


@router.get("/users/{user_id}", response_model=UserPublic, responses=errors(404))
def get_user(user_id: Id, organizer: ApiOrganizer, session: SessionDep):
    return service.get_user(session, user_id)


@router.post("/users/{user_id}/deactivate", response_model=UserPublic,
             responses=errors(404, 409))
def deactivate_user(user_id: Id, organizer: ApiOrganizer, session: SessionDep, now: Now):
    """The account can no longer sign in; every session and API token it has ends at once.
    Its entries, assignments and scores stay. 409 for the caller's own account and for the
    last active organizer."""
    return service.deactivate_user(session, user_id, actor=organizer, now=now)


@router.post("/users/{user_id}/reactivate", response_model=UserPublic, responses=errors(404))
def reactivate_user(user_id: Id, organizer: ApiOrganizer, session: SessionDep):
    return service.reactivate_user(session, user_id, actor=organizer)


@router.post("/users/{user_id}/password-reset", response_model=Accepted,
             status_code=status.HTTP_202_ACCEPTED, responses=errors(404, 409, 429))
def send_password_reset(user_id: Id, organizer: ApiOrganizer, session: SessionDep, now: Now):
    """Mails the account the password-reset link (one hour), as if the person had asked;
    throttled like their own requests (429); 409 for a deactivated account."""
    user = links.send_password_reset_for(session, user_id, actor=organizer, now=now)
    return _accepted(N_("We sent a link to choose a new password to {email}."),
                     email=user.email)
