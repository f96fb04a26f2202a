from tests.factories import api_headers, make_award, make_entry, make_user, publish

AWARD = {
    "title": "Giải báo chí về xây dựng Đảng tỉnh Ninh Thuận năm 2021", "year": 2021,
    "rules": "## Thể lệ", "submission_opens_at": "2021-05-01T08:00:00+07:00",
    "submission_closes_at": "2021-10-31T17:00:00+07:00", "published_from": "2020-11-01",
    "published_to": "2021-10-31", "max_entries_per_author": 3, "max_authors_per_entry": 5,
    "max_series_parts": 5,
}
CATEGORY = {"code": "BDT", "name": "Báo điện tử", "accepted_kinds": ["pdf", "image"],
            "max_file_mb": 50, "url_required": True, "prize_quota": {"A": 1, "B": 2, "C": 3, "KK": 4}}


def _organizer(client, session):
    return api_headers(client, make_user(session, role="organizer"))


def test_create_award_is_201_draft(client, session):
    response = client.post("/api/v1/awards", json=AWARD, headers=_organizer(client, session))
    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["slug"], body["timezone"]) == (
        "draft", "giai-bao-chi-ve-xay-dung-dang-tinh-ninh-thuan-nam-2021", "Asia/Ho_Chi_Minh")
    assert body["max_entries_per_author"] == 3


def test_create_award_with_bad_window_is_422(client, session):
    response = client.post("/api/v1/awards", headers=_organizer(client, session), json={
        **AWARD, "submission_closes_at": "2021-04-01T08:00:00+07:00"})
    assert response.status_code == 422
    assert response.json() == {
        "detail": "Thời điểm kết thúc nhận tác phẩm phải sau thời điểm bắt đầu."}


def test_public_sees_no_drafts(client, session):
    draft = make_award(session)
    opened = make_award(session, status="open")
    listed = client.get("/api/v1/awards")
    ids = [a["id"] for a in listed.json()]
    assert opened.id in ids and draft.id not in ids
    assert listed.headers["x-total-count"] == str(len(ids))
    assert client.get(f"/api/v1/awards/{draft.id}").status_code == 404
    assert client.get(f"/api/v1/awards/{opened.id}").status_code == 200
    journalist = api_headers(client, make_user(session))
    assert client.get(f"/api/v1/awards/{draft.id}", headers=journalist).status_code == 404
    assert client.get(f"/api/v1/awards/{draft.id}",
                      headers=_organizer(client, session)).status_code == 200


def test_patch_moves_status_and_refuses_forbidden_moves(client, session):
    award = make_award(session, categories=1)
    headers = _organizer(client, session)
    response = client.patch(f"/api/v1/awards/{award.id}", json={"status": "published"},
                            headers=headers)
    assert response.status_code == 409
    assert response.json() == {
        "detail": "Không thể chuyển giải từ trạng thái “Bản nháp” sang “Đã công bố kết quả”."}
    for target in ("open", "closed", "judging"):
        response = client.patch(f"/api/v1/awards/{award.id}", json={"status": target},
                                headers=headers)
        assert (response.status_code, response.json()["status"]) == (200, target)
        if target == "open":
            make_entry(session, award, status="accepted")
    response = client.patch(f"/api/v1/awards/{award.id}", json={"status": "published"},
                            headers=headers)
    assert response.status_code == 409
    assert response.json() == {"detail": "Hãy phân bổ giải trước khi công bố kết quả."}
    publish(session, award, organizer=make_user(session, role="organizer"))
    assert client.patch(f"/api/v1/awards/{award.id}", json={"status": "open"},
                        headers=headers).status_code == 409


def test_opening_without_categories_is_409(client, session):
    award = make_award(session, categories=0)
    response = client.patch(f"/api/v1/awards/{award.id}", json={"status": "open"},
                            headers=_organizer(client, session))
    assert response.status_code == 409


