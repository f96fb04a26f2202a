"""The accessibility hook itself (tests/e2e/axe.py): a page with known faults, loaded in a
watched context, is reported with the rule, the element and the address; a clean page of the
portal is not."""


def test_the_hook_reports_the_rule_the_element_and_the_address(browser, live_server, axe_watch):
    context = browser.new_context(base_url=live_server)
    page = context.new_page()
    url = f"{live_server}/axe-self-test?x=1"
    page.route(url, lambda route: route.fulfill(
        status=200, content_type="text/html; charset=utf-8",
        body='<!doctype html><html lang="vi"><head><title>Thử</title></head><body><main>'
             '<img src="/static/favicon.svg"><a href="/"></a>'
             '<p style="color:#bbb;background:#fff">Chữ nhạt</p></main></body></html>'))
    page.goto(url)
    page.goto("/login")
    context.close()
    axe_watch.check_pending(browser.unwatched)
    found = sorted((v.url, v.rule, tuple(v.targets)) for v in axe_watch.violations)
    report = axe_watch.report()
    axe_watch.reset()  # the faults were planted: they must not fail this test at teardown
    assert found == [(url, "color-contrast", ("p",)), (url, "image-alt", ("img",)),
                     (url, "link-name", ("a",))]
    assert "image-alt (critical): Images must have alternative text" in report
    assert "axe-core found 3 WCAG 2.2 A/AA violation(s) on the 2 page load(s)" in report
