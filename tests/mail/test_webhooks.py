"""Delivery events from the mail provider: Mailgun's tracking webhook through django-anymail,
posted here as Mailgun posts it (JSON, HTTP basic auth, HMAC signature)."""

import base64
import hashlib
import hmac
import json
import secrets
import smtplib
import time

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.test import Client
from django.urls import reverse

from crm.exceptions import ApplicationError
from crm.mail import services
from crm.mail.models import AddressHold, DeliveryEvent, OutgoingMessage
from tests.factories import ContactFactory
from tests.mail import backends

pytestmark = pytest.mark.django_db
Status = OutgoingMessage.Status
BASIC_AUTH = "mailgun-hook:8c4d1f2e9a"
SIGNING_KEY = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"
URL = "/mail/anymail/mailgun/tracking/"


@pytest.fixture(autouse=True)
def provider(settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": BASIC_AUTH, "MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY}
    settings.MAIL_HARD_BOUNCE_HOLD_THRESHOLD = 1
    settings.MAIL_ON_HOLD_HOOK = None
    settings.EMAIL_BACKEND = "tests.mail.backends.ScriptedBackend"
    settings.CELERY_TASK_ALWAYS_EAGER = True
    from crm.celery import app

    app.conf.task_always_eager = True
    backends.reset()
    yield
    backends.reset()


@pytest.fixture
def provider_client():
    """The provider posts without a session or CSRF token."""
    return Client(enforce_csrf_checks=True)


def _signature(key=SIGNING_KEY, timestamp=None, token=None):
    timestamp = timestamp or str(int(time.time()))
    token = token or secrets.token_hex(25)
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256)
    return {"timestamp": timestamp, "token": token, "signature": signature.hexdigest()}


def _payload(event, recipient, message_id, *, severity=None, token=None, **extra):
    """A Mailgun webhook body as documented (event-data of a "failed" event and friends)."""
    data = {
        "event": event,
        "id": secrets.token_urlsafe(16),
        "timestamp": time.time(),
        "log-level": "error" if event in ("failed", "rejected", "complained") else "info",
        "recipient": recipient,
        "recipient-domain": recipient.rsplit("@", 1)[-1],
        "envelope": {
            "sender": "alliance@example.org",
            "transport": "smtp",
            "targets": recipient,
        },
        "flags": {"is-routed": False, "is-authenticated": True, "is-test-mode": False},
        "message": {
            "headers": {
                "to": recipient,
                # Mailgun reports the Message-ID header without its angle brackets.
                "message-id": message_id.strip("<>"),
                "from": "Alliance CRM <alliance@example.org>",
                "subject": "AECT meeting: reminder",
            },
            "attachments": [],
            "size": 4242,
        },
        "tags": [],
        "user-variables": {},
        "storage": {"url": "https://storage.eu.mailgun.net/v3/domains/x/messages/y", "key": "y"},
        **extra,
    }
    if severity:
        data["severity"] = severity
    if event == "failed":
        data["reason"] = "bounce" if severity == "permanent" else "generic"
        data["delivery-status"] = {
            "attempt-no": 1,
            "code": 550 if severity == "permanent" else 452,
            "message": "5.1.1 The email account that you tried to reach does not exist."
            if severity == "permanent"
            else "4.2.2 Mailbox full, try again later",
            "description": "",
            "session-seconds": 1.2,
            "mx-host": "mx.example.net",
            "tls": True,
        }
    return {"signature": _signature(token=token), "event-data": data}


def _auth(credentials=BASIC_AUTH):
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(credentials.encode()).decode()}


def _post(client, body, auth=BASIC_AUTH):
    headers = _auth(auth) if auth else {}
    return client.post(URL, data=json.dumps(body), content_type="application/json", **headers)


def _sent_message(contact=None, key="remind:1", essential=False, django_capture=None):
    contact = contact or ContactFactory()
    with django_capture(execute=True):
        message, _ = services.message_create(
            key=key,
            purpose="reminder",
            subject="AECT meeting: reminder",
            body_text="See you in Vienna.",
            contact=contact,
            essential=essential,
        )
    message.refresh_from_db()
    return message


