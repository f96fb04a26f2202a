"""Who may do what to an entry: pure predicates on rows already loaded, used by the
services and by tests alike. 404 when the caller must not learn the entry exists, 403 when
they may see it but not act."""

from app.accounts.models import User
from app.accounts.rules import Role
from app.entries.models import (
    Entry,
)
from app.errors import N_, Forbidden, NotFound


def is_submitter(entry: Entry, user: User) -> bool:
    return entry.submitter_id == user.id


def is_author(entry: Entry, user: User) -> bool:
    """The submitter, or a co-author whose line is linked to this account. Never by
    comparing addresses: a line is linked only to an account that proved its address
    (``_set_authors``, ``link_co_author_accounts``), so registering someone else's address
    grants nothing."""
    return is_submitter(entry, user) or any(a.user_id == user.id for a in entry.authors)


def may_view(entry: Entry, viewer: User) -> bool:
    return viewer.role == Role.organizer or is_author(entry, viewer)


def require_submitter(entry: Entry, user: User) -> None:
    """Changes are for the submitter alone: a co-author, who sees the entry, is refused
    (403); to anyone else the entry does not exist (404)."""
    if is_submitter(entry, user):
        return
    if is_author(entry, user):
        raise Forbidden(N_("Only the author who submitted the entry can change it."))
    raise NotFound(N_("No such entry."))


def viewer_role(entry: Entry, viewer: User | None) -> str | None:
    if viewer is None:
        return None
    if is_submitter(entry, viewer):
        return "submitter"
    return "co_author" if is_author(entry, viewer) else None
