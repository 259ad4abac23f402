"""An invitee to an event answers through their personal link in a real browser: guests, the
waiting list, a freed place offered and confirmed, the programme."""

import datetime
import re
import zoneinfo

import pytest
from django.core import mail
from django.utils import translation
from playwright.sync_api import expect

from crm.mail.rendering import format_moment
from meetings import services
from meetings.models import Invitation, PlusOne
from tests.e2e.conftest import ARTIFACTS, axe_violations
from tests.factories import EventFactory, InvitationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ANSWER_BUTTON = "Send my answer"
IN_PERSON = "Yes, I will attend in person"
DECLINE = "No, I cannot attend"


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


def _answer_in_the_browser(page, choice):
    page.get_by_label(choice).check()
    page.get_by_role("button", name=ANSWER_BUTTON).click()
    page.wait_for_url(re.compile(r"saved=answer"))


def _offers_to(invitation):
    return [
        m
        for m in mail.outbox
        if m.to == [invitation.contact.email] and m.subject.startswith("A place is free")
    ]


def test_invitee_accepts_with_a_plus_one(browser_page, live_server):
    event = EventFactory(title="Alliance Conference 2026")
    invitation = InvitationFactory(
        gathering=event, contact__given_name="Lena", contact__family_name="Hofer"
    )
    page = browser_page
    _open(page, live_server, invitation)

    expect(page.get_by_role("heading", level=1)).to_have_text("Alliance Conference 2026")
    expect(page.get_by_text("You have not answered yet.")).to_be_visible()
    # An in-person event: no online choice, and no colleagues to register beyond the invitee.
    expect(page.get_by_role("radio", name="Yes, I will attend online")).to_have_count(0)
    expect(page.get_by_role("heading", name="Register a colleague")).to_have_count(0)
    guests = page.get_by_role("group", name="You may bring 1 guest")
    expect(guests).to_be_visible()
    page.locator("label", has_text=IN_PERSON).click()
    guests.get_by_label("Guest 1: name").fill("Pat Guest")
    guests.get_by_label("Guest 1: e-mail (optional)").fill("pat.guest@example.org")
    _shot(page, "event-plus-one-form.png")
    page.get_by_role("button", name=ANSWER_BUTTON).click()

    page.wait_for_url(re.compile(r"saved=answer"))
    expect(page.get_by_role("status")).to_contain_text("your answer is saved")
    expect(page.get_by_text("You will attend in person.")).to_be_visible()
    expect(page.get_by_text("Your guests: Pat Guest")).to_be_visible()
    # The form shows the saved answer and guest, ready to change.
    expect(page.get_by_role("heading", name="Change your answer")).to_be_visible()
    expect(page.get_by_role("radio", name=IN_PERSON)).to_be_checked()
    expect(guests.get_by_label("Guest 1: name")).to_have_value("Pat Guest")
    expect(guests.get_by_label("Guest 1: e-mail (optional)")).to_have_value("pat.guest@example.org")
    assert axe_violations(page, "event plus-one") == []
    _shot(page, "event-plus-one.png")

    invitation.refresh_from_db()
    assert (invitation.status, invitation.mode) == ("accepted", "in_person")
    assert list(PlusOne.objects.filter(invitation=invitation).values_list("name", "email")) == [
        ("Pat Guest", "pat.guest@example.org")
    ]
    # The confirmation goes to the invitee only, not to their guest.
    assert [m.to for m in mail.outbox] == [[invitation.contact.email]]


