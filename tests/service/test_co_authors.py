"""Co-authors by verified account: linking, access through the link alone, the per-author
limit counting co-authored entries, and the verified address needed to submit."""

from datetime import UTC, datetime

import pytest

from app.entries import files as entry_files

from app.entries import queries as entry_queries

from app.entries import views as entry_views

from app.entries import writes as entry_writes
from app.entries.models import CoAuthorIn, EntryUpdate
from app.errors import Conflict, Forbidden, Invalid, NotFound
from tests.factories import make_award, make_entry, make_user

NOW = datetime.now(UTC)


@pytest.fixture
def award(session):
    return make_award(session, status="open", max_entries_per_author=2)


def _lines(entry):
    return [(a.full_name, a.email, a.user_id) for a in entry.authors]


def _verify(session, user):
    """What the accounts part does when an address is proven."""
    user.email_verified_at = NOW
    session.add(user)
    session.flush()
    return entry_writes.link_co_author_accounts(session, user)


def test_co_authors_are_linked_to_verified_accounts_of_their_addresses_at_creation(session,
                                                                                   award):
    hoa = make_user(session, email="hoa@example.vn", full_name="Lê Thị Hoa")
    submitter = make_user(session)
    entry = make_entry(session, award, user=submitter, co_authors=[
        {"full_name": "Lê Thị Hoa", "email": "HOA@example.vn"},
        {"full_name": "Phạm Văn Nam", "email": "nam@example.vn"},
        {"full_name": "Lò Văn Pá"}])
    assert _lines(entry) == [
        ("Nguyễn Văn An", submitter.email, submitter.id),
        ("Lê Thị Hoa", "hoa@example.vn", hoa.id),
        ("Phạm Văn Nam", "nam@example.vn", None),
        ("Lò Văn Pá", None, None)]
    assert [a.linked for a in entry_views.for_author(entry).authors] == [True, True, False, False]


def test_an_unverified_account_holding_the_address_is_not_linked_and_sees_nothing(session,
                                                                                  award):
    squatter = make_user(session, email="hoa@example.vn", verified=False)
    entry = make_entry(session, award, status="submitted",
                       co_authors=[{"full_name": "Lê Thị Hoa", "email": "hoa@example.vn"}])
    assert entry.authors[1].user_id is None
    with pytest.raises(NotFound):
        entry_queries.get_entry(session, entry.id, viewer=squatter)
    with pytest.raises(NotFound):
        entry_files.get_file(session, entry.files[0].id, viewer=squatter)
    assert entry_queries.list_my_entries(session, squatter) == ([], 0)


def test_verifying_the_address_links_the_lines_and_gives_access(session, award):
    hoa = make_user(session, email="hoa@example.vn", verified=False)
    entry = make_entry(session, award, status="submitted",
                       co_authors=[{"full_name": "Lê Thị Hoa", "email": "hoa@example.vn"}])
    assert _verify(session, hoa) == 1
    session.refresh(entry)
    assert entry.authors[1].user_id == hoa.id
    assert entry_queries.get_entry(session, entry.id, viewer=hoa).id == entry.id
    entries, total = entry_queries.list_my_entries(session, hoa)
    assert ([e.id for e in entries], total) == ([entry.id], 1)
    assert entry_views.for_author(entries[0], hoa).viewer_role == "co_author"


def test_editing_the_list_links_new_addresses_and_keeps_notified_at(session, award):
    hoa = make_user(session, email="hoa@example.vn")
    nam = make_user(session, email="nam@example.vn")
    submitter = make_user(session)
    entry = make_entry(session, award, user=submitter, status="returned",
                       co_authors=[{"full_name": "Lê Thị Hoa", "email": "hoa@example.vn"},
                                   {"full_name": "Chưa Có", "email": "chua@example.vn"}])
    notified = [a.notified_at for a in entry.authors[1:]]
    assert None not in notified
    entry_writes.update_entry(session, entry, EntryUpdate(co_authors=[
        CoAuthorIn(full_name="Phạm Văn Nam", email="nam@example.vn"),
        CoAuthorIn(full_name="Lê Thị Hoa (sửa tên)", email="hoa@example.vn")]),
        user=submitter, now=NOW)
    assert [(a.full_name, a.user_id, a.notified_at) for a in entry.authors[1:]] == [
        ("Phạm Văn Nam", nam.id, None), ("Lê Thị Hoa (sửa tên)", hoa.id, notified[0])]


def test_an_address_is_listed_once_and_never_the_submitters_own(session, award):
    submitter = make_user(session, email="an@example.vn")
    for co_authors, row in (([{"full_name": "Tôi", "email": "AN@example.vn"}], 0),
                            ([{"full_name": "A", "email": "a@example.vn"},
                              {"full_name": "B", "email": "a@example.vn"}], 1)):
        with pytest.raises(Invalid) as err:
            make_entry(session, award, user=submitter, co_authors=co_authors)
        # Reported on the row that repeats an address, beside its e-mail field.
        assert (err.value.message, err.value.field) == (
            "Each co-author's e-mail address must be their own: not yours, and not another "
            "co-author's.", f"co_authors.{row}.email")


