"""The organizer's pages about people: the accounts list (search, filters, paging),
invitations, one account's page, and deactivating, reactivating and sending a password-reset
link, each asked first on a confirmation page."""

from typing import Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError
from sqlmodel import func, select

from app.accounts import invitations, links
from app.accounts import service as accounts
from app.accounts.models import InvitationCreate, User
from app.accounts.rules import INVITABLE_ROLES, Role
from app.deps import FormDep, Id, Now, Offset, PageOrganizer, SessionDep, page_csrf
from app.entries.models import Entry
from app.errors import DomainError
from app.web import form_error, redirect, render

router = APIRouter(dependencies=[Depends(page_csrf)], include_in_schema=False)

USERS_PAGE = 50
# The list's "status" filter: the words in the address, and what they select.
ACTIVE_FILTERS = {"active": True, "deactivated": False}


def _users_page(request: Request, session, *, now, role: str = "", q: str = "",
                status: str = "", offset: int = 0, status_code: int = 200, **context):
    role = role if role in Role.__members__ else ""
    status = status if status in ACTIVE_FILTERS else ""
    q = (q or "")[:200]
    users, total = accounts.list_users(session, role=role or None, q=q,
                                       active=ACTIVE_FILTERS.get(status),
                                       limit=USERS_PAGE, offset=offset)
    pending, _ = invitations.list_pending(session, now=now, limit=200)
    filters = {name: value for name, value in (("q", q), ("role", role), ("status", status))
               if value}
    values = {"users": users, "total": total, "role": role, "roles": list(Role), "q": q,
              "status": status, "offset": offset, "size": USERS_PAGE,
              "pager_query": urlencode(filters) + "&" if filters else "",
              "filtered": bool(filters),
              "invitable": list(INVITABLE_ROLES), "invitations": pending,
              "form": {"role": Role.judge}, **context}
    return render(request, "admin/users.html", values, status_code=status_code)


@router.get("/admin/users")
def users_page(request: Request, session: SessionDep, organizer: PageOrganizer, now: Now,
               role: str = "", q: str = "", status: str = "", offset: Offset = 0,
               done: str | None = None):
    return _users_page(request, session, now=now, role=role, q=q, status=status,
                       offset=offset, done=done)


@router.post("/admin/users/invitations")
def invite(request: Request, form: FormDep, session: SessionDep, organizer: PageOrganizer,
           now: Now):
    """Invites a judge or organizer; an account with a verified address holding it is
    shown for the organizer to confirm (the form again, with ``confirm_existing``)."""
    values = {name: form.get(name) if isinstance(form.get(name), str) else ""
              for name in ("email", "full_name", "role")}
    try:
        data = InvitationCreate(**values, confirm_existing=form.get("confirm_existing") == "1")
        result = invitations.invite(session, data, actor=organizer, now=now)
    except (DomainError, ValidationError) as err:
        confirm = isinstance(err, invitations.NeedsConfirmation)
        message, errors = form_error(session, err)
        status_code = err.status_code if isinstance(err, DomainError) else 422
        return _users_page(request, session, now=now, form=values, status_code=status_code,
                           **({"confirm": message} if confirm else
                              {"error": message, "errors": errors}))
    return redirect(f"/admin/users?done={'granted' if result.status == 'granted' else 'invited'}")


@router.post("/admin/users/invitations/{invitation_id}/resend")
def resend_invitation(invitation_id: Id, request: Request, session: SessionDep,
                      organizer: PageOrganizer, now: Now):
    try:
        invitations.resend(session, invitation_id, actor=organizer, now=now)
    except DomainError as err:
        message, _ = form_error(session, err)
        return _users_page(request, session, now=now, error=message,
                           status_code=err.status_code)
    return redirect("/admin/users?done=resent")


# --- One account ---------------------------------------------------------------------------

def _facts(session, user: User) -> dict:
    """What the account's page and its confirmation pages show beside the account."""
    entries = session.exec(
        select(func.count()).select_from(Entry).where(Entry.submitter_id == user.id)
    ).one()
    return {"person": user, "entries_count": entries,
            "open_assignments": accounts.open_assignment_count(session, user)}


def _user_page(request: Request, session, user_id: int, organizer: User, *,
               status_code: int = 200, **context):
    user = accounts.get_user(session, user_id)
    return render(request, "admin/user.html",
                  {**_facts(session, user), "is_self": user.id == organizer.id, **context},
                  status_code=status_code)


@router.get("/admin/users/{user_id}")
def user_page(user_id: Id, request: Request, session: SessionDep, organizer: PageOrganizer,
              done: str | None = None):
    return _user_page(request, session, user_id, organizer, done=done)




def _confirm_page(request: Request, session, user_id: int, action: str):
    user = accounts.get_user(session, user_id)
    return render(request, "admin/user_confirm.html",
                  {**_facts(session, user), "action": action})


def _act(request: Request, session, user_id: int, action: str, form, organizer: User, now):
    if form.get("confirmed") != "1":
        return _confirm_page(request, session, user_id, action)
    try:
        if action == "deactivate":
            accounts.deactivate_user(session, user_id, actor=organizer, now=now)
        elif action == "reactivate":
            accounts.reactivate_user(session, user_id, actor=organizer)
        else:
            links.send_password_reset_for(session, user_id, actor=organizer, now=now)
    except DomainError as err:
        message, _ = form_error(session, err)
        response = _user_page(request, session, user_id, organizer, error=message,
                              status_code=err.status_code)
        response.headers.update(err.headers)
        return response
    return redirect(f"/admin/users/{user_id}?done={action}")


AccountAction = Literal["deactivate", "reactivate", "password-reset"]


@router.get("/admin/users/{user_id}/{action}")
def action_form(user_id: Id, action: AccountAction, request: Request, session: SessionDep,
                organizer: PageOrganizer):
    return _confirm_page(request, session, user_id, action)


@router.post("/admin/users/{user_id}/{action}")
def act(user_id: Id, action: AccountAction, request: Request, form: FormDep,
        session: SessionDep, organizer: PageOrganizer, now: Now):
    return _act(request, session, user_id, action, form, organizer, now)
