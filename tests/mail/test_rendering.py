"""Rendering: language fallback, two time zones, and calendar files that parse back."""

import datetime
import zoneinfo

import pytest
from django.utils import translation
from icalendar import Calendar

from crm.calendar import invitation_ics, uid_for
from crm.mail.rendering import format_moment, mail_language, render_mail
from meetings import services
from meetings.models import Gathering
from tests.factories import InvitationFactory

VIENNA = zoneinfo.ZoneInfo("Europe/Vienna")


def test_language_fallback():
    assert mail_language("ru") == "ru"
    assert mail_language("fr") == "en"
    assert mail_language("") == "en"
    assert mail_language(None) == "en"


def test_moment_in_both_time_zones():
    moment = datetime.datetime(2026, 5, 12, 10, 0, tzinfo=VIENNA)
    with translation.override("en"):
        same = format_moment(moment, "Europe/Vienna", "Europe/Berlin")
        both = format_moment(moment, "Europe/Vienna", "Asia/Almaty")
    assert same == "Tuesday, 12 May 2026, 10:00 Vienna time"
    assert both == (
        "Tuesday, 12 May 2026, 10:00 Vienna time — 13:00 in your time zone (Asia/Almaty)"
    )


def test_moment_on_another_day_names_the_date():
    moment = datetime.datetime(2026, 5, 12, 22, 0, tzinfo=VIENNA)
    with translation.override("en"):
        text = format_moment(moment, "Europe/Vienna", "Asia/Tokyo")
    assert text.endswith("Wednesday, 13 May 2026, 05:00 in your time zone (Asia/Tokyo)")


def test_moment_in_russian():
    moment = datetime.datetime(2026, 5, 12, 10, 0, tzinfo=VIENNA)
    with translation.override("ru"):
        text = format_moment(moment, "Europe/Vienna", "Asia/Almaty")
    assert "мая" in text
    assert "Asia/Almaty" in text


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "expected"), [("en", "Invitation"), ("ru", "Приглашение")])
def test_invitation_rendered_in_the_contact_language(language, expected):
    invitation = InvitationFactory(contact__preferred_language=language)
    from meetings.services.mail import invitation_context

    subject, text, html = render_mail(
        "meetings/mail/invitation", invitation_context(invitation), language
    )
    assert subject.startswith(expected)
    assert invitation.rsvp_url in text
    assert invitation.rsvp_url in html
    assert "&lt;" not in text  # text mail is not HTML-escaped


def _event(ics: str):
    calendar = Calendar.from_ical(ics)
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 1
    return calendar, events[0]


@pytest.mark.django_db
def test_ics_lifecycle_request_update_cancel(coordinator):
    invitation = InvitationFactory()
    meeting = invitation.gathering

    calendar, event = _event(invitation_ics(invitation))
    assert str(calendar["method"]) == "REQUEST"
    assert str(event["uid"]) == uid_for(meeting.pk, invitation.contact_id)
    assert event["sequence"] == 0
    assert event["attendee"].params["PARTSTAT"] == "NEEDS-ACTION"
    assert event.decoded("dtstart") == meeting.starts_at
    assert str(event.decoded("dtstart").tzinfo) == "Europe/Vienna"

    services.invitation_respond(invitation=invitation, answer="in_person")
    invitation.refresh_from_db()
    _, event = _event(invitation_ics(invitation))
    assert event["attendee"].params["PARTSTAT"] == "ACCEPTED"
    assert "Hofburg" in str(event["location"])

    services.gathering_update(
        gathering=meeting,
        acting_user=coordinator,
        venue="Palais Niederösterreich",
    )
    invitation.refresh_from_db()
    _, event = _event(invitation_ics(invitation))
    assert event["sequence"] == 1
    assert str(event["uid"]) == uid_for(meeting.pk, invitation.contact_id)
    assert "Niederösterreich" in str(event["location"])

    services.gathering_cancel(gathering=meeting, acting_user=coordinator)
    invitation.refresh_from_db()
    calendar, event = _event(invitation_ics(invitation))
    assert str(calendar["method"]) == "CANCEL"
    assert event["sequence"] == 2
    assert str(event["status"]) == "CANCELLED"
    assert Gathering.objects.get(pk=meeting.pk).status == "cancelled"


@pytest.mark.django_db
def test_ics_decline_is_a_cancel_with_declined_partstat():
    invitation = InvitationFactory()
    services.invitation_respond(invitation=invitation, answer="decline")
    invitation.refresh_from_db()
    calendar, event = _event(invitation_ics(invitation))
    assert str(calendar["method"]) == "CANCEL"
    assert event["attendee"].params["PARTSTAT"] == "DECLINED"


@pytest.mark.django_db
def test_ics_online_participant_gets_the_link_as_location():
    invitation = InvitationFactory()
    services.invitation_respond(invitation=invitation, answer="online")
    invitation.refresh_from_db()
    _, event = _event(invitation_ics(invitation))
    assert str(event["location"]) == "https://meet.example.org/aect"


@pytest.mark.django_db
def test_subjects_are_plain_text_not_html_escaped():
    invitation = InvitationFactory(gathering__title="Partners' panel & <review>")
    from meetings.services.mail import invitation_context

    subject, text, html = render_mail(
        "meetings/mail/invitation", invitation_context(invitation), "en"
    )
    assert subject == "Invitation: Partners' panel & <review>"
    assert "Partners' panel & <review>" in text
    assert "Partners&#x27; panel &amp; &lt;review&gt;" in html