def test_full_event_waiting_list_then_a_freed_place_is_confirmed(browser_page, live_server):
    event = EventFactory(title="Alliance Conference 2026")  # 3 places, a waiting list
    holder = InvitationFactory(gathering=event)
    services.invitation_respond(
        invitation=holder, answer="in_person", plus_ones=[{"name": "Sam Guest"}]
    )
    other = InvitationFactory(gathering=event)
    services.invitation_respond(invitation=other, answer="in_person")  # the third place
    early = InvitationFactory(gathering=event)
    services.invitation_respond(invitation=early, answer="in_person")
    early.refresh_from_db()
    assert early.status == Invitation.Status.WAITING
    invitation = InvitationFactory(
        gathering=event,
        contact__given_name="Aigerim",
        contact__family_name="Nurlanova",
        contact__time_zone="Asia/Almaty",
    )
    mail.outbox.clear()
    page = browser_page

    # Every place is taken: the answer puts the invitee on the waiting list, behind `early`.
    _open(page, live_server, invitation)
    _answer_in_the_browser(page, IN_PERSON)
    expect(page.get_by_role("status")).to_contain_text("your answer is saved")
    expect(page.get_by_text("you are on the waiting list (number 2)")).to_be_visible()
    expect(page.get_by_text("You will attend in person.")).to_have_count(0)
    expect(page.get_by_text("A place is free for you")).to_have_count(0)
    expect(page.get_by_role("radio", name=IN_PERSON)).to_be_checked()
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.WAITING
    assert invitation.offer_expires_at is None
    assert axe_violations(page, "event waiting") == []
    _shot(page, "event-waiting.png")

    # `other` declines through their own page: the freed place goes to the first in line.
    _open(page, live_server, other)
    _answer_in_the_browser(page, DECLINE)
    expect(page.get_by_text("You will not attend.")).to_be_visible()
    early.refresh_from_db()
    assert early.offer_running
    _open(page, live_server, invitation)
    expect(page.get_by_text("you are on the waiting list (number 2)")).to_be_visible()
    expect(page.get_by_text("A place is free for you")).to_have_count(0)
    assert not _offers_to(invitation)

    # `holder` declines (through the service), freeing two places: now it is our invitee's turn.
    services.invitation_respond(invitation=holder, answer="decline")
    invitation.refresh_from_db()
    assert invitation.offer_running
    _open(page, live_server, invitation)
    with translation.override("en"):
        deadline = format_moment(
            invitation.offer_expires_at, event.time_zone, invitation.contact.time_zone
        )
    assert "in your time zone (Asia/Almaty)" in deadline
    offer = page.get_by_role("status")
    expect(offer).to_contain_text("A place is free for you.")
    expect(offer).to_contain_text(f"Please confirm by {deadline}")
    expect(page.get_by_text("A place is free for you: please confirm it.")).to_be_visible()
    expect(page.get_by_text("waiting list (number")).to_have_count(0)
    expect(page.get_by_role("radio", name=IN_PERSON)).to_be_checked()
    assert axe_violations(page, "event offer") == []
    _shot(page, "event-offer.png")

    offers = _offers_to(invitation)
    assert [m.subject for m in offers] == ["A place is free for you: Alliance Conference 2026"]
    assert invitation.rsvp_url in offers[0].body
    assert deadline in offers[0].body

    # Confirm with the button: the place is theirs.
    expect(page.get_by_role("heading", name="Confirm your place")).to_be_visible()
    page.get_by_role("button", name="Confirm my place").click()
    page.wait_for_url(re.compile(r"saved=answer"))
    expect(page.get_by_role("status")).to_contain_text("your answer is saved")
    expect(page.get_by_text("You will attend in person.")).to_be_visible()
    expect(page.get_by_text("A place is free for you")).to_have_count(0)
    expect(page.get_by_role("link", name="Add to my calendar (.ics)")).to_be_visible()
    _shot(page, "event-offer-confirmed.png")
    invitation.refresh_from_db()
    assert (invitation.status, invitation.mode) == ("accepted", "in_person")
    assert invitation.offer_expires_at is None


def test_event_without_substitutes_lists_its_programme(browser_page, live_server):
    event = EventFactory(title="Expert Event on Labour Exploitation", substitutes_allowed=False)
    vienna = zoneinfo.ZoneInfo("Europe/Vienna")
    day = event.starts_at.astimezone(vienna).date()

    def at(hour, minute):
        return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=vienna)

    # Entered out of order: the page lists them by time.
    event.sessions.create(starts_at=at(11, 15), title="Panel: Supply chains", speakers="Panel")
    event.sessions.create(
        starts_at=at(9, 30), title="Opening session", room="Neuer Saal", speakers="Chair"
    )
    invitation = InvitationFactory(gathering=event)
    page = browser_page
    _open(page, live_server, invitation)

    expect(page.get_by_role("heading", name="Cannot come? Send a colleague")).to_have_count(0)
    expect(page.get_by_text("Name a colleague to come instead")).to_have_count(0)
    expect(page.get_by_role("button", name=ANSWER_BUTTON)).to_be_visible()
    sessions = _section(page, "Programme").get_by_role("listitem")
    expect(sessions).to_have_count(2)
    expect(sessions.nth(0)).to_contain_text("09:30 Opening session · Neuer Saal")
    expect(sessions.nth(0)).to_contain_text("Chair")
    expect(sessions.nth(1)).to_contain_text("11:15 Panel: Supply chains")
    assert axe_violations(page, "event programme") == []
    _shot(page, "event-programme.png")


def test_plus_one_form_on_a_phone(phone_page, live_server):
    invitation = InvitationFactory(
        gathering=EventFactory(title="Alliance Conference 2026"),
        contact__given_name="Ekaterina-Alexandra",
        contact__family_name="Konstantinopolskaya",
    )
    page = phone_page
    _open(page, live_server, invitation)
    _no_horizontal_scroll(page)

    page.get_by_text(IN_PERSON).tap()
    name = page.get_by_label("Guest 1: name")
    email = page.get_by_label("Guest 1: e-mail (optional)")
    name.fill("Maximilian-Alexander von Hohenberg-Schwarzenstein")
    email.fill("maximilian-alexander.hohenberg-schwarzenstein@ministerium.example.org")
    for field in (name, email):
        _within_screen(page, field)
    button = page.get_by_role("button", name=ANSWER_BUTTON)
    button.scroll_into_view_if_needed()
    box = _within_screen(page, button)
    assert box["height"] >= 44  # a comfortable touch target
    _no_horizontal_scroll(page)
    _shot(page, "event-plus-one-phone.png")
    button.tap()

    page.wait_for_url(re.compile(r"saved=answer"))
    expect(
        page.get_by_text("Your guests: Maximilian-Alexander von Hohenberg-Schwarzenstein")
    ).to_be_visible()
    _no_horizontal_scroll(page)
    _shot(page, "event-plus-one-phone-saved.png")
    assert invitation.plus_ones.get().name == "Maximilian-Alexander von Hohenberg-Schwarzenstein"
