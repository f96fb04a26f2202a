"""Values that used to reach a 500 answer 4xx, and bodies are bounded while they are read."""

import pytest
from sqlmodel import func, select

from app.entries.models import Entry, EntryFile
from app.samples import pdf
from tests.factories import api_headers, make_award, make_category, make_entry, make_user

MB = 1024 * 1024


@pytest.fixture
def organizer(client, session):
    user = make_user(session, role="organizer")
    return user, api_headers(client, user)


def _award_body(**over):
    body = {"title": "Giải thử", "year": 2026, "submission_opens_at": "2026-01-01T00:00:00",
            "submission_closes_at": "2026-12-01T00:00:00"}
    body.update(over)
    return body


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+14:00", "0001-01-01T00:00:00",
                                    "9999-12-31T23:59:59-14:00", "9999-12-31T23:59:59"])
def test_times_at_the_edge_of_the_calendar_are_422(client, organizer, moment):
    _, headers = organizer
    response = client.post("/api/v1/awards", headers=headers,
                           json=_award_body(submission_opens_at=moment))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "submission_opens_at"]


def test_dates_at_the_edge_of_the_calendar_are_422(client, session, organizer):
    _, headers = organizer
    response = client.post("/api/v1/awards", headers=headers,
                           json=_award_body(published_from="0001-01-01"))
    assert response.status_code == 422


@pytest.mark.parametrize("field", ["max_entries_per_author", "year"])
def test_numbers_beyond_the_column_are_422(client, organizer, field):
    _, headers = organizer
    response = client.post("/api/v1/awards", headers=headers,
                           json=_award_body(**{field: 10**12}))
    assert response.status_code == 422


def test_a_category_with_a_huge_size_or_quota_is_422(client, session, organizer):
    user, headers = organizer
    award = make_award(session, organizer=user)
    for over in ({"max_file_mb": 10**15}, {"prize_quota": {"A": 10**15}},
                 {"accepted_kinds": ["pdf"] * 11}, {"name": "x" * 201}):
        body = {"code": "BDT", "name": "Báo điện tử", "accepted_kinds": ["pdf"], **over}
        response = client.post(f"/api/v1/awards/{award.id}/categories", headers=headers,
                               json=body)
        assert response.status_code == 422, over


def test_a_title_longer_than_its_column_is_422_and_the_list_still_works(client, session,
                                                                        organizer):
    user, headers = organizer
    award = make_award(session, organizer=user, status="open")
    journalist = make_user(session)
    entry = make_entry(session, award, user=journalist)
    author = api_headers(client, journalist)
    for body in ({"title": "T" * 600}, {"co_authors": [{"full_name": "A" * 201}]},
                 {"summary": "s" * 20_001}, {"url": "https://x.vn/" + "a" * 1000}):
        response = client.patch(f"/api/v1/entries/{entry.id}", headers=author, json=body)
        assert response.status_code == 422, body
    listing = client.get(f"/api/v1/awards/{award.id}/entries?status=draft", headers=headers)
    assert listing.status_code == 200
    assert [e["title"] for e in listing.json()] == ["Xây dựng Đảng từ cơ sở"]


