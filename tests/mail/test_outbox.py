import datetime
import smtplib

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from crm.exceptions import ApplicationError
from crm.mail import services
from crm.mail.models import OutgoingMessage
from crm.mail.tasks import dispatch_outbox, send_messages, unsubscribe_url
from tests.factories import ContactFactory, OrganizationFactory
from tests.mail import backends

pytestmark = pytest.mark.django_db
Status = OutgoingMessage.Status


@pytest.fixture(autouse=True)
def scripted_mail(settings):
    settings.EMAIL_BACKEND = "tests.mail.backends.ScriptedBackend"
    settings.CELERY_TASK_ALWAYS_EAGER = True
    from crm.celery import app

    app.conf.task_always_eager = True
    backends.reset()
    yield
    backends.reset()


def _create(key="k1", contact=None, essential=False, **kwargs):
    contact = contact or ContactFactory()
    return services.message_create(
        key=key,
        purpose="reminder",
        subject="Hello",
        body_text="Text",
        contact=contact,
        essential=essential,
        **kwargs,
    )


def test_message_is_a_row_first_and_is_sent_after_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        message, created = _create(about=OrganizationFactory())
    assert created
    assert message.status == Status.QUEUED
    assert mail.outbox == []  # nothing leaves before the transaction commits
    for callback in callbacks:
        callback()
    message.refresh_from_db()
    assert message.status == Status.SENT
    assert message.attempts == 1
    assert len(mail.outbox) == 1
    assert mail.outbox[0].extra_headers["Message-ID"] == message.message_id
    assert message.about is not None


def test_same_key_never_creates_a_second_row(django_capture_on_commit_callbacks):
    contact = ContactFactory()
    with django_capture_on_commit_callbacks(execute=True):
        first, created_first = _create(key="invite:1:2", contact=contact)
        second, created_second = _create(key="invite:1:2", contact=contact)
    assert (created_first, created_second) == (True, False)
    assert first.pk == second.pk
    assert OutgoingMessage.objects.count() == 1
    assert len(mail.outbox) == 1


def test_message_id_is_deterministic():
    assert OutgoingMessage.message_id_for("a") == OutgoingMessage.message_id_for("a")
    assert OutgoingMessage.message_id_for("a") != OutgoingMessage.message_id_for("b")


