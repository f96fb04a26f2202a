"""axe-core over every page the browser journeys load (WCAG 2.0, 2.1 and 2.2, levels A and AA).

Every context made from the ``browser`` fixture is watched. On each ``load`` of each page, the
page's DOM as the user sees it (after our scripts ran) is copied: one quick evaluate, so the
journey is not slowed and a page left at once is still caught. At the end of the test each
copy is served again at its own address in a separate, unwatched context (same styles, same
viewport, scripts removed since their work is already in the copy) and axe-core (bundled by
the ``axe-playwright-python`` package) checks it. Violations fail the test at teardown with
the rule, the elements and the address, so any page a journey reaches is checked without
the journey saying so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
OPTIONS = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"],
           "iframes": False}
# A page already left when its copy was asked for: its successor is copied on its own load.
GONE = ("Execution context was destroyed", "Target page, context or browser has been closed",
        "Target closed", "has been closed", "Frame was detached")
SCRIPT = re.compile(r"<script\b[^>]*>.*?</script\s*>", re.IGNORECASE | re.DOTALL)


@cache
def axe_source() -> str:
    import axe_playwright_python

    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text("utf-8")


@dataclass
class Snapshot:
    url: str
    html: str
    viewport: dict | None


@dataclass
class Violation:
    url: str
    rule: str
    impact: str
    help: str
    targets: list[str]

    def __str__(self) -> str:
        where = "; ".join(self.targets[:6]) + (" …" if len(self.targets) > 6 else "")
        return f"{self.url}\n      {self.rule} ({self.impact}): {self.help}\n      at: {where}"


@dataclass
class AxeWatch:
    """The pages a test loaded and what axe found on them."""

    pending: list[Snapshot] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)

    def reset(self) -> None:
        self.pending.clear()
        self.checked.clear()
        self.violations.clear()

    def watch_context(self, context) -> None:
        context.on("page", self.watch_page)
        for page in context.pages:
            self.watch_page(page)
        close = context.close

        def settle_then_close(*args, **kwargs):
            self.settle(context)
            return close(*args, **kwargs)

        context.close = settle_then_close

    def settle(self, context) -> None:
        """Copies each open page (a journey that ends right after a navigation closes its
        context before the load's copy is taken); copies already taken are not repeated."""
        for page in context.pages:
            if not page.is_closed():
                self.copy(page)

    def watch_page(self, page) -> None:
        page.on("load", self.copy)
        # The copy of a load is taken while the journey goes on; a journey that navigates
        # again at once (goto after goto) would leave the page first: copy it before leaving.
        for name in ("goto", "reload", "go_back", "go_forward"):
            setattr(page, name, self._copy_first(page, getattr(page, name)))

    def _copy_first(self, page, navigate):
        def navigate_after_copy(*args, **kwargs):
            self.copy(page)
            return navigate(*args, **kwargs)

        return navigate_after_copy

    def copy(self, page) -> None:
        from playwright.sync_api import Error

        url = page.url
        if not url.startswith("http") or "/static/" in url or "/files/" in url:
            return  # a file the browser shows itself (PDF, picture), not one of our pages
        try:
            html = page.evaluate("document.documentElement.outerHTML")
        except Error as error:
            if any(sign in str(error) for sign in GONE):
                return
            raise
        snapshot = Snapshot(url.split("#")[0], "<!DOCTYPE html>\n" + html, page.viewport_size)
        if snapshot not in self.pending:
            self.pending.append(snapshot)

    def check_pending(self, browser) -> None:
        """Runs axe on every copy taken since the last call (``browser``: unwatched)."""
        if not self.pending:
            return
        snapshots, self.pending = self.pending, []
        context = browser.new_context()
        try:
            page = context.new_page()
            for snap in snapshots:
                if snap.viewport:
                    page.set_viewport_size(snap.viewport)
                body = SCRIPT.sub("", snap.html)
                page.route(_same(snap.url), _serve(body))
                page.goto(snap.url, wait_until="load")
                page.unroute_all()
                page.evaluate(axe_source())
                result = page.evaluate("options => axe.run(document, options)", OPTIONS)
                self.checked.append(snap.url)
                for rule in result["violations"]:
                    targets = [" ".join(map(str, node["target"])) for node in rule["nodes"]]
                    self.violations.append(Violation(snap.url, rule["id"],
                                                     rule.get("impact") or "", rule["help"],
                                                     targets))
        finally:
            context.close()

    def report(self) -> str:
        lines = [f"axe-core found {len(self.violations)} WCAG 2.2 A/AA violation(s) "
                 f"on the {len(self.checked)} page load(s) of this test:"]
        lines += [f"  - {v}" for v in self.violations]
        return "\n".join(lines)


def _same(target: str):
    return lambda url: url == target


def _serve(body: str):
    return lambda route: route.fulfill(status=200, content_type="text/html; charset=utf-8",
                                       body=body)


class WatchedBrowser:
    """The Playwright browser, whose every new context (and so every page) is watched."""

    def __init__(self, browser, watch: AxeWatch):
        self._browser = browser
        self._watch = watch

    @property
    def unwatched(self):
        return self._browser

    def new_context(self, *args, **kwargs):
        context = self._browser.new_context(*args, **kwargs)
        self._watch.watch_context(context)
        return context

    def new_page(self, *args, **kwargs):
        page = self._browser.new_page(*args, **kwargs)
        self._watch.watch_page(page)
        return page

    def __getattr__(self, name):
        return getattr(self._browser, name)
