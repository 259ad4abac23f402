"""The RSVP page: a GET changes nothing, a POST answers, and every dead end explains itself."""

import datetime

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from crm.mail.models import OutgoingMessage
from meetings.models import Gathering, GatheringDocument, Invitation
from members.models import Contact
from tests.factories import ContactFactory, InvitationFactory, MeetingFactory

pytestmark = pytest.mark.django_db


def _url(invitation, **params):
    url = reverse("rsvp:page", args=[invitation.token])
    if params:
        url += "?" + "&".join(f"{k}={v}" for k, v in params.items())
    return url


def _snapshot():
    """Everything a page view could change."""
    return (
        list(Invitation.objects.values().order_by("pk")),
        list(Invitation.history.values_list("history_id", flat=True)),
        list(OutgoingMessage.objects.values_list("pk", flat=True)),
        Contact.objects.count(),
    )


def test_get_shows_the_invitation_and_changes_nothing(client):
    invitation = InvitationFactory(contact__time_zone="Asia/Almaty")
    invitation.gathering.agenda_items.create(title="Survey results", presenter="Dr. Demo")
    before = _snapshot()
    response = client.get(_url(invitation))
    assert response.status_code == 200
    assert _snapshot() == before
    html = response.content.decode()
    assert invitation.gathering.title in html
    assert "Survey results" in html
    assert "Asia/Almaty" in html  # the invitee's own time zone next to Vienna's
    assert "Vienna time" in html
    assert "meet.example.org" not in html  # the joining link only after accepting online
    assert response["Cache-Control"] == "private, no-store"
    assert response["Referrer-Policy"] == "same-origin"


def test_post_answers_and_redirects(client, django_capture_on_commit_callbacks):
    invitation = InvitationFactory()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            _url(invitation),
            {"action": "answer", "answer": "online", "dietary": "Vegetarian", "note": "Hi"},
        )
    assert response.status_code == 302
    assert "saved=answer" in response["Location"]
    invitation.refresh_from_db()
    assert (invitation.status, invitation.mode, invitation.dietary) == (
        "accepted",
        "online",
        "Vegetarian",
    )
    assert len(mail.outbox) == 1
    page = client.get(response["Location"]).content.decode()
    assert "your answer is saved" in page
    assert "meet.example.org" in page  # accepted online: the joining link is shown


def test_post_without_a_choice_is_a_field_error(client):
    invitation = InvitationFactory()
    response = client.post(_url(invitation), {"action": "answer"})
    assert response.status_code == 400
    assert "Choose whether you will attend." in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.status == "pending"


def test_change_before_deadline_refused_after(client):
    invitation = InvitationFactory()
    client.post(_url(invitation), {"action": "answer", "answer": "in_person"})
    client.post(_url(invitation), {"action": "answer", "answer": "decline"})
    invitation.refresh_from_db()
    assert invitation.status == "declined"
    with time_machine.travel(invitation.gathering.rsvp_deadline + datetime.timedelta(minutes=1)):
        page = client.get(_url(invitation))
        assert "Answers are no longer taken" in page.content.decode()
        assert 'value="answer"' not in page.content.decode()  # no form after the deadline
        response = client.post(_url(invitation), {"action": "answer", "answer": "in_person"})
    assert response.status_code == 409
    assert "no longer" in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.status == "declined"


def test_cancelled_meeting_says_so(client):
    invitation = InvitationFactory()
    Gathering.objects.filter(pk=invitation.gathering_id).update(status="cancelled")
    html = client.get(_url(invitation)).content.decode()
    assert "has been cancelled" in html
    assert 'value="answer"' not in html


def test_unknown_token_is_a_helpful_404(client):
    response = client.get(reverse("rsvp:page", args=["no-such-token"]))
    assert response.status_code == 404
    html = response.content.decode()
    assert "This link does not work" in html
    assert reverse("rsvp:link") in html


def test_revoked_token_no_longer_works(client, coordinator):
    from meetings.services import invitation_reissue_token

    invitation = InvitationFactory()
    old = invitation.token
    invitation_reissue_token(invitation=invitation, acting_user=coordinator, send=False)
    assert client.get(reverse("rsvp:page", args=[old])).status_code == 404
    assert client.post(reverse("rsvp:page", args=[old]), {"action": "answer"}).status_code == 404
    assert client.get(_url(invitation)).status_code == 200


