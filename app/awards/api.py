from fastapi import APIRouter, Response, status

from app.awards import service
from app.awards.models import (
    AwardCreate,
    AwardPublic,
    AwardUpdate,
    CategoryCreate,
    CategoryPublic,
    CategoryUpdate,
)
from app.deps import ApiOrganizer, ApiUserOptional, Id, Now, PageParams, SessionDep, with_total
from app.openapi import errors, paged

router = APIRouter(tags=["awards and categories"])


@router.post("/awards", response_model=AwardPublic, status_code=status.HTTP_201_CREATED,
             responses=errors(409))
def create_award(data: AwardCreate, organizer: ApiOrganizer, session: SessionDep):
    return service.create_award(session, data, actor=organizer)


@router.get("/awards", response_model=list[AwardPublic], responses=paged())
def list_awards(session: SessionDep, viewer: ApiUserOptional, page: PageParams, response: Response):
    awards, total = service.list_awards(
        session, viewer=viewer, limit=page.limit, offset=page.offset
    )
    with_total(response, total)
    return awards


@router.get("/awards/{award_id}", response_model=AwardPublic, responses=errors(404))
def get_award(award_id: Id, session: SessionDep, viewer: ApiUserOptional):
    return service.get_award(session, award_id, viewer=viewer)


@router.patch("/awards/{award_id}", response_model=AwardPublic, responses=errors(404, 409))
def update_award(
    award_id: Id, data: AwardUpdate, organizer: ApiOrganizer, session: SessionDep, now: Now
):
    award = service.get_award(session, award_id, viewer=organizer)
    return service.update_award(session, award, data, actor=organizer, now=now)


@router.post(
    "/awards/{award_id}/categories",
    response_model=CategoryPublic,
    status_code=status.HTTP_201_CREATED,
    responses=errors(404, 409),
)
def add_category(
    award_id: Id, data: CategoryCreate, organizer: ApiOrganizer, session: SessionDep
):
    award = service.get_award(session, award_id, viewer=organizer)
    return service.add_category(session, award, data, actor=organizer)


@router.get("/awards/{award_id}/categories", response_model=list[CategoryPublic],
            responses=paged(404))
def list_categories(
    award_id: Id, session: SessionDep, viewer: ApiUserOptional, page: PageParams,
    response: Response,
):
    award = service.get_award(session, award_id, viewer=viewer)
    categories = service.list_categories(session, award)
    with_total(response, len(categories))
    return categories[page.offset : page.offset + page.limit]


@router.patch("/categories/{category_id}", response_model=CategoryPublic,
              responses=errors(404, 409))
def update_category(
    category_id: Id, data: CategoryUpdate, organizer: ApiOrganizer, session: SessionDep
):
    category = service.get_category(session, category_id)
    return service.update_category(session, category, data, actor=organizer)