def _bounce(client, message, **kwargs):
    return _post(client, _payload("failed", message.to_email, message.message_id, **kwargs))


# --- The webhook ----------------------------------------------------------------------------


def test_hard_bounce_is_stored_linked_and_holds_the_address(
    provider_client, django_capture_on_commit_callbacks
):
    message = _sent_message(django_capture=django_capture_on_commit_callbacks)
    assert message.status == Status.SENT

    response = _bounce(provider_client, message, severity="permanent")

    assert response.status_code == 200
    event = DeliveryEvent.objects.get()
    assert event.esp == "Mailgun"
    assert event.event_type == DeliveryEvent.Type.BOUNCED
    assert event.message == message
    assert event.recipient == message.to_email
    assert event.esp_message_id == message.message_id
    assert "does not exist" in event.mta_response
    assert event.raw["event-data"]["severity"] == "permanent"
    hold = AddressHold.objects.get()
    assert hold.email == message.to_email
    assert hold.reason == AddressHold.Reason.BOUNCES
    assert hold.bounce_count == 1
    assert hold.contact == message.contact
    assert hold.is_active


def test_later_mail_to_a_held_address_is_suppressed_even_when_essential(
    provider_client, django_capture_on_commit_callbacks
):
    message = _sent_message(django_capture=django_capture_on_commit_callbacks)
    _bounce(provider_client, message, severity="permanent")
    mail.outbox = []

    with django_capture_on_commit_callbacks(execute=True):
        later, created = services.message_create(
            key="invite:2",
            purpose="invitation",
            subject="Invitation",
            body_text="Please come.",
            contact=message.contact,
            essential=True,
        )

    assert created
    assert later.status == Status.SUPPRESSED
    assert "on hold after bounces" in later.last_error
    assert mail.outbox == []


def test_a_coordinator_cannot_resend_to_a_held_address(
    provider_client, coordinator, django_capture_on_commit_callbacks
):
    backends.reset([smtplib.SMTPResponseException(550, b"no such user")])
    message = _sent_message(django_capture=django_capture_on_commit_callbacks)
    assert message.status == Status.FAILED
    _bounce(provider_client, message, severity="permanent")

    with pytest.raises(ApplicationError, match="on hold"):
        services.message_resend(message=message, acting_user=coordinator)


def test_mail_waiting_for_the_address_is_suppressed_when_the_hold_starts(
    provider_client, django_capture_on_commit_callbacks
):
    message = _sent_message(django_capture=django_capture_on_commit_callbacks)
    waiting, _ = services.message_create(  # committed but not yet sent
        key="digest:1", purpose="digest", subject="x", body_text="x", contact=message.contact
    )
    other, _ = services.message_create(
        key="digest:2", purpose="digest", subject="x", body_text="x", contact=ContactFactory()
    )

    _bounce(provider_client, message, severity="permanent")

    waiting.refresh_from_db()
    other.refresh_from_db()
    assert waiting.status == Status.SUPPRESSED
    assert other.status == Status.QUEUED


def test_threshold_counts_hard_bounces_only(
    provider_client, settings, django_capture_on_commit_callbacks
):
    settings.MAIL_HARD_BOUNCE_HOLD_THRESHOLD = 2
    message = _sent_message(django_capture=django_capture_on_commit_callbacks)

    _bounce(provider_client, message, severity="temporary")  # Mailgun "failed", temporary: deferred
    _bounce(provider_client, message, severity="permanent")
    assert not AddressHold.objects.exists()

    _post(provider_client, _payload("rejected", message.to_email, message.message_id))
    hold = AddressHold.objects.get()
    assert hold.bounce_count == 2
    assert sorted(DeliveryEvent.objects.values_list("event_type", flat=True)) == [
        "bounced",
        "deferred",
        "rejected",
    ]
    _bounce(provider_client, message, severity="permanent")  # already held: counted on the hold
    hold.refresh_from_db()
    assert hold.bounce_count == 3
    assert AddressHold.objects.count() == 1


