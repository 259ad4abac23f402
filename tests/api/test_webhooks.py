"""Webhooks against a real HTTP receiver (http.server in a thread on 127.0.0.1): signing,
thin payloads, retries with backoff on the database schedule, disabling, the SSRF guard,
replay from the back office, and nothing sent for rolled-back changes."""

import datetime
import hashlib
import hmac
import json
import shutil
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

import api.admin_webhooks  # noqa: F401 — registers the back office (also imported by api.admin)
from api.models import ApiClient, WebhookAttempt, WebhookDelivery, WebhookSubscription
from api.webhooks import net, services
from api.webhooks.tasks import deliver_webhooks
from crm.exceptions import ApplicationError
from crm.mail.models import OutgoingMessage
from crm.mail.tasks import dispatch_outbox
from tests.factories import ContactFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db
Status = WebhookDelivery.Status
T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


# --- A receiver ------------------------------------------------------------------------------


class Receiver:
    """Records every request; answers with the scripted statuses, then ``default``."""

    def __init__(self):
        self.requests: list[dict] = []
        self.statuses: list[int] = []
        self.default = 200
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    status = receiver.statuses.pop(0) if receiver.statuses else receiver.default
                    receiver.requests.append(
                        {"path": self.path, "headers": dict(self.headers), "body": body}
                    )
                answer = b'{"ok": true}' if status < 300 else b"nope"
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hooks/alliance"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    with Receiver() as r:
        yield r


