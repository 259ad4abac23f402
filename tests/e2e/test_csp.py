"""The Content-Security-Policy in a real browser: every kind of page loads without a single
violation, and the parts driven by JavaScript still work under it."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS
from tests.factories import ContactFactory, InvitationFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Runs before any script of the page: records every violation the browser reports.
LISTEN = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__csp.push(
    `${e.violatedDirective} blocked ${e.blockedURI || 'inline'} at ${e.sourceFile}:${e.lineNumber}`
  );
});
"""


@pytest.fixture
def page(browser_page):
    browser_page.add_init_script(LISTEN)
    browser_page.console_messages_seen = []
    browser_page.on("console", lambda m: browser_page.console_messages_seen.append(m.text))
    browser_page.on("pageerror", lambda e: browser_page.console_messages_seen.append(str(e)))
    return browser_page


def _visit(page, url, name):
    response = page.goto(url)
    assert response.status == 200, (name, response.status)
    assert "script-src 'self'" in response.headers["content-security-policy"], name
    page.wait_for_load_state("networkidle")
    return response


def _no_violations(page, name):
    violations = page.evaluate("window.__csp")
    refused = [
        m for m in page.console_messages_seen if "Content Security Policy" in m or "Refused" in m
    ]
    page.screenshot(path=str(ARTIFACTS / f"csp-{name}.png"), full_page=True)
    assert violations == [], (name, violations)
    assert refused == [], (name, refused)
    page.console_messages_seen.clear()


def _alpine_started(page, name):
    # Alpine removes x-cloak when it has initialised the page; under a policy that blocked
    # its evaluator the back office would stay hidden.
    assert page.evaluate("typeof window.Alpine === 'object'"), name
    assert not page.evaluate("document.documentElement.hasAttribute('x-cloak')"), name


def test_no_page_violates_the_policy_and_all_still_work(page, live_server):
    UserFactory(username="csp-admin", is_staff=True, is_superuser=True)
    contact = ContactFactory(given_name="Irina", family_name="Volkova")
    invitation = InvitationFactory(gathering__title="AECT 53: Policy review")
    base = live_server.url

    # The RSVP page, anonymous: the answer form is there and works as a form.
    _visit(page, base + invitation.rsvp_path, "rsvp")
    expect(page.get_by_role("button", name="Send my answer")).to_be_visible()
    _no_violations(page, "rsvp")
    # The listener does see a violation: an injected inline script is refused and reported.
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.__ran = 1'; document.body.appendChild(s); }"
    )
    page.wait_for_function("window.__csp.length > 0")
    assert page.evaluate("window.__ran") is None
    page.evaluate("window.__csp = []")
    page.console_messages_seen.clear()

    # The back office: login, the contact list, a change form, the reports.
    _visit(page, base + "/admin/login/?next=/admin/", "login")
    _alpine_started(page, "login")
    _no_violations(page, "login")
    page.fill("input[name=username]", "csp-admin")
    page.fill("input[name=password]", "correct horse battery")
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_url(f"{base}/admin/")
    _alpine_started(page, "index")
    _no_violations(page, "index")

    _visit(page, f"{base}/admin/members/contact/", "contact-list")
    _alpine_started(page, "contact-list")
    expect(page.get_by_text("Volkova").first).to_be_visible()
    # A JS-driven bit: the select-all checkbox of the list ticks every row (admin actions.js).
    page.check("#action-toggle")
    assert page.locator("input[name=_selected_action]:checked").count() >= 1
    _no_violations(page, "contact-list")

    _visit(page, f"{base}/admin/members/contact/{contact.pk}/change/", "contact-change")
    _alpine_started(page, "contact-change")
    expect(page.locator("input[name=family_name]")).to_have_value("Volkova")
    _no_violations(page, "contact-change")

    _visit(page, f"{base}/admin/reports/", "reports")
    _alpine_started(page, "reports")
    expect(page.locator("svg[role=img]").first).to_be_visible()
    _no_violations(page, "reports")

    # Swagger UI renders the operations from the schema, with its init script as a file.
    _visit(page, f"{base}/api/docs/", "swagger")
    page.wait_for_selector(".opblock", timeout=20_000)
    assert page.locator(".opblock").count() > 10
    _no_violations(page, "swagger")

    # The browsable API: its scripts ran (prettify coloured the JSON, Bootstrap opens the
    # format menu of the GET button).
    _visit(page, f"{base}/api/v1/contacts/", "browsable-api")
    assert page.locator("pre.prettyprint span.str").count() > 0
    page.click("button.dropdown-toggle")
    expect(page.locator(".dropdown-menu a", has_text="json").first).to_be_visible()
    _no_violations(page, "browsable-api")
