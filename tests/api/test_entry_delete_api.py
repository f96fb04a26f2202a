"""DELETE /api/v1/entries/{entry_id}: a draft's submitter deletes it, with its files."""

import pytest
from sqlmodel import select

from app.audit.models import AuditEntry
from app.entries.models import Entry, EntryAuthor, EntryFile
from app.samples import pdf, png
from app.storage import get_storage
from tests.factories import api_headers, make_award, make_entry, make_user


@pytest.fixture
def award(session):
    return make_award(session, status="open")


def test_the_submitter_deletes_a_draft_with_its_files(client, session, award):
    journalist = make_user(session)
    entry = make_entry(session, award, user=journalist, files=[pdf("xoa"), png()],
                       co_authors=[{"full_name": "Lò Văn Pá"}])
    entry_id, stored = entry.id, [f.stored_name for f in entry.files]
    response = client.delete(f"/api/v1/entries/{entry_id}",
                             headers=api_headers(client, journalist))
    assert (response.status_code, response.content) == (204, b"")
    session.expire_all()
    assert session.get(Entry, entry_id) is None
    assert session.exec(select(EntryAuthor).where(EntryAuthor.entry_id == entry_id)).all() == []
    assert session.exec(select(EntryFile).where(EntryFile.entry_id == entry_id)).all() == []
    assert [get_storage().exists(name) for name in stored] == [False, False]
    record = session.exec(select(AuditEntry).where(AuditEntry.action == "entry.delete")).one()
    assert (record.actor_id, record.object_id, record.changes) == (
        journalist.id, entry_id, {"status": ["draft", None], "title": "Xây dựng Đảng từ cơ sở",
                                  "files": ["tac-pham.pdf", "tac-pham.png"]})
    again = client.delete(f"/api/v1/entries/{entry_id}", headers=api_headers(client, journalist))
    assert again.status_code == 404


@pytest.mark.parametrize("status", ["submitted", "accepted", "returned", "rejected", "withdrawn"])
def test_only_a_draft_can_be_deleted(client, session, award, status):
    journalist = make_user(session)
    entry = make_entry(session, award, user=journalist, status=status)
    response = client.delete(f"/api/v1/entries/{entry.id}",
                             headers=api_headers(client, journalist))
    assert response.status_code == 409
    assert response.json() == {
        "detail": "Chỉ có thể xóa bản nháp; tác phẩm đã gửi thì có thể rút lại."}
    session.refresh(entry)
    assert entry.status == status and get_storage().exists(entry.files[0].stored_name)


def test_others_cannot_delete_a_draft(client, session, award):
    hoa = make_user(session, email="hoa@example.vn")
    entry = make_entry(session, award, co_authors=[{"full_name": "Hoa", "email": "hoa@example.vn"}])
    callers = {
        "co-author": (hoa, 403),
        "another journalist": (make_user(session), 404),
        "organizer": (make_user(session, role="organizer"), 404),
        "judge": (make_user(session, role="judge"), 404),
    }
    for name, (user, expected) in callers.items():
        response = client.delete(f"/api/v1/entries/{entry.id}", headers=api_headers(client, user))
        assert response.status_code == expected, name
    assert client.delete(f"/api/v1/entries/{entry.id}").status_code == 401
    session.refresh(entry)
    assert (entry.status, len(entry.files)) == ("draft", 1)


def test_a_missing_entry_is_404(client, session):
    response = client.delete("/api/v1/entries/999999",
                             headers=api_headers(client, make_user(session)))
    assert (response.status_code, response.json()) == (404, {"detail": "Không tìm thấy tác phẩm."})
