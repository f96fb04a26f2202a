"""The list's cursor: a signed, opaque token of the last row's sort keys (rules.py)."""

from datetime import UTC, datetime

import pytest

from app.entries.rules import decode_cursor, encode_cursor
from app.errors import Invalid

KEY = b"k" * 32
VALUES = {"code": (3, "BDT-012", 41), "author": ("2511", 7), "title": ("4033001", 9),
          "newest": (datetime(2026, 11, 29, 4, 50, 1, 123456, tzinfo=UTC), 12)}


@pytest.mark.parametrize("sort", sorted(VALUES))
def test_a_cursor_gives_back_its_values(sort):
    token = encode_cursor(sort, VALUES[sort], key=KEY)
    assert decode_cursor(token, sort, key=KEY) == VALUES[sort]


def test_a_draft_without_code_keeps_its_none():
    token = encode_cursor("code", (3, None, 41), key=KEY)
    assert decode_cursor(token, "code", key=KEY) == (3, None, 41)


def test_another_key_another_sort_or_a_changed_byte_is_refused():
    token = encode_cursor("title", VALUES["title"], key=KEY)
    with pytest.raises(Invalid) as other_key:
        decode_cursor(token, "title", key=b"x" * 32)
    assert other_key.value.message.startswith("This cursor is not valid")
    with pytest.raises(Invalid) as other_sort:
        decode_cursor(token, "author", key=KEY)
    assert other_sort.value.message == "This cursor belongs to another sort order."
    body, mac = token.split(".")
    changed = ("A" if body[0] != "A" else "B") + body[1:]
    for bad in (f"{changed}.{mac}", token + "x", "", ".", "a.b.c", "%%%.%%%"):
        with pytest.raises(Invalid) as refused:
            decode_cursor(bad, "title", key=KEY)
        assert refused.value.field == "cursor"