def test_replayed_task_sends_nothing_twice(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message, _ = _create()
    assert send_messages([message.pk]) == {"sent": 0, "retry": 0, "failed": 0}
    assert len(mail.outbox) == 1


def test_non_essential_mail_to_an_opted_out_contact_is_suppressed(
    django_capture_on_commit_callbacks,
):
    contact = ContactFactory(mail_opt_out_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        reminder, _ = _create(key="r", contact=contact)
        invitation, _ = _create(key="i", contact=contact, essential=True)
    reminder.refresh_from_db()
    invitation.refresh_from_db()
    assert reminder.status == Status.SUPPRESSED
    assert invitation.status == Status.SENT
    assert [m.extra_headers["Message-ID"] for m in mail.outbox] == [invitation.message_id]


def test_non_essential_mail_carries_one_click_unsubscribe(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _create(key="r")
        _create(key="i", essential=True)
    reminder, invitation = mail.outbox
    assert reminder.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert reminder.extra_headers["List-Unsubscribe"].startswith("<http")
    assert "List-Unsubscribe" not in invitation.extra_headers


def test_contact_without_address_is_refused():
    with pytest.raises(ApplicationError):
        _create(contact=ContactFactory(email=""))


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (smtplib.SMTPResponseException(421, b"try later"), services.RETRY),
        (smtplib.SMTPDataError(451, b"greylisted"), services.RETRY),
        (smtplib.SMTPResponseException(550, b"no such user"), services.FAIL),
        (smtplib.SMTPSenderRefused(553, b"bad sender", "a@b"), services.FAIL),
        (smtplib.SMTPRecipientsRefused({"a@b": (450, b"busy")}), services.RETRY),
        (smtplib.SMTPRecipientsRefused({"a@b": (550, b"unknown")}), services.FAIL),
        (smtplib.SMTPServerDisconnected("gone"), services.RETRY),
        (ConnectionRefusedError(), services.RETRY),
        (TimeoutError(), services.RETRY),
        (ValueError("a bug"), services.FAIL),
    ],
)
def test_errors_are_classified(error, expected):
    assert services.classify_error(error) == expected


def test_temporary_error_is_retried_later_with_backoff(django_capture_on_commit_callbacks):
    backends.reset([smtplib.SMTPResponseException(421, b"busy")])
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            message, _ = _create()
        message.refresh_from_db()
        assert message.status == Status.RETRY
        assert message.next_attempt_at == start + datetime.timedelta(seconds=60)
        assert "421" in message.last_error
        assert dispatch_outbox()["enqueued"] == 0  # not due yet
    with time_machine.travel(start + datetime.timedelta(seconds=61), tick=False):
        assert dispatch_outbox()["enqueued"] == 1
    message.refresh_from_db()
    assert message.status == Status.SENT
    assert message.attempts == 2
    assert len(mail.outbox) == 1


def test_permanent_error_fails_without_retry(django_capture_on_commit_callbacks):
    backends.reset([smtplib.SMTPResponseException(550, b"no such user")])
    with django_capture_on_commit_callbacks(execute=True):
        message, _ = _create()
    message.refresh_from_db()
    assert message.status == Status.FAILED
    assert message.next_attempt_at is None
    assert dispatch_outbox()["enqueued"] == 0
    assert mail.outbox == []


def test_connection_is_reopened_after_an_error(django_capture_on_commit_callbacks):
    backends.reset([smtplib.SMTPServerDisconnected("dropped"), None])
    contact = ContactFactory()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        a, _ = _create(key="a", contact=contact)
        b, _ = _create(key="b", contact=contact)
    send_messages([a.pk, b.pk])
    statuses = dict(OutgoingMessage.objects.values_list("key", "status"))
    assert statuses == {"a": Status.RETRY, "b": Status.SENT}
    assert backends.ScriptedBackend.opened == 2
    assert callbacks  # sending was enqueued for each


def test_retries_stop_after_the_limit(settings, django_capture_on_commit_callbacks):
    settings.OUTBOX_MAX_ATTEMPTS = 2
    backends.reset([smtplib.SMTPResponseException(421, b"busy")] * 2)
    with django_capture_on_commit_callbacks(execute=True):
        message, _ = _create()
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=5)):
        send_messages([message.pk])
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Status.FAILED, 2)


def test_stuck_in_flight_becomes_unknown_and_is_never_resent_silently(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=False):
        message, _ = _create()
    assert [m.pk for m in services.claim([message.pk])] == [message.pk]  # worker dies here
    assert send_messages([message.pk])["sent"] == 0  # a redelivered task skips it
    assert services.mark_stale_unknown() == 0  # not stale yet
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=16)):
        assert dispatch_outbox() == {"scheduled": 0, "unknown": 1, "enqueued": 0}
    message.refresh_from_db()
    assert message.status == Status.UNKNOWN
    assert mail.outbox == []


def test_coordinator_resend_makes_a_linked_copy(coordinator, django_capture_on_commit_callbacks):
    backends.reset([smtplib.SMTPResponseException(550, b"mailbox full")])
    with django_capture_on_commit_callbacks(execute=True):
        message, _ = _create()
    with django_capture_on_commit_callbacks(execute=True):
        copy = services.message_resend(message=message, acting_user=coordinator)
    copy.refresh_from_db()
    assert copy.status == Status.SENT
    assert copy.resent_from == message
    assert copy.message_id != message.message_id
    message.refresh_from_db()
    assert message.status == Status.FAILED
    with pytest.raises(ApplicationError):
        services.message_resend(message=copy, acting_user=coordinator)


