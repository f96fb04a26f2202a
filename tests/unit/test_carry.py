"""What a form sent after its session ended may carry through sign-in (no database)."""

from starlette.datastructures import FormData

from app.accounts import carry


def test_a_form_keeps_its_text_fields_in_order_but_not_tokens_passwords_or_confirmation():
    form = FormData([("csrf_token", "abc"), ("title", "Tiêu đề"), ("password", "bi-mat"),
                     ("new_password", "x"), ("confirmed", "1"), ("tag", "a"), ("tag", "b")])
    kept = carry.from_form("/entries/7", form)
    assert kept == carry.Carried("/entries/7", (("title", "Tiêu đề"), ("tag", "a"),
                                                ("tag", "b")))
    assert carry.decode("/entries/7", kept.encoded()) == kept


def test_sign_in_and_password_pages_and_other_sites_are_never_carried():
    for action in ("/login", "/register", "/me/password", "/reset-password?token=x",
                   "https://ke-gian.example/a", "//ke-gian.example/a", "", None):
        assert carry.may_carry(action) is None, action
    assert carry.may_carry("/entries/7?tab=1") == "/entries/7?tab=1"


def test_too_much_text_is_not_carried():
    big = FormData([("summary", "đ" * (carry.MAX_BYTES // 2 + 1))])
    assert carry.from_form("/entries/7", big) is None


def test_a_tampered_carried_form_is_dropped_or_cleaned():
    assert carry.decode("/entries/7", "not json") is None
    assert carry.decode("/entries/7", '{"a": "b"}') is None
    assert carry.decode("/entries/7", '[["a", 1]]') is None
    assert carry.decode("/login", '[["a", "b"]]') is None
    cleaned = carry.decode("/me", '[["csrf_token", "x"], ["password", "y"], ["a", "b"]]')
    assert cleaned.fields == (("a", "b"),)


def test_only_a_form_from_this_site_is_recognised_without_its_session():
    assert carry.same_site_request("giaibao.vn", "https://giaibao.vn", None) is True
    assert carry.same_site_request("giaibao.vn", None, "https://giaibao.vn/me") is True
    assert carry.same_site_request("giaibao.vn", "https://ke-gian.example", None) is False
    assert carry.same_site_request("giaibao.vn", "null", None) is False
    assert carry.same_site_request("giaibao.vn", None, None) is False