def test_a_complaint_always_holds(provider_client, settings, django_capture_on_commit_callbacks):
    settings.MAIL_HARD_BOUNCE_HOLD_THRESHOLD = 5
    message = _sent_message(django_capture=django_capture_on_commit_callbacks)

    _post(provider_client, _payload("complained", message.to_email, message.message_id))

    hold = AddressHold.objects.get()
    assert hold.reason == AddressHold.Reason.COMPLAINT
    assert hold.bounce_count == 0
    later, _ = services.message_create(
        key="x", purpose="update", subject="x", body_text="x", contact=message.contact
    )
    assert later.status == Status.SUPPRESSED
    assert "complaint" in later.last_error


def test_event_about_an_unknown_message_is_stored_all_the_same(provider_client):
    response = _post(
        provider_client,
        _payload(
            "failed", "Someone@Elsewhere.example", "<abc@mailer.example>", severity="permanent"
        ),
    )

    assert response.status_code == 200
    event = DeliveryEvent.objects.get()
    assert event.message is None
    assert event.esp_message_id == "<abc@mailer.example>"
    assert event.recipient == "someone@elsewhere.example"
    assert AddressHold.objects.get().email == "someone@elsewhere.example"


def test_redelivered_event_is_stored_and_counted_once(
    provider_client, settings, django_capture_on_commit_callbacks
):
    settings.MAIL_HARD_BOUNCE_HOLD_THRESHOLD = 2
    message = _sent_message(django_capture=django_capture_on_commit_callbacks)
    body = _payload("failed", message.to_email, message.message_id, severity="permanent")

    assert _post(provider_client, body).status_code == 200
    assert _post(provider_client, body).status_code == 200  # Mailgun retries when it saw no 200

    assert DeliveryEvent.objects.count() == 1
    assert not AddressHold.objects.exists()


def test_delivered_is_recorded_and_opens_are_not(
    provider_client, django_capture_on_commit_callbacks
):
    message = _sent_message(django_capture=django_capture_on_commit_callbacks)

    _post(provider_client, _payload("delivered", message.to_email, message.message_id))
    _post(provider_client, _payload("opened", message.to_email, message.message_id))

    assert list(DeliveryEvent.objects.values_list("event_type", flat=True)) == ["delivered"]
    assert not AddressHold.objects.exists()


@pytest.mark.parametrize(
    ("auth", "body_change"),
    [
        (None, None),  # no basic auth
        ("mailgun-hook:wrong", None),  # wrong basic auth
        (BASIC_AUTH, "signature"),  # right auth, signed with another key
        (BASIC_AUTH, "unsigned"),  # right auth, no signature block
    ],
)
def test_wrong_or_missing_credentials_are_refused(provider_client, auth, body_change):
    body = _payload("complained", "victim@example.org", "<x@example.org>")
    if body_change == "signature":
        body["signature"] = _signature(key="key-not-ours")
    elif body_change == "unsigned":
        del body["signature"]

    response = _post(provider_client, body, auth=auth)

    assert response.status_code == 400
    assert not DeliveryEvent.objects.exists()
    assert not AddressHold.objects.exists()


def test_endpoint_is_absent_until_configured(provider_client, settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": "", "MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY}
    body = _payload("complained", "victim@example.org", "<x@example.org>")

    assert _post(provider_client, body).status_code == 404
    assert _post(provider_client, body, auth=None).status_code == 404
    assert not DeliveryEvent.objects.exists()


def test_url_is_under_mail_anymail():
    assert reverse("mail:anymail_mailgun_tracking") == URL


# --- Releasing a hold -----------------------------------------------------------------------