def test_send_due_mail_command_runs_one_pass(django_capture_on_commit_callbacks):
    from io import StringIO

    from django.core.management import call_command

    with django_capture_on_commit_callbacks(execute=False):
        _create(key="x")
        _create(key="y")
    out = StringIO()
    call_command("send_due_mail", stdout=out)
    assert "Due: 2; sent 2" in out.getvalue()
    assert len(mail.outbox) == 2


# --- Unsubscribe --------------------------------------------------------------------------


def _unsubscribe_path(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        message, _ = _create()
    return message, unsubscribe_url(message).split("://", 1)[1].split("/", 1)[1]


def test_unsubscribe_get_only_asks(client, django_capture_on_commit_callbacks):
    message, path = _unsubscribe_path(django_capture_on_commit_callbacks)
    response = client.get("/" + path)
    assert response.status_code == 200
    assert "Unsubscribe" in response.content.decode()
    message.contact.refresh_from_db()
    assert not message.contact.has_opted_out


def test_unsubscribe_one_click_post(client, django_capture_on_commit_callbacks):
    message, path = _unsubscribe_path(django_capture_on_commit_callbacks)
    response = client.post("/" + path, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    message.contact.refresh_from_db()
    assert message.contact.has_opted_out


def test_unsubscribe_with_a_forged_token_is_refused(client):
    response = client.post(reverse("mail:unsubscribe", args=["forged"]))
    assert response.status_code == 400
    assert "not valid" in response.content.decode()


def test_unsubscribe_page_speaks_russian(client, django_capture_on_commit_callbacks):
    _message, path = _unsubscribe_path(django_capture_on_commit_callbacks)
    response = client.get("/" + path, HTTP_ACCEPT_LANGUAGE="ru")
    assert response.status_code == 200
    assert response["Content-Language"] == "ru"


# --- Back office --------------------------------------------------------------------------


def test_outbox_admin_shows_counts_and_resends(
    coordinator_client, coordinator, django_capture_on_commit_callbacks
):
    from django.contrib.auth.models import Permission

    coordinator.user_permissions.add(*Permission.objects.filter(content_type__app_label="mail"))
    backends.reset([smtplib.SMTPResponseException(550, b"mailbox full")])
    with django_capture_on_commit_callbacks(execute=True):
        message, _ = _create()
    url = reverse("admin:mail_outgoingmessage_changelist")
    page = coordinator_client.get(url)
    assert page.status_code == 200
    assert 'data-status="failed">1<' in page.content.decode()
    assert (
        coordinator_client.get(
            reverse("admin:mail_outgoingmessage_change", args=[message.pk])
        ).status_code
        == 200
    )
    with django_capture_on_commit_callbacks(execute=True):
        coordinator_client.post(url, {"action": "resend", "_selected_action": [message.pk]})
    assert OutgoingMessage.objects.get(resent_from=message).status == Status.SENT


def test_outbox_admin_refuses_anonymous(client):
    response = client.get(reverse("admin:mail_outgoingmessage_changelist"))
    assert response.status_code == 302


def test_send_due_mail_every_repeats_until_stopped(monkeypatch, django_capture_on_commit_callbacks):
    from io import StringIO

    from django.core.management import call_command

    passes = []

    def sleep(seconds):
        passes.append(seconds)
        if len(passes) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr("crm.mail.management.commands.send_due_mail.time.sleep", sleep)
    with django_capture_on_commit_callbacks(execute=False):
        _create(key="every")
    out = StringIO()
    call_command("send_due_mail", every=5, stdout=out)
    assert passes == [5, 5]
    assert "Due: 1; sent 1" in out.getvalue()
    assert out.getvalue().count("Scheduled") == 1  # idle passes stay quiet
    assert len(mail.outbox) == 1


# --- Durability of the claim and of the marks ----------------------------------------------


@pytest.fixture
def commit_modes(db):
    """Each UPDATE of an outbox row records the ``synchronous_commit`` its transaction runs
    with (a trigger on PostgreSQL), as ``(status, setting)`` in statement order."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE TABLE test_commit_mode (id serial, status text, mode text);
            CREATE FUNCTION test_log_commit_mode() RETURNS trigger AS $$
            BEGIN
                INSERT INTO test_commit_mode (status, mode)
                VALUES (NEW.status, current_setting('synchronous_commit'));
                RETURN NEW;
            END $$ LANGUAGE plpgsql;
            CREATE TRIGGER test_log_commit_mode AFTER UPDATE ON mail_outgoingmessage
            FOR EACH ROW EXECUTE FUNCTION test_log_commit_mode();
            """
        )

    def modes():
        with connection.cursor() as cursor:
            cursor.execute("SELECT status, mode FROM test_commit_mode ORDER BY id")
            return cursor.fetchall()

    yield modes
    with connection.cursor() as cursor:
        cursor.execute(
            "DROP TRIGGER test_log_commit_mode ON mail_outgoingmessage;"
            "DROP FUNCTION test_log_commit_mode(); DROP TABLE test_commit_mode;"
        )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_marks_commit_asynchronously_and_the_claim_durably(commit_modes):
    # Rows written directly: message_create would have them sent as soon as they commit.
    keys = ["sent", "refused", "busy"]
    ids = [
        OutgoingMessage.objects.create(
            key=key,
            purpose="reminder",
            to_email=f"{key}@example.org",
            subject="Hello",
            body_text="Text",
            message_id=OutgoingMessage.message_id_for(key),
        ).pk
        for key in keys
    ]
    rows = services.claim(ids)
    services.mark_sent(rows[0])
    services.mark_error(rows[1], smtplib.SMTPResponseException(550, b"no such user"))
    services.mark_error(rows[2], smtplib.SMTPResponseException(421, b"busy"))
    assert commit_modes() == [
        *[(Status.IN_FLIGHT, "on")] * 3,  # the claim: a lost claim could mean a resend
        (Status.SENT, "off"),
        (Status.FAILED, "off"),
        (Status.RETRY, "off"),
    ]
    # Only that transaction: the session's own setting is untouched afterwards.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone() == ("on",)
    assert dict(OutgoingMessage.objects.values_list("key", "status")) == {
        "sent": Status.SENT,
        "refused": Status.FAILED,
        "busy": Status.RETRY,
    }


@pytest.mark.postgres
def test_a_mark_inside_an_outer_transaction_leaves_its_durability_alone(commit_modes):
    # This test runs inside a transaction: the mark commits with it, as the caller decides.
    message, _ = _create()
    [row] = services.claim([message.pk])
    services.mark_sent(row)
    assert commit_modes() == [(Status.IN_FLIGHT, "on"), (Status.SENT, "on")]


def test_a_late_mark_never_overwrites_a_row_no_longer_in_flight(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        message, _ = _create()
    [row] = services.claim([message.pk])
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=16)):
        assert services.mark_stale_unknown() == 1
    services.mark_sent(row)  # the worker's answer came after the row was given up
    services.mark_error(row, smtplib.SMTPResponseException(421, b"busy"))
    message.refresh_from_db()
    assert message.status == Status.UNKNOWN
    assert message.sent_at is None


def test_marks_record_the_outcome_and_the_time(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        message, _ = _create()
    [row] = services.claim([message.pk])
    assert row.attempts == 1
    claimed = OutgoingMessage.objects.get(pk=message.pk)
    assert (claimed.status, claimed.attempts) == (Status.IN_FLIGHT, 1)
    assert claimed.in_flight_since is not None
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        services.mark_sent(row)
    message.refresh_from_db()
    assert (message.status, message.sent_at, message.updated_at) == (Status.SENT, now, now)
    assert (message.last_error, message.next_attempt_at) == ("", None)
