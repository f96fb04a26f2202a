from fastapi import APIRouter, Response

from app.deps import ApiOrganizer, Id, Now, PageParams, SessionDep, with_total
from app.mail import service
from app.mail.models import MailDetail, MailPublic, MailStatus
from app.openapi import errors, paged

router = APIRouter(tags=["outbox"])


@router.get("/outbox", response_model=list[MailPublic], responses=paged())
def list_outbox(organizer: ApiOrganizer, session: SessionDep, page: PageParams,
                response: Response, status: MailStatus | None = None):
    items, total = service.list_mails(session, viewer=organizer, status=status,
                                      limit=page.limit, offset=page.offset)
    with_total(response, total)
    return items


@router.get("/outbox/{mail_id}", response_model=MailDetail, responses=errors(404))
def get_mail(mail_id: Id, organizer: ApiOrganizer, session: SessionDep):
    return service.get_mail(session, mail_id, viewer=organizer)


@router.post("/outbox/{mail_id}/resend", response_model=MailPublic, responses=errors(404, 409))
def resend_mail(mail_id: Id, organizer: ApiOrganizer, session: SessionDep, now: Now):
    return service.resend_mail(session, mail_id, actor=organizer, now=now)