def test_release_lets_mail_go_again_and_bounces_count_afresh(
    provider_client, settings, coordinator, django_capture_on_commit_callbacks
):
    message = _sent_message(django_capture=django_capture_on_commit_callbacks)
    _bounce(provider_client, message, severity="permanent")

    hold = services.address_hold_release(email=message.to_email.upper(), acting_user=coordinator)

    assert hold.released_by == coordinator
    assert hold.released_at is not None
    later = _sent_message(
        contact=message.contact, key="remind:2", django_capture=django_capture_on_commit_callbacks
    )
    assert later.status == Status.SENT
    # The bounce before the release no longer counts towards a new hold.
    settings.MAIL_HARD_BOUNCE_HOLD_THRESHOLD = 2
    _bounce(provider_client, later, severity="permanent")
    assert not AddressHold.objects.filter(released_at__isnull=True).exists()
    _bounce(provider_client, later, severity="permanent")
    new = AddressHold.objects.get(released_at__isnull=True)
    assert new.bounce_count == 2
    assert AddressHold.objects.count() == 2  # the released one stays as the record


def test_releasing_an_address_not_on_hold_is_refused(coordinator):
    with pytest.raises(ApplicationError, match="not on hold"):
        services.address_hold_release(email="nobody@example.org", acting_user=coordinator)


# --- The hook for follow-ups ----------------------------------------------------------------

hook_calls: list = []


def record_hold(hold):
    hook_calls.append((hold.email, hold.reason, hold.pk is not None))


def broken_hook(hold):
    ContactFactory(email="written-by-the-hook@example.org")
    raise RuntimeError("follow-ups are down")


def test_hook_is_called_once_when_a_hold_starts(
    provider_client, settings, django_capture_on_commit_callbacks
):
    settings.MAIL_ON_HOLD_HOOK = "tests.mail.test_webhooks.record_hold"
    hook_calls.clear()
    message = _sent_message(django_capture=django_capture_on_commit_callbacks)

    _bounce(provider_client, message, severity="permanent")
    _bounce(provider_client, message, severity="permanent")  # the hold exists: no second call

    assert hook_calls == [(message.to_email, "bounces", True)]


def test_a_failing_hook_is_rolled_back_but_the_hold_stays(
    provider_client, settings, django_capture_on_commit_callbacks
):
    settings.MAIL_ON_HOLD_HOOK = "tests.mail.test_webhooks.broken_hook"
    message = _sent_message(django_capture=django_capture_on_commit_callbacks)

    assert _bounce(provider_client, message, severity="permanent").status_code == 200

    assert AddressHold.objects.filter(email=message.to_email).exists()
    from members.models import Contact

    assert not Contact.objects.filter(email="written-by-the-hook@example.org").exists()


# --- Back office ----------------------------------------------------------------------------


def test_back_office_lists_events_and_holds_and_releases(
    provider_client, coordinator_client, coordinator, django_capture_on_commit_callbacks
):
    coordinator.user_permissions.add(*Permission.objects.filter(content_type__app_label="mail"))
    message = _sent_message(django_capture=django_capture_on_commit_callbacks)
    _bounce(provider_client, message, severity="permanent")
    hold = AddressHold.objects.get()
    event = DeliveryEvent.objects.get()

    events = coordinator_client.get(reverse("admin:mail_deliveryevent_changelist"))
    assert events.status_code == 200
    assert message.to_email in events.content.decode()
    assert (
        coordinator_client.get(
            reverse("admin:mail_deliveryevent_change", args=[event.pk])
        ).status_code
        == 200
    )
    holds_url = reverse("admin:mail_addresshold_changelist")
    holds = coordinator_client.get(holds_url, {"active": "yes"})
    assert holds.status_code == 200
    assert message.to_email in holds.content.decode()
    assert (
        coordinator_client.get(reverse("admin:mail_addresshold_change", args=[hold.pk])).status_code
        == 200
    )

    coordinator_client.post(holds_url, {"action": "release", "_selected_action": [hold.pk]})

    hold.refresh_from_db()
    assert hold.released_by == coordinator
    # Read-only records: the back office may not add, edit or delete them.
    assert coordinator_client.get(reverse("admin:mail_addresshold_add")).status_code == 403
    assert (
        coordinator_client.post(
            reverse("admin:mail_deliveryevent_delete", args=[event.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert DeliveryEvent.objects.exists()


def test_back_office_refuses_anonymous(client):
    assert client.get(reverse("admin:mail_addresshold_changelist")).status_code == 302
