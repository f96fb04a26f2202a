from app import i18n
from app.validation import readable, sentence


def _vi(fn):
    token = i18n.current_language.set("vi")
    try:
        return fn()
    finally:
        i18n.current_language.reset(token)


def test_each_known_type_becomes_our_sentence_with_its_limits():
    errors = [
        {"type": "less_than_equal", "loc": ["body", "n"], "msg": "x", "ctx": {"le": 100}},
        {"type": "string_too_long", "loc": ["body", "t"], "msg": "x", "ctx": {"max_length": 5}},
        {"type": "literal_error", "loc": ["body", "d"], "msg": "x",
         "ctx": {"expected": "'accept', 'return' or 'reject'"}},
    ]
    assert [e["msg"] for e in _vi(lambda: readable(errors))] == [
        "Phải nhỏ hơn hoặc bằng 100.",
        "Tối đa 5 ký tự.",
        "Phải là một trong các giá trị: 'accept', 'return' or 'reject'.",
    ]
    assert readable(errors)[0]["loc"] == ["body", "n"]


def test_unknown_types_and_missing_context_keep_pydantics_message():
    assert sentence({"type": "uuid_parsing", "msg": "Input should be a valid UUID"}) == \
        "Input should be a valid UUID"
    assert sentence({"type": "greater_than_equal", "msg": "Input should be >= 1"}) == \
        "Input should be >= 1"


def test_our_value_errors_are_translated():
    error = {"type": "value_error", "msg": "Value error, A number is expected, not true or false.",
             "ctx": {"error": ValueError("A number is expected, not true or false.")}}
    assert _vi(lambda: sentence(error)) == "Cần một con số, không phải true hoặc false."
