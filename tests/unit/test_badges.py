"""Status badges (static/app.css): one colour per status within each kind of object, and text
that reads at WCAG AA contrast (4.5:1) on its background."""

import re
from pathlib import Path

import pytest

from app.awards.rules import STATUS_LABELS
from app.entries.rules import STATUS_LABELS as ENTRY_STATUS_LABELS

CSS = re.sub(r"/\*.*?\*/", "", (Path(__file__).resolve().parents[2] / "static/app.css").read_text(
    encoding="utf-8"), flags=re.S)


def _colours(cls: str) -> tuple[str, str]:
    """The background and text colour of ``.cls`` as the cascade ends (the last rule wins)."""
    background = colour = None
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", CSS):
        if f".{cls}" not in [s.strip() for s in selectors.split(",")]:
            continue
        if m := re.search(r"background:\s*(#[0-9a-f]{6})", body):
            background = m.group(1)
        if m := re.search(r"(?<![-\w])color:\s*(#[0-9a-f]{6})", body):
            colour = m.group(1)
    assert background and colour, cls
    return background, colour


def _contrast(a: str, b: str) -> float:
    def luminance(hex_colour: str) -> float:
        channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


KINDS = {
    "entry": [f"badge-{s.value}" for s in ENTRY_STATUS_LABELS],
    "award": [f"badge-{s.value}" for s in STATUS_LABELS],
    "round": ["badge-round-setup", "badge-round-scoring", "badge-round-closed"],
    "mail": ["badge-mail-queued", "badge-mail-sent", "badge-mail-failed"],
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_status_has_its_own_colour(kind):
    backgrounds = [_colours(cls)[0] for cls in KINDS[kind]]
    assert len(set(backgrounds)) == len(backgrounds) == len(KINDS[kind])


@pytest.mark.parametrize("cls", sorted({c for classes in KINDS.values() for c in classes}))
def test_badge_text_has_aa_contrast(cls):
    assert _contrast(*_colours(cls)) >= 4.5


def test_the_entry_statuses_are_the_six_the_issue_names():
    assert sorted(s.value for s in ENTRY_STATUS_LABELS) == sorted(
        ["draft", "submitted", "returned", "accepted", "rejected", "withdrawn"])
