"""Every message the code and templates use has a Vietnamese translation."""

import os
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
        # babel's default skips folders starting with "_": templates/_partials holds words too.
        directory_filter=lambda path: not os.path.basename(path).startswith(".")
        and os.path.basename(path) not in ("__pycache__", "node_modules", ".venv"),
    ):
        found.update([message] if isinstance(message, str) else [m for m in message if m])
    return found


def test_every_message_has_a_vietnamese_translation():
    with (ROOT / "app/locale/vi/LC_MESSAGES/messages.po").open("rb") as fh:
        catalog = read_po(fh, locale="vi")
    translated = set()
    for m in catalog:
        if not m.id:
            continue
        if m.pluralizable:  # msgid and msgid_plural, translated when every form is
            if all(m.string):
                translated.update(m.id)
        elif m.string:
            translated.add(m.id)
    missing = sorted(_used_messages() - translated)
    assert missing == []


def test_placeholders_survive_translation():
    with (ROOT / "app/locale/vi/LC_MESSAGES/messages.po").open("rb") as fh:
        catalog = read_po(fh, locale="vi")
    import re

    placeholder = re.compile(r"\{\w+\}|%\(\w+\)s")
    broken = []
    for m in catalog:
        if not m.id or not m.string:
            continue
        if m.pluralizable:
            # Vietnamese has one form, which keeps the plural's placeholders.
            expected = sorted(placeholder.findall(m.id[1]))
            if any(sorted(placeholder.findall(form)) != expected for form in m.string):
                broken.append(m.id)
        elif sorted(placeholder.findall(m.id)) != sorted(placeholder.findall(m.string)):
            broken.append(m.id)
    assert broken == []


def test_counts_are_worded_through_plural_entries():
    """English says "1 entry" and "2 entries": counts go through ngettext, whose catalog
    entries carry msgid_plural and Vietnamese's single form (Plural-Forms: nplurals=1)."""
    with (ROOT / "app/locale/vi/LC_MESSAGES/messages.po").open("rb") as fh:
        catalog = read_po(fh, locale="vi")
    assert catalog.plural_forms == "nplurals=1; plural=0;"
    plural = {m.id[0]: m for m in catalog if m.id and m.pluralizable}
    assert plural["%(num)s entry"].id == ("%(num)s entry", "%(num)s entries")
    assert plural["%(num)s entry"].string == ("%(num)s tác phẩm",)
    assert all(len(m.string) == 1 and m.string[0] for m in plural.values())
    used = _used_plurals()
    assert len(used) >= 20 and used <= {m.id for m in plural.values()}


def test_english_and_vietnamese_plurals_render():
    from app import i18n

    token = i18n.current_language.set("en")
    try:
        assert i18n.ngettext("%(num)s entry", "%(num)s entries", 1) % {"num": 1} == "1 entry"
        assert i18n.ngettext("%(num)s entry", "%(num)s entries", 2) % {"num": 2} == "2 entries"
    finally:
        i18n.current_language.reset(token)
    token = i18n.current_language.set("vi")
    try:
        assert i18n.ngettext("%(num)s entry", "%(num)s entries", 1) % {"num": 1} == "1 tác phẩm"
        assert i18n.ngettext("%(num)s entry", "%(num)s entries", 5) % {"num": 5} == "5 tác phẩm"
    finally:
        i18n.current_language.reset(token)


def _used_plurals() -> set[tuple[str, str]]:
    """(singular, plural) of every ngettext call in the code and templates."""
    method_map = [("app/**.py", "python"), ("templates/**.html", "jinja2"),
                  ("templates/**.txt", "jinja2")]
    options = {"templates/**.html": {"extensions": "jinja2.ext.i18n"},
               "templates/**.txt": {"extensions": "jinja2.ext.i18n"}}
    return {tuple(message[:2]) for _f, _l, message, _c, _ctx in extract_from_dir(
        str(ROOT), method_map, options, keywords={"ngettext": (1, 2)})
        if not isinstance(message, str)}


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
