from fastapi import APIRouter, Query, Response

from app.audit import service
from app.audit.models import AuditEntryPublic
from app.deps import ApiOrganizer, OptionalId, PageParams, SessionDep, with_total
from app.openapi import paged

router = APIRouter(tags=["audit"])


@router.get("/audit", response_model=list[AuditEntryPublic], responses=paged())
def list_audit(
    organizer: ApiOrganizer,
    session: SessionDep,
    page: PageParams,
    response: Response,
    object_type: str | None = None,
    object_id: OptionalId = None,
    action: str | None = Query(default=None, max_length=60),
    actor: str | None = Query(default=None, max_length=320),
):
    """Newest first. ``action``: one action (``entry.reject``) or a family (``entry``);
    ``actor``: part of the actor's e-mail address."""
    items, total = service.list_entries(
        session, object_type=object_type, object_id=object_id, action=action, actor=actor,
        limit=page.limit, offset=page.offset,
    )
    with_total(response, total)
    return items
