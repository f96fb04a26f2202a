"""What a form sent after its session ended may carry through sign-in (no database)."""

from starlette.datastructures import FormData

from app.accounts import carry


def _back(kept: carry.Carried, **over) -> carry.Carried | None:
    """The carried form as the sign-in page sends it back (``over`` tampers with it)."""
    sent = {"action": kept.action, "encoded": kept.encoded(), "owner": str(kept.user_id),
            "signature": kept.signature(), **over}
    return carry.decode(sent["action"], sent["encoded"], sent["owner"], sent["signature"])


def test_a_form_keeps_its_text_fields_in_order_but_not_tokens_passwords_or_confirmation():
    form = FormData([("csrf_token", "abc"), ("title", "Tiêu đề"), ("password", "bi-mat"),
                     ("new_password", "x"), ("confirmed", "1"), ("tag", "a"), ("tag", "b"),
                     ("carried_for", "9"), ("carried_sig", "z")])
    kept = carry.from_form("/entries/7", form, 42)
    assert kept == carry.Carried("/entries/7", (("title", "Tiêu đề"), ("tag", "a"),
                                                ("tag", "b")), 42)
    assert _back(kept) == kept


def test_sign_in_and_password_pages_and_other_sites_are_never_carried():
    for action in ("/login", "/register", "/me/password", "/reset-password?token=x",
                   "https://ke-gian.example/a", "//ke-gian.example/a", "/\t/ke-gian.example/a",
                   "/\n/ke-gian.example", "", None):
        assert carry.may_carry(action) is None, repr(action)
    assert carry.may_carry("/entries/7?tab=1") == "/entries/7?tab=1"


def test_too_much_text_is_not_carried():
    big = FormData([("summary", "đ" * (carry.MAX_BYTES // 2 + 1))])
    assert carry.from_form("/entries/7", big, 1) is None


def test_a_carried_form_is_signed_for_its_account():
    kept = carry.from_form("/entries/7", FormData([("title", "Tiêu đề")]), 42)
    assert _back(kept, owner="43") is None          # offered to another account: no
    assert _back(kept, action="/admin/users/invitations") is None
    assert _back(kept, encoded='[["title", "Khác"]]') is None
    assert _back(kept, signature="") is None
    assert _back(kept, owner="4 2") is None
    assert _back(kept, owner="٤٢") is None


def test_a_tampered_carried_form_is_dropped():
    def signed(action, encoded):
        return carry.decode(action, encoded, "1", carry._signature(1, action, encoded))

    assert signed("/entries/7", "not json") is None
    assert signed("/entries/7", '{"a": "b"}') is None
    assert signed("/entries/7", '[["a", 1]]') is None
    assert signed("/login", '[["a", "b"]]') is None
    cleaned = signed("/me", '[["csrf_token", "x"], ["password", "y"], ["a", "b"]]')
    assert cleaned.fields == (("a", "b"),)