@pytest.fixture(autouse=True)
def _private_urls_allowed(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True
    settings.CRM_SITE_URL = "https://crm.example.org"


def make_client(name="Partner CRM", **kwargs) -> ApiClient:
    client = ApiClient(name=name, contact_email="owner@partner.example", **kwargs)
    client.set_token(ApiClient.new_token())
    client.save()
    return client


def subscribe(url, event_types=("contact.created",), client=None) -> WebhookSubscription:
    return services.webhook_subscription_create(
        client=client or make_client(),
        url=url,
        event_types=list(event_types),
        acting_user=None,
    )


def verify_as_documented(secret: str, headers, body: bytes) -> bool:
    """The Python recipe of docs/webhooks.md, as a receiver copies it."""
    tolerance = 300
    timestamp = headers.get("X-Alliance-Timestamp", "")
    signature = headers.get("X-Alliance-Signature", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > tolerance:
        return False
    expected = hmac.new(
        secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest("sha256=" + expected, signature)


OPENSSL_RECIPE = """
EXPECTED="sha256=$( { printf '%s.' "$TIMESTAMP"; cat body.json; } \\
  | openssl dgst -sha256 -hmac "$SECRET" -r | cut -d' ' -f1 )"
[ "$EXPECTED" = "$SIGNATURE" ] && echo genuine || echo FORGED
"""


# --- Signing and payload ---------------------------------------------------------------------


def test_delivery_is_signed_as_documented(receiver, django_capture_on_commit_callbacks):
    subscription = subscribe(receiver.url)
    contact = ContactFactory()
    with django_capture_on_commit_callbacks(execute=True):
        (delivery,) = services.webhook_emit("contact.created", contact)

    (request,) = receiver.requests
    headers = request["headers"]
    assert request["path"] == "/hooks/alliance"
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Alliance-Event"] == "contact.created"
    assert headers["X-Alliance-Delivery"] == str(delivery.uuid)
    assert abs(int(headers["X-Alliance-Timestamp"]) - timezone.now().timestamp()) < 60
    assert verify_as_documented(subscription.secret, headers, request["body"])
    assert not verify_as_documented("whsec_wrong", headers, request["body"])
    tampered = request["body"].replace(b"contact", b"kontact")
    assert not verify_as_documented(subscription.secret, headers, tampered)

    delivery.refresh_from_db()
    assert delivery.status == Status.DELIVERED
    assert delivery.attempts == 1
    assert delivery.last_status_code == 200
    assert delivery.response_excerpt == '{"ok": true}'
    (attempt,) = delivery.attempt_log.all()
    assert (attempt.number, attempt.status_code, attempt.outcome) == (1, 200, "delivered")


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not installed")
def test_signature_verifies_with_the_documented_openssl_recipe(
    receiver, tmp_path, django_capture_on_commit_callbacks
):
    subscription = subscribe(receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        services.webhook_emit("contact.created", ContactFactory())
    (request,) = receiver.requests
    (tmp_path / "body.json").write_bytes(request["body"])

    def run(secret: str) -> str:
        env = {
            "PATH": "/usr/bin:/bin",
            "SECRET": secret,
            "TIMESTAMP": request["headers"]["X-Alliance-Timestamp"],
            "SIGNATURE": request["headers"]["X-Alliance-Signature"],
        }
        done = subprocess.run(
            ["sh", "-c", OPENSSL_RECIPE], cwd=tmp_path, env=env, capture_output=True, text=True
        )
        return done.stdout.strip()

    assert run(subscription.secret) == "genuine"
    assert run("whsec_wrong") == "FORGED"


def test_payload_is_thin_and_has_no_personal_data(receiver, django_capture_on_commit_callbacks):
    subscribe(receiver.url, ["contact.updated"])
    contact = ContactFactory(given_name="Ludmila", family_name="Weißenberger")
    with django_capture_on_commit_callbacks(execute=True):
        services.webhook_emit("contact.updated", contact)

    body = receiver.requests[0]["body"]
    payload = json.loads(body)
    assert payload == {
        "event": "contact.updated",
        "object": {
            "type": "contact",
            "id": contact.pk,
            "url": f"https://crm.example.org/api/v1/contacts/{contact.pk}/",
        },
        "occurred_at": payload["occurred_at"],
    }
    assert datetime.datetime.fromisoformat(payload["occurred_at"]) <= timezone.now()
    text = body.decode()
    for personal in (contact.given_name, contact.family_name, contact.email, "Ludmila"):
        assert personal not in text
    assert "Wei" not in text


def test_api_path_given_by_the_caller_is_used(receiver, django_capture_on_commit_callbacks):
    subscribe(receiver.url, ["organization.status_changed"])
    organization = OrganizationFactory()
    with django_capture_on_commit_callbacks(execute=True):
        services.webhook_emit(
            "organization.status_changed",
            organization,
            api_path=f"/api/v1/organizations/{organization.pk}/",
        )
    payload = json.loads(receiver.requests[0]["body"])
    assert payload["object"]["type"] == "organization"
    assert payload["object"]["url"].endswith(f"/api/v1/organizations/{organization.pk}/")


def test_unknown_event_type_is_a_programming_error():
    with pytest.raises(ValueError, match="Unknown webhook event type"):
        services.webhook_emit("contact.exploded", ContactFactory())


# --- Who gets what ---------------------------------------------------------------------------


def test_subscriber_not_subscribed_to_the_event_gets_nothing(
    receiver, django_capture_on_commit_callbacks
):
    subscribe(receiver.url, ["organization.created"])
    wanted = subscribe(receiver.url, ["contact.created"], client=make_client("Website"))
    with django_capture_on_commit_callbacks(execute=True):
        deliveries = services.webhook_emit("contact.created", ContactFactory())
    assert [d.subscription for d in deliveries] == [wanted]
    assert len(receiver.requests) == 1
    assert WebhookDelivery.objects.count() == 1


def test_disabled_subscription_and_revoked_client_get_nothing(
    receiver, django_capture_on_commit_callbacks
):
    disabled = subscribe(receiver.url)
    services.webhook_subscription_disable(subscription=disabled, reason="test", acting_user=None)
    revoked = make_client("Revoked", revoked_at=timezone.now())
    subscribe(receiver.url, client=revoked)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.webhook_emit("contact.created", ContactFactory()) == []
    assert receiver.requests == []


def test_emit_in_rolled_back_transaction_sends_nothing(
    receiver, django_capture_on_commit_callbacks
):
    subscribe(receiver.url, ["contact.created", "contact.updated"])
    contact = ContactFactory()

    def failing_service():
        with transaction.atomic():
            services.webhook_emit("contact.created", contact)
            services.emit_on_commit("contact.updated", contact)
            raise RuntimeError("the domain change failed")

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
    ):
        failing_service()
    assert callbacks == []
    assert WebhookDelivery.objects.count() == 0
    assert receiver.requests == []


def test_emit_on_commit_records_and_sends_after_commit(
    receiver, django_capture_on_commit_callbacks
):
    subscribe(receiver.url, ["follow_up.done"])
    contact = ContactFactory()  # any saved object; the event decides the type
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.emit_on_commit("follow_up.done", contact)
        assert WebhookDelivery.objects.count() == 0  # nothing until the commit
    for callback in callbacks:
        with django_capture_on_commit_callbacks(execute=True):
            callback()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == Status.DELIVERED
    assert json.loads(receiver.requests[0]["body"])["object"]["type"] == "follow_up"


# --- Retries, backoff and disabling ----------------------------------------------------------


def _pass(django_capture_on_commit_callbacks) -> None:
    """One periodic outbox pass, as beat runs it every minute."""
    with django_capture_on_commit_callbacks(execute=True):
        dispatch_outbox()


def test_retries_after_server_errors_with_backoff_and_delivers_once(
    receiver, django_capture_on_commit_callbacks
):
    receiver.statuses = [500, 503]
    subscription = subscribe(receiver.url)
    with time_machine.travel(T0, tick=False) as traveller:
        with django_capture_on_commit_callbacks(execute=True):
            (delivery,) = services.webhook_emit("contact.created", ContactFactory())
        delivery.refresh_from_db()
        assert delivery.status == Status.RETRY
        assert delivery.last_status_code == 500
        assert delivery.next_attempt_at == T0 + datetime.timedelta(minutes=1)
        subscription.refresh_from_db()
        assert subscription.consecutive_failures == 1

        _pass(django_capture_on_commit_callbacks)  # not due yet
        assert len(receiver.requests) == 1

        traveller.shift(61)
        _pass(django_capture_on_commit_callbacks)
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
            Status.RETRY,
            2,
            503,
        )
        # Doubled: two minutes after the second attempt.
        assert delivery.next_attempt_at == timezone.now() + datetime.timedelta(minutes=2)

        traveller.shift(60)
        _pass(django_capture_on_commit_callbacks)
        assert len(receiver.requests) == 2

        traveller.shift(61)
        _pass(django_capture_on_commit_callbacks)
        delivery.refresh_from_db()
        assert delivery.status == Status.DELIVERED
        assert delivery.delivered_at == timezone.now()

        traveller.shift(3600)
        _pass(django_capture_on_commit_callbacks)
        deliver_webhooks([delivery.pk])  # a replayed task sends nothing twice

    assert len(receiver.requests) == 3
    assert len({r["headers"]["X-Alliance-Delivery"] for r in receiver.requests}) == 1
    assert [a.outcome for a in delivery.attempt_log.all()] == ["retry", "retry", "delivered"]
    subscription.refresh_from_db()
    assert subscription.consecutive_failures == 0
    assert subscription.failing_since is None
    assert subscription.active


def test_backoff_is_capped_and_gives_up_after_three_days(
    receiver, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOKS_DISABLE_AFTER_FAILURES = 10_000  # only the delivery gives up here
    receiver.default = 502
    subscribe(receiver.url)
    with time_machine.travel(T0, tick=False) as traveller:
        with django_capture_on_commit_callbacks(execute=True):
            (delivery,) = services.webhook_emit("contact.created", ContactFactory())
        delays = []
        for _ in range(200):
            delivery.refresh_from_db()
            if delivery.status != Status.RETRY:
                break
            wait = delivery.next_attempt_at - timezone.now()
            delays.append(wait.total_seconds())
            traveller.shift(wait)
            _pass(django_capture_on_commit_callbacks)
        gave_up_after = timezone.now() - T0
    assert delivery.status == Status.FAILED
    assert delays[:4] == [60, 120, 240, 480]
    assert max(delays) == 3600
    assert datetime.timedelta(days=3, hours=-1) < gave_up_after <= datetime.timedelta(days=3)
    assert len(receiver.requests) == delivery.attempts


def test_410_disables_the_subscription_and_tells_the_owner(
    receiver, django_capture_on_commit_callbacks
):
    receiver.statuses = [410]
    subscription = subscribe(receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        (delivery,) = services.webhook_emit("contact.created", ContactFactory())

    delivery.refresh_from_db()
    assert delivery.status == Status.FAILED
    assert delivery.attempt_log.get().outcome == "gone"
    subscription.refresh_from_db()
    assert not subscription.active
    assert subscription.disabled_at is not None
    assert "410" in subscription.disabled_reason
    message = OutgoingMessage.objects.get(to_email="owner@partner.example")
    assert message.essential
    assert subscription.url in message.body_text
    assert "410" in message.body_text

    with django_capture_on_commit_callbacks(execute=True):
        assert services.webhook_emit("contact.created", ContactFactory()) == []
    assert len(receiver.requests) == 1


def test_long_run_of_failures_disables_and_tells_the_owner(
    receiver, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOKS_DISABLE_AFTER_FAILURES = 5
    settings.WEBHOOKS_RETRY_CAP_SECONDS = 6 * 3600  # fewer requests over three days
    receiver.default = 500
    subscription = subscribe(receiver.url, ["contact.created", "contact.updated"])
    with time_machine.travel(T0, tick=False) as traveller:
        with django_capture_on_commit_callbacks(execute=True):
            services.webhook_emit("contact.created", ContactFactory())
        # Many failures within minutes (a busy subscription) do not disable it yet.
        for _ in range(6):
            with django_capture_on_commit_callbacks(execute=True):
                services.webhook_emit("contact.updated", ContactFactory())
        subscription.refresh_from_db()
        assert subscription.consecutive_failures == 7
        assert subscription.active
        # Failing for the whole retry window does.
        for _ in range(500):
            subscription.refresh_from_db()
            if not subscription.active:
                break
            due = subscription.deliveries.filter(status=Status.RETRY).earliest("next_attempt_at")
            traveller.shift(due.next_attempt_at - timezone.now())
            with django_capture_on_commit_callbacks(execute=True):
                services.schedule_due_webhooks()
        disabled_after = timezone.now() - T0

    assert not subscription.active
    # When the first delivery gives up: its next retry (at most the cap later) would fall
    # past the three days.
    assert datetime.timedelta(days=3, hours=-6) < disabled_after <= datetime.timedelta(days=3)
    assert "failed" in subscription.disabled_reason
    assert OutgoingMessage.objects.filter(to_email="owner@partner.example", essential=True).exists()
    assert not subscription.deliveries.filter(status__in=[Status.PENDING, Status.RETRY]).exists()


def test_stale_in_flight_delivery_is_tried_again(receiver, django_capture_on_commit_callbacks):
    subscribe(receiver.url)
    with time_machine.travel(T0, tick=False) as traveller:
        (delivery,) = services.webhook_emit("contact.created", ContactFactory())  # not sent
        services.claim([delivery.pk])  # a worker took it and died
        traveller.shift(60)
        _pass(django_capture_on_commit_callbacks)
        assert receiver.requests == []
        traveller.shift(16 * 60)
        _pass(django_capture_on_commit_callbacks)
    delivery.refresh_from_db()
    assert delivery.status == Status.DELIVERED
    assert delivery.attempts == 2
    assert len(receiver.requests) == 1


def test_connection_refused_is_retried(django_capture_on_commit_callbacks):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    subscribe(f"http://127.0.0.1:{port}/nobody-listens")
    with django_capture_on_commit_callbacks(execute=True):
        (delivery,) = services.webhook_emit("contact.created", ContactFactory())
    delivery.refresh_from_db()
    assert delivery.status == Status.RETRY
    assert delivery.last_status_code is None
    assert "Connection" in delivery.last_error or "refused" in delivery.last_error


# --- SSRF guard ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://10.1.2.3/hook",
        "https://192.168.0.10/hook",
        "https://172.16.5.4/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://100.64.0.1/hook",
        "https://224.0.0.1/hook",
        "https://0.0.0.0/hook",
        "https://240.0.0.1/hook",
        "https://[::1]/hook",
        "https://[fe80::1]/hook",
        "https://[fd00::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "http://hooks.example.com/hook",
        "ftp://hooks.example.com/hook",
        "https://user:pw@hooks.example.com/hook",
    ],
)
def test_private_and_non_https_urls_are_refused(url, settings, monkeypatch):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    _resolve(monkeypatch, {"hooks.example.com": "93.184.215.14"})
    with pytest.raises(ApplicationError) as caught:
        subscribe(url)
    assert caught.value.field == "url"
    assert WebhookSubscription.objects.count() == 0


def _resolve(monkeypatch, table: dict[str, str]) -> list[str]:
    """Let the named hosts resolve to the given addresses (other names as usual); returns the
    list of names looked up."""
    real = socket.getaddrinfo
    looked_up: list[str] = []

    def fake(host, port, *args, **kwargs):
        looked_up.append(host)
        if host in table:
            family = socket.AF_INET6 if ":" in table[host] else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (table[host], port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(net.socket, "getaddrinfo", fake)
    return looked_up


def test_public_https_url_is_accepted(settings, monkeypatch):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    _resolve(monkeypatch, {"hooks.example.com": "93.184.215.14"})
    subscription = subscribe("https://hooks.example.com/alliance?k=1")
    assert subscription.secret.startswith("whsec_")
    assert len(subscription.secret) > 40


def test_unresolvable_host_is_refused(settings, monkeypatch):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False

    def fail(*args, **kwargs):
        raise socket.gaierror("Name or service not known")

    monkeypatch.setattr(net.socket, "getaddrinfo", fail)
    with pytest.raises(ApplicationError, match="cannot be resolved"):
        subscribe("https://nowhere.example/hook")


def test_dns_rebinding_is_refused_at_delivery_time(
    receiver, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    table = {"hooks.example.com": "93.184.215.14"}
    _resolve(monkeypatch, table)
    subscription = subscribe(f"https://hooks.example.com:{receiver.port}/hooks/alliance")
    table["hooks.example.com"] = "127.0.0.1"  # the attacker's DNS now answers loopback
    with django_capture_on_commit_callbacks(execute=True):
        (delivery,) = services.webhook_emit("contact.created", ContactFactory())

    assert receiver.requests == []
    delivery.refresh_from_db()
    assert delivery.status == Status.RETRY
    assert "private" in delivery.last_error
    assert delivery.attempt_log.get().error.startswith("Refused")
    subscription.refresh_from_db()
    assert subscription.consecutive_failures == 1


def test_request_goes_to_the_address_that_was_checked(
    receiver, monkeypatch, django_capture_on_commit_callbacks
):
    looked_up = _resolve(monkeypatch, {"receiver.test": "127.0.0.1"})
    subscribe(f"http://receiver.test:{receiver.port}/hooks/alliance")
    looked_up.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.webhook_emit("contact.created", ContactFactory())
    # The name is resolved once, checked, and that address connected to (looking up the
    # numeric address itself involves no DNS): no second lookup that could rebind.
    assert looked_up in (["receiver.test"], ["receiver.test", "127.0.0.1"])
    assert receiver.requests[0]["headers"]["Host"] == f"receiver.test:{receiver.port}"


def test_changing_the_url_is_checked_too(settings, monkeypatch):
    _resolve(monkeypatch, {"hooks.example.com": "93.184.215.14"})
    subscription = subscribe("https://hooks.example.com/a")
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    with pytest.raises(ApplicationError):
        services.webhook_subscription_update(
            subscription=subscription, url="https://127.0.0.1/b", acting_user=None
        )
    with pytest.raises(ApplicationError, match="event types"):
        services.webhook_subscription_update(
            subscription=subscription, event_types=["contact.exploded"], acting_user=None
        )


# --- Back office -----------------------------------------------------------------------------


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True, username="root"))
    return client


def test_replay_from_the_back_office_creates_a_new_delivery(
    receiver, admin_client, django_capture_on_commit_callbacks
):
    subscription = subscribe(receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        (original,) = services.webhook_emit("contact.created", ContactFactory())

    changelist = reverse("admin:api_webhookdelivery_changelist")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            changelist, {"action": "replay", "_selected_action": [original.pk]}
        )
    assert response.status_code == 302

    replay = WebhookDelivery.objects.exclude(pk=original.pk).get()
    assert replay.replay_of == original
    assert replay.subscription == subscription
    assert replay.payload == original.payload
    assert replay.uuid != original.uuid
    assert replay.status == Status.DELIVERED
    first, second = receiver.requests
    assert second["body"] == first["body"]
    assert second["headers"]["X-Alliance-Delivery"] == str(replay.uuid)
    assert second["headers"]["X-Alliance-Replay-Of"] == str(original.uuid)
    assert verify_as_documented(subscription.secret, second["headers"], second["body"])
    original.refresh_from_db()
    assert original.attempt_log.count() == 1  # the original's record is unchanged

    page = admin_client.get(reverse("admin:api_webhookdelivery_change", args=[replay.pk]))
    assert page.status_code == 200
    assert b"Delivered" in page.content


def test_replay_refused_while_the_subscription_is_disabled(receiver):
    subscription = subscribe(receiver.url)
    (delivery,) = services.webhook_emit("contact.created", ContactFactory())
    services.webhook_subscription_disable(subscription=subscription, reason="x", acting_user=None)
    delivery.refresh_from_db()
    assert delivery.status == Status.FAILED
    with pytest.raises(ApplicationError, match="enable it"):
        services.webhook_delivery_replay(delivery=delivery, acting_user=None)


def test_back_office_creates_subscriptions_through_the_guard(admin_client, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    client = make_client()
    add = reverse("admin:api_webhooksubscription_add")
    response = admin_client.post(
        add,
        {"client": client.pk, "url": "https://127.0.0.1/x", "event_types": ["contact.created"]},
    )
    assert response.status_code == 200  # the form again, with the error
    assert b"private" in response.content
    assert WebhookSubscription.objects.count() == 0
    assert admin_client.get(add).status_code == 200
    assert admin_client.get(reverse("admin:api_webhooksubscription_changelist")).status_code == 200


def test_back_office_changes_a_subscription_and_shows_its_secret(admin_client, receiver):
    subscription = subscribe(receiver.url)
    change = reverse("admin:api_webhooksubscription_change", args=[subscription.pk])
    page = admin_client.get(change)
    assert page.status_code == 200
    assert subscription.secret.encode() in page.content
    response = admin_client.post(
        change, {"url": receiver.url, "event_types": ["contact.created", "follow_up.done"]}
    )
    assert response.status_code == 302
    subscription.refresh_from_db()
    assert subscription.event_types == ["contact.created", "follow_up.done"]
    assert subscription.history.first().history_user.username == "root"


def test_subscription_history_never_holds_the_secret(receiver):
    subscription = subscribe(receiver.url)
    services.webhook_subscription_rotate_secret(subscription=subscription, acting_user=None)
    record = subscription.history.first()
    assert not hasattr(record, "secret")
    assert WebhookAttempt.objects.count() == 0
