"""The published schema declares what the API really answers (schemathesis checks the
answers themselves, in test_schemathesis.py)."""

import pytest

from app.storage import CONTENT_TYPES


@pytest.fixture(scope="module")
def schema():
    from app.main import app

    return app.openapi()


def _responses(schema, method, path):
    return schema["paths"][f"/api/v1{path}"][method]["responses"]


def test_a_422_carries_a_message_or_the_list_of_fields(schema):
    detail = schema["components"]["schemas"]["HTTPValidationError"]["properties"]["detail"]
    assert detail["anyOf"] == [
        {"type": "string"},
        {"type": "array", "items": {"$ref": "#/components/schemas/ValidationError"}},
    ]


def test_an_entry_is_the_authors_view_the_organizers_or_a_judges(schema):
    content = _responses(schema, "get", "/entries/{entry_id}")["200"]["content"]
    assert content["application/json"]["schema"]["anyOf"] == [
        {"$ref": "#/components/schemas/EntryOrganizerView"},
        {"$ref": "#/components/schemas/EntryPublic"},
        {"$ref": "#/components/schemas/EntryJudgeView"},
    ]


@pytest.mark.parametrize(("method", "path", "codes"), [
    ("post", "/auth/register", ["201", "400", "409", "413", "422", "429"]),
    ("post", "/auth/token", ["200", "400", "401", "413", "422", "429"]),
    ("delete", "/auth/token", ["204", "400", "401"]),
    ("get", "/me", ["200", "400", "401"]),
    ("get", "/awards", ["200", "400", "422"]),
    ("get", "/awards/{award_id}", ["200", "400", "404", "422"]),
    ("post", "/awards", ["201", "400", "401", "403", "409", "413", "422"]),
    ("get", "/entries/{entry_id}", ["200", "400", "401", "404", "422"]),
    ("post", "/entries/{entry_id}/files", ["201", "400", "401", "403", "404", "409", "413",
                                           "415", "422", "507"]),
    ("delete", "/entries/{entry_id}/files/{file_id}", ["204", "400", "401", "403", "404", "409",
                                                       "422"]),
    ("get", "/audit", ["200", "400", "401", "403", "422"]),
    ("get", "/outbox", ["200", "400", "401", "403", "422"]),
    ("get", "/outbox/{mail_id}", ["200", "400", "401", "403", "404", "422"]),
    ("post", "/outbox/{mail_id}/resend", ["200", "400", "401", "403", "404", "409", "422"]),
    ("post", "/auth/verification", ["202", "400", "401", "409", "429"]),
    ("post", "/auth/verification/confirm", ["200", "400", "413", "422"]),
    ("post", "/auth/password-reset", ["202", "400", "413", "422", "429"]),
    ("post", "/auth/password-reset/confirm", ["200", "400", "413", "422"]),
    ("post", "/me/email", ["202", "400", "401", "409", "413", "422", "429"]),
    ("post", "/auth/email-change/confirm", ["200", "400", "409", "413", "422"]),
    ("post", "/users/invitations", ["201", "400", "401", "403", "409", "413", "422"]),
    ("post", "/users/invitations/accept", ["200", "400", "409", "413", "422"]),
    ("post", "/users/invitations/{invitation_id}/resend", ["201", "400", "401", "403", "404",
                                                           "409", "422"]),
])
def test_each_route_declares_the_errors_it_answers(schema, method, path, codes):
    responses = _responses(schema, method, path)
    assert sorted(responses) == codes
    for code in codes:
        if code not in ("200", "201", "202", "204", "422"):
            assert responses[code]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/Error"}


def test_lists_declare_their_total_and_files_their_types(schema):
    for path in ("/users", "/awards", "/awards/{award_id}/categories", "/me/entries",
                 "/awards/{award_id}/entries", "/audit", "/outbox",
                 "/users/invitations"):
        headers = _responses(schema, "get", path)["200"]["headers"]
        assert headers["X-Total-Count"]["required"] is True
    download = _responses(schema, "get", "/files/{file_id}")["200"]["content"]
    assert sorted(download) == sorted(CONTENT_TYPES)
    assert list(_responses(schema, "get", "/awards/{award_id}/entries.csv")["200"]["content"]) == [
        "text/csv"]
