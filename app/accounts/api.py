from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from app.accounts import service
from app.accounts.models import (
    PasswordChange,
    TokenOut,
    UserCreate,
    UserProfile,
    UserPublic,
    UserRegister,
)
from app.deps import ApiOrganizer, ApiUser, Now, PageParams, SessionDep, oauth2_scheme, with_total
from app.openapi import errors, paged

router = APIRouter(tags=["auth and users"])


@router.post("/auth/register", response_model=UserPublic, status_code=status.HTTP_201_CREATED,
             responses=errors(409))
def register(data: UserRegister, session: SessionDep):
    return service.register(session, data)


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
        address=request.client.host if request.client else None,
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
def update_me(data: UserProfile, user: ApiUser, session: SessionDep):
    return service.update_profile(session, user, data)


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
):
    users, total = service.list_users(session, role=role, limit=page.limit, offset=page.offset)
    with_total(response, total)
    return users