def test_a_json_body_over_the_limit_is_413_before_it_is_read(client):
    body = b'{"email": "' + b"a" * (2 * MB) + b'"}'
    response = client.post("/api/v1/auth/register", content=body,
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json() == {"detail": "Dữ liệu gửi lên quá lớn (tối đa 1024 KB)."}


def test_a_chunked_body_over_the_limit_is_413(client):
    def chunks():
        for _ in range(3):
            yield b"x" * (512 * 1024)

    response = client.post("/api/v1/auth/register", content=chunks(),
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 413


def test_an_upload_bounds_the_whole_body_not_only_the_file(client, session):
    organizer = make_user(session, role="organizer")
    award = make_award(session, organizer=organizer, status="open")
    small = make_category(session, award, organizer=organizer, code="NHO", max_file_mb=1)
    journalist = make_user(session)
    entry = make_entry(session, award, user=journalist, category=small, files=[])
    response = client.post(f"/api/v1/entries/{entry.id}/files",
                           headers=api_headers(client, journalist),
                           data={"ignored": "x" * (MB + 100 * 1024)},
                           files={"file": ("a.pdf", pdf(), "application/pdf")})
    assert response.status_code == 413
    assert session.exec(select(func.count()).select_from(EntryFile)).one() == 0


def test_malformed_multipart_uploads_are_400(client, session):
    award = make_award(session, status="open")
    journalist = make_user(session)
    entry = make_entry(session, award, user=journalist, files=[])
    headers = api_headers(client, journalist)
    url = f"/api/v1/entries/{entry.id}/files"
    long_boundary = client.post(url, content=b"--x\r\n", headers={
        **headers, "Content-Type": "multipart/form-data; boundary=" + "b" * 300})
    assert long_boundary.status_code == 400
    huge_header = (b"--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\""
                   b"\r\nX-Padding: " + b"p" * 20_000 + b"\r\n\r\n" + pdf() + b"\r\n--B--\r\n")
    response = client.post(url, content=huge_header, headers={
        **headers, "Content-Type": "multipart/form-data; boundary=B"})
    assert response.status_code == 400
    assert response.json()["detail"].startswith("Không đọc được tệp tải lên: ")
    broken = client.post(url, content=b"this is not multipart at all", headers={
        **headers, "Content-Type": "multipart/form-data; boundary=B"})
    assert broken.status_code in (400, 422)
    assert session.exec(select(func.count()).select_from(EntryFile)).one() == 0
    assert session.exec(select(Entry.status).where(Entry.id == entry.id)).one() == "draft"


def test_text_is_measured_after_normalisation(client, session):
    """U+FB2C is three characters in NFC: 200 of them are a 600-character title."""
    award = make_award(session, status="open")
    journalist = make_user(session)
    entry = make_entry(session, award, user=journalist)
    headers = api_headers(client, journalist)
    response = client.patch(f"/api/v1/entries/{entry.id}", headers=headers,
                            json={"title": "\ufb2c" * 200})
    assert response.status_code == 422
    fits = client.patch(f"/api/v1/entries/{entry.id}", headers=headers,
                        json={"title": "\ufb2c" * 100})
    assert fits.status_code == 200
    assert len(fits.json()["title"]) == 300
    register = client.post("/api/v1/auth/register", json={
        "email": "moi@example.vn", "password": "mot-mat-khau-dai", "full_name": "\ufb2c" * 100})
    assert register.status_code == 422


def test_nul_in_the_address_is_400(client):
    assert client.get("/awards/x%00y").status_code == 400
    response = client.get("/api/v1/awards?q=%00")
    assert (response.status_code, response.json()) == (
        400, {"detail": "Địa chỉ chứa ký tự không được phép."})


def test_nul_or_a_huge_password_at_login_is_simply_wrong(client, session):
    user = make_user(session)
    for username, password in ((user.email.replace("@", "\x00@"), "x"),
                               (user.email, "p" * 5000)):
        response = client.post("/api/v1/auth/token",
                               data={"username": username, "password": password})
        assert response.status_code == 401, username


def test_a_long_client_address_is_cut_to_its_column(session):
    from datetime import UTC, datetime

    from app.accounts import service
    from app.accounts.models import WebSession

    user = make_user(session)
    service.start_web_session(session, user, now=datetime.now(UTC), ip="f" * 100)
    session.flush()
    assert session.exec(select(WebSession.ip).where(WebSession.user_id == user.id)).one() == \
        "f" * 64


def _asgi_post(path: str, headers: list, body: bytes):
    """Runs one POST through the ASGI app; (status, whether the app asked for the body)."""
    import asyncio

    from app.main import app

    asked, sent = [], []

    async def receive():
        asked.append(True)
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "POST", "scheme": "http", "path": path, "raw_path": path.encode(),
             "root_path": "", "query_string": b"", "client": ("127.0.0.1", 5000),
             "server": ("testserver", 80),
             "headers": [(b"host", b"testserver"), (b"content-length", str(len(body)).encode()),
                         *headers]}
    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], bool(asked), dict(sent[0]["headers"])


def test_an_anonymous_body_to_a_signed_in_operation_is_not_read(client):
    body = b'{"title": "' + b"x" * 500_000 + b'", "year": 2026}'
    status, asked, headers = _asgi_post("/api/v1/awards",
                                        [(b"content-type", b"application/json")], body)
    assert (status, asked) == (401, False)
    assert headers[b"www-authenticate"] == b"Bearer"
    # A public operation reads its body as usual.
    status, asked, _ = _asgi_post("/api/v1/auth/register",
                                  [(b"content-type", b"application/json")], b"{}")
    assert (status, asked) == (422, True)


def test_an_anonymous_upload_is_refused_before_its_first_byte(client, session):
    award = make_award(session, status="open")
    entry = make_entry(session, award, files=[])
    session.commit()
    status, asked, _ = _asgi_post(f"/api/v1/entries/{entry.id}/files",
                                  [(b"content-type", b"multipart/form-data; boundary=B")],
                                  b"--B\r\n" + b"x" * 100_000)
    assert (status, asked) == (401, False)


@pytest.mark.parametrize("body", [
    '{"email": NaN, "password": "x", "full_name": "y"}',
    '{"email": Infinity, "password": "x", "full_name": "y"}',
    '{"email": 1e309, "password": "x", "full_name": "y"}',
    '{"email": "' + "a" * 5000 + '", "password": 5, "full_name": "y"}',
])
def test_a_422_repeating_a_non_finite_or_huge_input_is_still_json(client, body):
    response = client.post("/api/v1/auth/register", content=body,
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    echoed = [e.get("input") for e in response.json()["detail"]]
    assert all(e is None or len(str(e)) <= 201 for e in echoed)
    assert len(response.content) < 2000


def test_field_errors_are_sentences_in_the_callers_language(client, organizer):
    _, headers = organizer
    body = _award_body(year=2026.5, max_entries_per_author=2_000_000)
    del body["title"]
    response = client.post("/api/v1/awards", headers=headers, json=body)
    assert response.status_code == 422
    assert {tuple(e["loc"]): e["msg"] for e in response.json()["detail"]} == {
        ("body", "title"): "Trường này là bắt buộc.",
        ("body", "year"): "Phải là số nguyên.",
        ("body", "max_entries_per_author"): "Phải nhỏ hơn hoặc bằng 1000000.",
    }
    english = client.post("/api/v1/awards", headers={**headers, "Accept-Language": "en"},
                          json=_award_body(published_from="0001-01-01"))
    assert [e["msg"] for e in english.json()["detail"]] == [
        "Must be between the years 1900 and 2200."]