def test_a_co_author_sees_the_entry_but_cannot_act_on_it(session, award):
    hoa = make_user(session, email="hoa@example.vn")
    entry = make_entry(session, award, co_authors=[{"full_name": "Hoa", "email": "hoa@example.vn"}])
    assert entry_views.view_for(session, entry, hoa).viewer_role == "co_author"
    for act in (
        lambda: entry_writes.update_entry(session, entry, EntryUpdate(title="x"), user=hoa, now=NOW),
        lambda: entry_writes.submit_entry(session, entry, user=hoa, now=NOW),
        lambda: entry_files.delete_file(session, entry.id, entry.files[0].id, user=hoa, now=NOW),
        lambda: entry_files.upload_limits(session, entry.id, user=hoa),
    ):
        with pytest.raises(Forbidden) as err:
            act()
        assert err.value.message == "Only the author who submitted the entry can change it."


# --- The per-author limit ------------------------------------------------------------------

def test_co_authored_entries_count_towards_the_submitters_own_limit(session, award):
    an = make_user(session, email="an@example.vn")
    for _ in range(2):
        make_entry(session, award, co_authors=[{"full_name": "An", "email": "an@example.vn"}],
                   status="submitted")
    with pytest.raises(Conflict) as err:
        make_entry(session, award, user=an)
    assert (err.value.message, err.value.params) == (
        "You already have {n} entries in this award, the most it allows.", {"n": 2})


def test_creating_is_refused_when_a_linked_co_author_is_at_the_limit(session, award):
    make_user(session, email="hoa@example.vn")
    hoa_line = {"full_name": "Lê Thị Hoa", "email": "hoa@example.vn"}
    make_entry(session, award, co_authors=[hoa_line], status="withdrawn")  # not counted
    make_entry(session, award, co_authors=[hoa_line], status="rejected")  # not counted
    make_entry(session, award, co_authors=[hoa_line], status="accepted")
    make_entry(session, award, co_authors=[hoa_line], status="submitted")
    with pytest.raises(Conflict) as err:
        make_entry(session, award, co_authors=[{"full_name": "Phạm Nam"}, hoa_line])
    assert (err.value.message, err.value.field, err.value.params) == (
        "The co-author {name} already has {n} entries in this award (submitted or "
        "co-authored), the most it allows.", "co_authors", {"name": "Lê Thị Hoa", "n": 2})


def test_others_drafts_do_not_use_up_a_co_authors_quota(session, award):
    """Anyone may list a colleague on drafts: until a draft is submitted it does not count
    for its co-authors, so nobody can fill another journalist's quota without their work
    being entered."""
    hoa = make_user(session, email="hoa@example.vn")
    hoa_line = {"full_name": "Lê Thị Hoa", "email": "hoa@example.vn"}
    drafts = [make_entry(session, award, co_authors=[hoa_line]) for _ in range(3)]
    assert [d.authors[1].user_id for d in drafts] == [hoa.id] * 3
    own = make_entry(session, award, user=hoa)
    assert own.status == "draft"


def test_an_unlinked_address_does_not_count(session, award):
    make_user(session, email="hoa@example.vn", verified=False)
    hoa_line = {"full_name": "Lê Thị Hoa", "email": "hoa@example.vn"}
    entries = [make_entry(session, award, co_authors=[hoa_line]) for _ in range(3)]
    assert [e.authors[1].user_id for e in entries] == [None, None, None]


def test_adding_a_co_author_at_the_limit_is_refused_on_update(session, award):
    make_user(session, email="hoa@example.vn")
    hoa_line = {"full_name": "Lê Thị Hoa", "email": "hoa@example.vn"}
    for _ in range(2):
        make_entry(session, award, co_authors=[hoa_line], status="submitted")
    submitter = make_user(session)
    entry = make_entry(session, award, user=submitter)
    with pytest.raises(Conflict) as err:
        entry_writes.update_entry(session, entry, EntryUpdate(co_authors=[CoAuthorIn(**hoa_line)]),
                             user=submitter, now=NOW)
    assert err.value.params == {"name": "Lê Thị Hoa", "n": 2}


def test_submitting_is_refused_when_a_co_author_linked_later_is_over_the_limit(session,
                                                                                award):
    hoa = make_user(session, email="hoa@example.vn", verified=False)
    hoa_line = {"full_name": "Lê Thị Hoa", "email": "hoa@example.vn"}
    make_entry(session, award, user=hoa)
    make_entry(session, award, co_authors=[hoa_line], status="submitted")
    submitter = make_user(session)
    entry = make_entry(session, award, user=submitter, co_authors=[hoa_line])
    _verify(session, hoa)  # now linked to both entries: three in all, limit two
    session.refresh(entry)
    with pytest.raises(Conflict) as err:
        entry_writes.submit_entry(session, entry, user=submitter, now=NOW)
    assert (err.value.field, err.value.params) == ("co_authors", {"name": "Lê Thị Hoa", "n": 2})
    assert entry.status == "draft"


def test_submitting_within_the_limit_counts_the_entry_once(session, award):
    make_user(session, email="hoa@example.vn")
    hoa_line = {"full_name": "Lê Thị Hoa", "email": "hoa@example.vn"}
    make_entry(session, award, co_authors=[hoa_line], status="submitted")
    entry = make_entry(session, award, co_authors=[hoa_line], status="submitted")
    assert entry.code == "C1-002"


# --- A verified address to submit ----------------------------------------------------------

def test_an_unverified_account_prepares_a_draft_but_cannot_submit_it(session, award):
    user = make_user(session, verified=False)
    entry = make_entry(session, award, user=user)
    with pytest.raises(Forbidden) as err:
        entry_writes.submit_entry(session, entry, user=user, now=NOW)
    assert err.value.message == "Please confirm your e-mail address before submitting."
    assert (entry.status, entry.code) == ("draft", None)