def test_failed_patch_changes_nothing(client, session):
    award = make_award(session, categories=0)
    headers = _organizer(client, session)
    response = client.patch(f"/api/v1/awards/{award.id}", headers=headers,
                            json={"title": "Tên mới", "status": "open"})
    assert response.status_code == 409
    assert client.get(f"/api/v1/awards/{award.id}", headers=headers).json()["title"] == award.title


def test_patch_fields(client, session):
    award = make_award(session)
    response = client.patch(f"/api/v1/awards/{award.id}", headers=_organizer(client, session),
                            json={"max_entries_per_author": 1, "rules": "Thể lệ mới"})
    assert response.status_code == 200
    assert (response.json()["max_entries_per_author"], response.json()["rules"]) == (1, "Thể lệ mới")


def test_categories_create_and_list(client, session):
    award = make_award(session, categories=0)
    headers = _organizer(client, session)
    response = client.post(f"/api/v1/awards/{award.id}/categories", json=CATEGORY, headers=headers)
    assert response.status_code == 201
    assert {k: response.json()[k] for k in CATEGORY} == {**CATEGORY,
                                                         "accepted_kinds": ["image", "pdf"]}
    listed = client.get(f"/api/v1/awards/{award.id}/categories", headers=headers)
    assert [c["code"] for c in listed.json()] == ["BDT"]
    assert listed.headers["x-total-count"] == "1"


def test_duplicate_category_code_is_409(client, session):
    award = make_award(session, categories=0)
    headers = _organizer(client, session)
    client.post(f"/api/v1/awards/{award.id}/categories", json=CATEGORY, headers=headers)
    response = client.post(f"/api/v1/awards/{award.id}/categories", json=CATEGORY, headers=headers)
    assert response.status_code == 409


def test_bad_category_kind_is_422(client, session):
    award = make_award(session, categories=0)
    response = client.post(f"/api/v1/awards/{award.id}/categories",
                           json={**CATEGORY, "accepted_kinds": ["exe"]},
                           headers=_organizer(client, session))
    assert response.status_code == 422
    assert response.json() == {"detail": "Loại tệp không hợp lệ: exe."}


def test_public_reads_categories_of_open_awards_only(client, session):
    opened = make_award(session, status="open", categories=2)
    draft = make_award(session, categories=1)
    assert [c["code"] for c in client.get(f"/api/v1/awards/{opened.id}/categories").json()] == [
        "C1", "C2"]
    assert client.get(f"/api/v1/awards/{draft.id}/categories").status_code == 404


def test_audit_log_is_for_organizers(client, session):
    award = make_award(session, categories=1)
    headers = _organizer(client, session)
    client.patch(f"/api/v1/awards/{award.id}", json={"status": "open", "reason": "Đúng kế hoạch"},
                 headers=headers)
    response = client.get(f"/api/v1/audit?object_type=award&object_id={award.id}", headers=headers)
    assert response.status_code == 200
    latest = response.json()[0]
    assert (latest["action"], latest["changes"], latest["reason"]) == (
        "award.status", {"status": ["draft", "open"]}, "Đúng kế hoạch")
    assert client.get("/api/v1/audit", headers=api_headers(client, make_user(session))
                      ).status_code == 403


def test_renaming_a_category_to_a_taken_code_is_409(client, session):
    award = make_award(session, categories=2)
    headers = _organizer(client, session)
    second = client.get(f"/api/v1/awards/{award.id}/categories", headers=headers).json()[1]
    response = client.patch(f"/api/v1/categories/{second['id']}", headers=headers,
                            json={"code": "C1", "prize_quota": None})
    assert response.status_code == 409
    assert response.json() == {"detail": "Mã này đã được một thể loại khác của giải sử dụng."}


def test_ids_and_offsets_beyond_the_database_range_are_422(client, session):
    headers = _organizer(client, session)
    huge = 10**20
    assert client.get(f"/api/v1/awards/{huge}", headers=headers).status_code == 422
    assert client.post(f"/api/v1/entries/{huge}/submit", headers=headers).status_code == 422
    assert client.get(f"/api/v1/audit?offset={huge}", headers=headers).status_code == 422
    assert client.get(f"/api/v1/audit?object_id={huge}", headers=headers).status_code == 422
