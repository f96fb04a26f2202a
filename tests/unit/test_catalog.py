"""Every message the code and templates use has a Vietnamese translation."""

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]


def _used_messages() -> set[str]:
    method_map = [("app/**.py", "python"), ("templates/**.html", "jinja2"),
                  ("templates/**.txt", "jinja2")]  # the plain-text parts of mails
    options = {"templates/**.html": {"extensions": "jinja2.ext.i18n"},
               "templates/**.txt": {"extensions": "jinja2.ext.i18n"}}
    found = set()
    for _file, _line, message, _comments, _ctx in extract_from_dir(
        str(ROOT), method_map, options, keywords={"_": None, "N_": None, "gettext": None,
                                                   "ngettext": (1, 2)},
    ):
        found.update([message] if isinstance(message, str) else [m for m in message if m])
    return found


def test_every_message_has_a_vietnamese_translation():
    with (ROOT / "app/locale/vi/LC_MESSAGES/messages.po").open("rb") as fh:
        catalog = read_po(fh, locale="vi")
    translated = {m.id for m in catalog if m.id and m.string}
    missing = sorted(_used_messages() - translated)
    assert missing == []


def test_placeholders_survive_translation():
    with (ROOT / "app/locale/vi/LC_MESSAGES/messages.po").open("rb") as fh:
        catalog = read_po(fh, locale="vi")
    import re

    placeholder = re.compile(r"\{\w+\}|%\(\w+\)s")
    broken = [m.id for m in catalog if m.id and m.string
              and sorted(placeholder.findall(m.id)) != sorted(placeholder.findall(m.string))]
    assert broken == []


def _raw_msgids(text: str) -> list[str]:
    """Each msgid of a .po file as written (continuation lines joined), duplicates kept."""
    import re

    ids = []
    for block in re.findall(r'^msgid ((?:".*"\n)+)', text, re.MULTILINE):
        ids.append("".join(re.findall(r'"(.*)"', block)))
    return [i for i in ids if i]


def test_no_message_is_translated_twice():
    """Branches append to the catalog (a union merge): the same msgid twice would silently
    keep only one of two translations."""
    from collections import Counter

    text = (ROOT / "app/locale/vi/LC_MESSAGES/messages.po").read_text(encoding="utf-8")
    assert [m for m, n in Counter(_raw_msgids(text)).items() if n > 1] == []
