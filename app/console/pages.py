"""The organizer's console pages that span domains: the outbox."""

from fastapi import APIRouter, Depends, Request

from app.config import get_settings
from app.deps import Id, Now, Offset, PageOrganizer, SessionDep, page_csrf
from app.errors import DomainError
from app.mail import service as mail
from app.mail.models import MAIL_STATUS_LABELS, MailStatus
from app.web import form_error, redirect, render

router = APIRouter(dependencies=[Depends(page_csrf)], include_in_schema=False)

OUTBOX_PAGE = 50


@router.get("/admin/outbox")
def outbox_page(request: Request, session: SessionDep, organizer: PageOrganizer,
                offset: Offset = 0, status: str = ""):
    chosen = status if status in MailStatus.__members__ else None
    items, total = mail.list_mails(session, viewer=organizer, status=chosen,
                                   limit=OUTBOX_PAGE, offset=offset)
    return render(request, "console/outbox.html", {
        "items": items, "total": total, "offset": offset, "size": OUTBOX_PAGE,
        "status": chosen or "", "statuses": list(MailStatus), "MAIL_STATUS": MAIL_STATUS_LABELS,
        "smtp_configured": get_settings().smtp_configured,
    })


def _mail_page(request, session, mail_id, organizer, *, status_code=200, **extra):
    context = {"mail": mail.get_mail(session, mail_id, viewer=organizer),
               "MAIL_STATUS": MAIL_STATUS_LABELS,
               "smtp_configured": get_settings().smtp_configured}
    context.update(extra)
    return render(request, "console/outbox_mail.html", context, status_code=status_code)


@router.get("/admin/outbox/{mail_id}")
def mail_page(mail_id: Id, request: Request, session: SessionDep, organizer: PageOrganizer,
              resent: int = 0):
    return _mail_page(request, session, mail_id, organizer, resent=resent == 1)


@router.post("/admin/outbox/{mail_id}/resend")
def resend_mail(mail_id: Id, request: Request, session: SessionDep, organizer: PageOrganizer,
                now: Now):
    try:
        mail.resend_mail(session, mail_id, actor=organizer, now=now)
    except DomainError as err:
        if err.status_code == 404:
            raise
        message, _ = form_error(session, err)
        return _mail_page(request, session, mail_id, organizer, error=message,
                          status_code=err.status_code)
    return redirect(f"/admin/outbox/{mail_id}?resent=1")
