"""An invitee answers through their personal link in a real browser: no login, only the link."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from meetings.models import Invitation
from tests.e2e.conftest import ARTIFACTS, axe_violations
from tests.factories import InvitationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ANSWER_BUTTON = "Send my answer"
# Real meeting links are long and have no spaces to wrap at.
LONG_LINK = "https://us02web.zoom.us/j/81234567890?pwd=QWxsaWFuY2VBZ2FpbnN0VHJhZmZpY2tpbmc1Mg"


@pytest.fixture(autouse=True)
def eager_tasks(settings):
    """Mail tasks run in the live server's thread and land in the locmem outbox, also where
    the environment names a broker."""
    from crm.celery import app

    before = app.conf.task_always_eager
    settings.CELERY_TASK_ALWAYS_EAGER = True
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def _open(page, live_server, invitation, query=""):
    response = page.goto(live_server.url + invitation.rsvp_path + query)
    assert response.status == 200
    return response


def _shot(page, name):
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def _section(page, heading):
    return page.locator("section.card", has=page.get_by_role("heading", name=heading, exact=True))


def _no_horizontal_scroll(page):
    # A mobile browser widens the layout viewport to fit content that overflows (and zooms
    # the page out), so compare with the device's width as well as with innerWidth.
    device = page.viewport_size["width"]
    scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll <= inner <= device, f"page is {scroll}px wide ({inner}px) on a {device}px screen"


def _within_screen(page, locator):
    box = locator.bounding_box()
    assert box["x"] >= 0, box
    assert box["x"] + box["width"] <= page.viewport_size["width"], box
    return box


def test_invitee_accepts_online_then_declines(browser_page, live_server):
    invitation = InvitationFactory(
        gathering__title="AECT 52: Survey results",
        contact__given_name="Aigerim",
        contact__family_name="Nurlanova",
        contact__time_zone="Asia/Almaty",
    )
    page = browser_page
    _open(page, live_server, invitation)

    expect(page).to_have_title(re.compile("^AECT 52: Survey results"))
    expect(page.get_by_role("heading", level=1)).to_have_text("AECT 52: Survey results")
    expect(page.get_by_role("heading", name="Invitation for Aigerim Nurlanova")).to_be_visible()
    expect(page.get_by_text("You have not answered yet.")).to_be_visible()
    when = page.locator("dl.facts dd").first
    expect(when).to_contain_text("Vienna time")
    expect(when).to_contain_text("in your time zone (Asia/Almaty)")
    expect(page.get_by_role("link", name="https://meet.example.org/aect")).to_have_count(0)
    expect(page.get_by_role("heading", name="Your answer", exact=True)).to_be_visible()
    assert axe_violations(page, "rsvp unanswered") == []
    _shot(page, "rsvp-unanswered.png")

    # Clicking the label's text chooses its radio: the labels are tied to their inputs.
    online = page.get_by_role("radio", name="Yes, I will attend online")
    expect(online).not_to_be_checked()
    page.locator("label", has_text="Yes, I will attend online").click()
    expect(online).to_be_checked()
    page.get_by_label("Dietary needs").fill("Vegetarian, no nuts")
    # A real browser sends an Origin header with the POST, which Django's CSRF check reads;
    # with a "no-referrer" policy it would be "null" and every answer a 403.
    page.get_by_role("button", name=ANSWER_BUTTON).click()

    page.wait_for_url(re.compile(r"saved=answer"))
    expect(page.get_by_role("status")).to_contain_text("your answer is saved")
    expect(page.get_by_text("You will attend online.")).to_be_visible()
    join = page.get_by_role("link", name="https://meet.example.org/aect")
    expect(join).to_be_visible()
    expect(join).to_have_attribute("href", "https://meet.example.org/aect")
    expect(page.get_by_role("heading", name="Change your answer")).to_be_visible()
    expect(online).to_be_checked()  # the form shows the saved answer
    expect(page.get_by_label("Dietary needs")).to_have_value("Vegetarian, no nuts")
    invitation.refresh_from_db()
    assert (invitation.status, invitation.mode, invitation.dietary) == (
        "accepted",
        "online",
        "Vegetarian, no nuts",
    )
    assert axe_violations(page, "rsvp accepted online") == []
    _shot(page, "rsvp-accepted-online.png")

    # Change the answer with the keyboard: the arrow key moves to the next choice in the group.
    online.focus()
    page.keyboard.press("ArrowDown")
    decline = page.get_by_role("radio", name="No, I cannot attend")
    expect(decline).to_be_checked()
    expect(decline).to_be_focused()
    page.get_by_role("button", name=ANSWER_BUTTON).click()

    page.wait_for_url(re.compile(r"saved=answer"))
    expect(page.get_by_text("You will not attend.")).to_be_visible()
    expect(decline).to_be_checked()
    expect(page.get_by_role("link", name="https://meet.example.org/aect")).to_have_count(0)
    invitation.refresh_from_db()
    assert (invitation.status, invitation.mode) == ("declined", "")
    _shot(page, "rsvp-declined.png")
    # A confirmation for each answer, to the invitee only.
    assert [m.to for m in mail.outbox] == [[invitation.contact.email]] * 2


def test_invitee_names_a_substitute(browser_page, live_server):
    invitation = InvitationFactory(contact__given_name="Jonas", contact__family_name="Weber")
    page = browser_page
    _open(page, live_server, invitation)

    section = _section(page, "Cannot come? Send a colleague")
    given_name = section.get_by_label("Given name")
    expect(given_name).to_be_hidden()  # the form waits behind its disclosure
    disclosure = section.get_by_text("Name a colleague to come instead")
    disclosure.focus()
    page.keyboard.press("Enter")
    expect(given_name).to_be_visible()
    given_name.fill("Mia")
    section.get_by_label("Family name").fill("Berg")
    section.get_by_label("E-mail").fill("mia.berg@example.org")
    _shot(page, "rsvp-substitute-form.png")
    section.get_by_role("button", name="Send my colleague the invitation").click()

    page.wait_for_url(re.compile(r"saved=substitute"))
    expect(page.get_by_role("status")).to_have_text(
        "Thank you — Mia Berg will receive an invitation of their own."
    )
    expect(page.get_by_text("You named Mia Berg to come instead")).to_be_visible()
    expect(page.get_by_role("button", name=ANSWER_BUTTON)).to_have_count(0)
    _shot(page, "rsvp-substituted.png")

    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.REPLACED
    colleague = invitation.replaced_by
    assert colleague.status == Invitation.Status.PENDING
    assert colleague.contact.email == "mia.berg@example.org"
    assert colleague.invited_via == invitation
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        ["mia.berg@example.org", invitation.contact.email]
    )
    assert colleague.token in next(m for m in mail.outbox if m.to == ["mia.berg@example.org"]).body

    # The colleague's own link works and greets them by name.
    _open(page, live_server, colleague)
    expect(page.get_by_role("heading", name="Invitation for Mia Berg")).to_be_visible()
    expect(page.get_by_text("You have not answered yet.")).to_be_visible()
    expect(page.get_by_role("button", name=ANSWER_BUTTON)).to_be_visible()
    _shot(page, "rsvp-colleague.png")


def test_page_in_the_contacts_language_and_switch_to_english(browser_page, live_server):
    invitation = InvitationFactory(contact__preferred_language="ru")
    page = browser_page  # the browser itself asks for English (locale en-GB)
    _open(page, live_server, invitation)

    expect(page.locator("html")).to_have_attribute("lang", "ru")
    russian = page.locator("nav.lang a[hreflang=ru]")
    english = page.locator("nav.lang a[hreflang=en]")
    expect(russian).to_have_text("Русский")
    expect(russian).to_have_attribute("aria-current", "true")
    expect(english).to_have_text("English")
    expect(english).not_to_have_attribute("aria-current", "true")
    assert axe_violations(page, "rsvp russian") == []
    _shot(page, "rsvp-russian.png")

    english.click()
    page.wait_for_url(re.compile(r"\?lang=en$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(english).to_have_attribute("aria-current", "true")
    expect(russian).not_to_have_attribute("aria-current", "true")
    expect(page.get_by_role("heading", name="Your answer", exact=True)).to_be_visible()

    # The answer keeps the chosen language.
    page.get_by_label("Yes, I will attend in person").check()
    page.get_by_role("button", name=ANSWER_BUTTON).click()
    page.wait_for_url(re.compile(r"lang=en&saved=answer"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_text("You will attend in person.")).to_be_visible()


def test_unknown_link_and_asking_for_the_link_again(browser_page, live_server):
    invitation = InvitationFactory(contact__email="irina@example.org")
    page = browser_page
    response = page.goto(f"{live_server.url}/rsvp/no-such-token/")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("This link does not work")
    assert axe_violations(page, "rsvp 404") == []
    _shot(page, "rsvp-404.png")

    page.get_by_label("Your e-mail address").fill("irina@example.org")
    page.get_by_role("button", name="Send me my link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")
    expect(page.get_by_role("status")).to_contain_text("If irina@example.org has an invitation")
    assert axe_violations(page, "rsvp link sent") == []
    _shot(page, "rsvp-link-sent.png")
    assert [m.to for m in mail.outbox] == [["irina@example.org"]]
    assert invitation.token in mail.outbox[0].body


def test_answer_on_a_phone(phone_page, live_server):
    invitation = InvitationFactory(
        contact__given_name="Ekaterina-Alexandra",
        contact__family_name="Konstantinopolskaya",
        contact__time_zone="Asia/Almaty",
        gathering__online_link=LONG_LINK,
    )
    page = phone_page
    _open(page, live_server, invitation)
    _no_horizontal_scroll(page)
    _shot(page, "rsvp-phone.png")

    page.get_by_text("Yes, I will attend online").tap()
    button = page.get_by_role("button", name=ANSWER_BUTTON)
    button.scroll_into_view_if_needed()
    expect(button).to_be_visible()
    box = _within_screen(page, button)
    assert box["height"] >= 44  # a comfortable touch target
    button.tap()

    page.wait_for_url(re.compile(r"saved=answer"))
    expect(page.get_by_text("You will attend online.")).to_be_visible()
    join = page.get_by_role("link", name=LONG_LINK)
    expect(join).to_be_visible()
    _within_screen(page, join)
    _no_horizontal_scroll(page)
    _shot(page, "rsvp-phone-accepted.png")
    invitation.refresh_from_db()
    assert (invitation.status, invitation.mode) == ("accepted", "online")