def test_resend_link_answers_the_same_for_unknown_addresses(
    client, django_capture_on_commit_callbacks
):
    invitation = InvitationFactory(contact__email="known@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        known = client.post(reverse("rsvp:link"), {"email": "known@example.org"})
        unknown = client.post(reverse("rsvp:link"), {"email": "stranger@example.org"})
    assert known.status_code == unknown.status_code == 200
    strip = lambda r, e: r.content.decode().replace(e, "")  # noqa: E731
    assert strip(known, "known@example.org") == strip(unknown, "stranger@example.org")
    assert [m.to[0] for m in mail.outbox] == ["known@example.org"]
    assert invitation.token in mail.outbox[0].body
    bad = client.post(reverse("rsvp:link"), {"email": "not an address"})
    assert bad.status_code == 400


def test_language_from_contact_and_switch(client):
    invitation = InvitationFactory(contact__preferred_language="ru")
    html = client.get(_url(invitation)).content.decode()
    assert '<html lang="ru">' in html
    assert "Ваш ответ" in html
    english = client.get(_url(invitation, lang="en")).content.decode()
    assert '<html lang="en">' in english
    assert "Your answer" in english
    # Unsupported languages fall back to English.
    invitation.contact.preferred_language = "fr"
    invitation.contact.save()
    assert '<html lang="en">' in client.get(_url(invitation)).content.decode()


def test_the_guest_fields_are_in_the_page_language(client):
    # Their labels were interpolated when the form was built, before the page's language was
    # chosen: a Russian page said "Guest 1: name".
    invitation = InvitationFactory(contact__preferred_language="ru", gathering__max_plus_ones=1)
    html = client.get(_url(invitation)).content.decode()
    assert "Гость № 1: имя" in html
    assert "Guest 1" not in html
    english = client.get(_url(invitation, lang="en")).content.decode()
    assert "Guest 1: name" in english


def test_substitute_through_the_page(client, django_capture_on_commit_callbacks):
    invitation = InvitationFactory()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            _url(invitation),
            {
                "action": "substitute",
                "substitute-given_name": "Mia",
                "substitute-family_name": "Berg",
                "substitute-email": "mia.berg@example.org",
            },
        )
    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.status == "replaced"
    page = client.get(response["Location"]).content.decode()
    assert "Mia Berg" in page
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        ["mia.berg@example.org", invitation.contact.email]
    )


def test_substitute_invalid_email_keeps_input(client):
    invitation = InvitationFactory()
    response = client.post(
        _url(invitation),
        {
            "action": "substitute",
            "substitute-given_name": "Mia",
            "substitute-family_name": "Berg",
            "substitute-email": "mia.berg",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'value="Mia"' in html
    assert "Enter a valid email address." in html


def test_colleague_within_seats(client):
    invitation = InvitationFactory(gathering__seats_per_org=2)
    client.post(_url(invitation), {"action": "answer", "answer": "in_person"})
    page = client.get(_url(invitation)).content.decode()
    assert "1 more seat" in page
    ContactFactory(email="colleague@example.org")
    response = client.post(
        _url(invitation),
        {
            "action": "colleague",
            "colleague-email": "colleague@example.org",
            "colleague-given_name": "x",
            "colleague-family_name": "y",
        },
    )
    assert response.status_code == 302
    assert Invitation.objects.get(contact__email="colleague@example.org").status == "accepted"
    page = client.get(_url(invitation)).content.decode()
    assert "Register a colleague" not in page  # no seats left


def test_documents_for_participants_only_after_accepting(client):
    from django.core.files.base import ContentFile

    invitation = InvitationFactory()
    gathering = invitation.gathering
    GatheringDocument.objects.create(
        gathering=gathering, title="Agenda PDF", file=ContentFile(b"x", name="agenda.pdf")
    )
    GatheringDocument.objects.create(
        gathering=gathering,
        title="Background paper",
        file=ContentFile(b"x", name="paper.pdf"),
        visibility="participants",
    )
    html = client.get(_url(invitation)).content.decode()
    assert "Agenda PDF" in html
    assert "Background paper" not in html
    client.post(_url(invitation), {"action": "answer", "answer": "in_person"})
    assert "Background paper" in client.get(_url(invitation)).content.decode()


def test_calendar_download(client):
    invitation = InvitationFactory()
    response = client.get(reverse("rsvp:calendar", args=[invitation.token]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert b"BEGIN:VCALENDAR" in response.content
    assert client.get(reverse("rsvp:calendar", args=["nope"])).status_code == 404


def test_unknown_action_is_400(client):
    invitation = InvitationFactory()
    assert client.post(_url(invitation), {"action": "delete"}).status_code == 400


def test_meeting_factory_default_is_open():
    assert MeetingFactory().status == "open"


def test_the_page_costs_the_same_queries_whatever_the_agenda(client, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import OrganizationFactory

    invitation = InvitationFactory()
    agenda = invitation.gathering.agenda_items
    agenda.create(title="Opening", organization=OrganizationFactory(), position=1)
    with CaptureQueriesContext(connection) as one_item:
        assert client.get(_url(invitation)).status_code == 200
    for position in range(2, 7):  # each presented by another organisation
        agenda.create(
            title=f"Item {position}", organization=OrganizationFactory(), position=position
        )

    with django_assert_num_queries(len(one_item)):
        response = client.get(_url(invitation))
    assert response.content.decode().count("Demo Network") >= 6
