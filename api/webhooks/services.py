"""Webhook subscriptions and deliveries: the writes.

Delivery mirrors the mail outbox (:mod:`crm.mail.services`): :func:`webhook_emit` writes one
delivery row per interested subscription inside the caller's transaction and enqueues the
sending only when it commits; the task locks its rows (``skip_locked``), marks them in flight
and commits before any HTTP request, then records delivered / retry / failed. Retries back off
(1 minute, doubling, capped at an hour) for ``WEBHOOKS_RETRY_WINDOW_SECONDS`` (three days) after
the event; the periodic outbox pass (:func:`schedule_due_webhooks`) enqueues what is due — the
database is the schedule. Unlike mail, a delivery whose worker died in flight is tried again:
receivers deduplicate on ``X-Alliance-Delivery``.
"""

import datetime
import json
import logging
from functools import partial

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from api.models import ApiClient
from api.models_webhooks import WebhookAttempt, WebhookDelivery, WebhookSubscription
from api.webhooks import net
from api.webhooks.events import api_path_for, object_kind
from api.webhooks.signing import generate_secret, signature
from crm.exceptions import ApplicationError

logger = logging.getLogger(__name__)

Status = WebhookDelivery.Status
Outcome = WebhookAttempt.Outcome
SENDABLE = frozenset({Status.PENDING, Status.RETRY})
BATCH = 50


def retry_base_seconds() -> int:
    return getattr(settings, "WEBHOOKS_RETRY_BASE_SECONDS", 60)


def retry_cap_seconds() -> int:
    return getattr(settings, "WEBHOOKS_RETRY_CAP_SECONDS", 60 * 60)


def retry_window() -> datetime.timedelta:
    return datetime.timedelta(
        seconds=getattr(settings, "WEBHOOKS_RETRY_WINDOW_SECONDS", 3 * 24 * 3600)
    )


def disable_after_failures() -> int:
    return getattr(settings, "WEBHOOKS_DISABLE_AFTER_FAILURES", 50)


def in_flight_timeout() -> datetime.timedelta:
    return datetime.timedelta(seconds=getattr(settings, "WEBHOOKS_IN_FLIGHT_TIMEOUT", 15 * 60))


def _url_error(url: str) -> ApplicationError | None:
    try:
        net.check_url(url)
    except net.UnsafeURL as exc:
        return ApplicationError(str(exc), field="url")
    return None


def _full_clean(subscription: WebhookSubscription) -> None:
    try:
        subscription.full_clean()
    except ValidationError as exc:
        field, errors = next(iter(exc.message_dict.items()))
        raise ApplicationError(
            " ".join(errors), field=None if field == "__all__" else field
        ) from exc


def _save(
    subscription: WebhookSubscription,
    acting_user: AbstractBaseUser | None,
    reason: str = "",
    *,
    clean: bool = True,
) -> None:
    if clean:
        _full_clean(subscription)
    subscription._history_user = acting_user if getattr(acting_user, "pk", None) else None
    if reason:
        subscription._change_reason = reason
    subscription.save()


# --- Subscriptions ---------------------------------------------------------------------------


@transaction.atomic
def webhook_subscription_create(
    *,
    client: ApiClient,
    url: str,
    event_types: list[str],
    acting_user: AbstractBaseUser | None,
) -> WebhookSubscription:
    """A new subscription with a freshly generated secret (returned on the object: show it to
    its owner). The URL is refused unless it may be called (https, public addresses)."""
    error = _url_error(url)
    if error:
        raise error
    subscription = WebhookSubscription(
        client=client, url=url, event_types=list(dict.fromkeys(event_types))
    )
    _save(subscription, acting_user)
    return subscription


@transaction.atomic
def webhook_subscription_update(
    *,
    subscription: WebhookSubscription,
    acting_user: AbstractBaseUser | None,
    url: str | None = None,
    event_types: list[str] | None = None,
) -> WebhookSubscription:
    subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    if url is not None and url != subscription.url:
        error = _url_error(url)
        if error:
            raise error
        subscription.url = url
    if event_types is not None:
        subscription.event_types = list(dict.fromkeys(event_types))
    _save(subscription, acting_user)
    return subscription


@transaction.atomic
def webhook_subscription_rotate_secret(
    *, subscription: WebhookSubscription, acting_user: AbstractBaseUser | None
) -> WebhookSubscription:
    """A new secret; deliveries signed from now on use it (retries included)."""
    subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    subscription.secret = generate_secret()
    _save(subscription, acting_user, reason=_("Secret rotated"))
    return subscription


@transaction.atomic
def webhook_subscription_enable(
    *, subscription: WebhookSubscription, acting_user: AbstractBaseUser | None
) -> WebhookSubscription:
    """Turn a disabled subscription back on, with a clean failure count. The URL is checked
    again. Deliveries failed while it was off are not resent (replay them if needed)."""
    subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    if subscription.active:
        raise ApplicationError(_("This subscription is already active."))
    error = _url_error(subscription.url)
    if error:
        raise error
    subscription.active = True
    subscription.disabled_at = None
    subscription.disabled_reason = ""
    subscription.consecutive_failures = 0
    subscription.failing_since = None
    _save(subscription, acting_user, reason=_("Enabled"))
    return subscription


@transaction.atomic
def webhook_subscription_disable(
    *,
    subscription: WebhookSubscription,
    reason: str,
    acting_user: AbstractBaseUser | None,
    notify_owner: bool = False,
) -> WebhookSubscription:
    """Stop delivering: deliveries still waiting are marked failed. With ``notify_owner`` the
    API client's contact e-mail is told why (essential mail, through the outbox)."""
    subscription = (
        WebhookSubscription.objects.select_for_update()
        .select_related("client")
        .get(pk=subscription.pk)
    )
    if not subscription.active:
        return subscription
    now = timezone.now()
    subscription.active = False
    subscription.disabled_at = now
    subscription.disabled_reason = reason
    _save(subscription, acting_user, reason=(_("Disabled: %s") % reason)[:100], clean=False)
    subscription.deliveries.filter(status__in=SENDABLE).update(
        status=Status.FAILED,
        next_attempt_at=None,
        last_error=_("Not sent: the subscription was disabled."),
        updated_at=now,
    )
    if notify_owner:
        _tell_owner_disabled(subscription)
    return subscription


def _tell_owner_disabled(subscription: WebhookSubscription) -> None:
    from crm.mail.models import OutgoingMessage
    from crm.mail.services import message_create

    client = subscription.client
    if not client.contact_email:
        logger.warning(
            "Webhook subscription %s disabled; API client %s has no contact e-mail to tell",
            subscription.pk,
            client.pk,
        )
        return
    body = _(
        "Hello,\n\n"
        "The Alliance CRM has stopped sending webhooks to\n\n    %(url)s\n\n"
        "for the API client “%(client)s” (subscription %(id)s).\n\n"
        "Reason: %(reason)s\n\n"
        "Events that happened while it was disabled will not be sent. Once the endpoint works "
        "again, ask the CRM's coordinators to enable the subscription, and use the API's "
        "updated_since filters to catch up with the changes you missed.\n"
    ) % {
        "url": subscription.url,
        "client": client.name,
        "id": subscription.pk,
        "reason": subscription.disabled_reason,
    }
    message_create(
        key=f"webhook-disabled:{subscription.pk}:{subscription.disabled_at.isoformat()}",
        purpose=OutgoingMessage.Purpose.OTHER,
        subject=_("Webhooks to %(url)s disabled") % {"url": subscription.url},
        body_text=body,
        to_email=client.contact_email,
        essential=True,
        about=subscription,
    )


# --- Emitting events -------------------------------------------------------------------------


def _interested(event_type: str) -> list[WebhookSubscription]:
    now = timezone.now()
    candidates = WebhookSubscription.objects.filter(
        active=True, client__revoked_at__isnull=True
    ).filter(models.Q(client__expires_at__isnull=True) | models.Q(client__expires_at__gt=now))
    # Filtered in Python: JSON "contains" is not available on SQLite, and subscriptions are few.
    return [s for s in candidates.order_by("pk") if s.wants(event_type)]


def webhook_emit(
    event_type: str,
    obj: models.Model,
    *,
    api_path: str | None = None,
    occurred_at: datetime.datetime | None = None,
) -> list[WebhookDelivery]:
    """Record that ``event_type`` happened to ``obj``: one delivery row for each active
    subscription that asked for it, written in the caller's transaction (so a rolled-back
    change sends nothing), and sent once that transaction commits.

    The payload is thin — the event, the object's type, id and API URL, and when — never the
    object's data: a receiver fetches the object with its token, with the token's permissions.
    ``api_path`` defaults to the object's resource, e.g. ``/api/v1/contacts/12/``."""
    object_kind(event_type)  # an unknown event type is a programming error
    if obj.pk is None:
        raise ValueError("webhook_emit needs a saved object")
    api_path = api_path or api_path_for(event_type, obj.pk)
    if not api_path.startswith("/"):
        raise ValueError("api_path must be an absolute path, e.g. /api/v1/contacts/12/")
    return _deliver(event_type, [(obj.pk, api_path)], occurred_at or timezone.now())


def webhook_emit_many(
    event_type: str,
    objs: list[models.Model],
    *,
    occurred_at: datetime.datetime | None = None,
    batch_size: int | None = None,
) -> list[WebhookDelivery]:
    """:func:`webhook_emit` for many objects at once (an import): the same deliveries, in the
    caller's transaction, with one query for the subscriptions and the rows written in bulk,
    instead of one query (and one insert) per object. Each object's URL is its resource's."""
    object_kind(event_type)  # an unknown event type is a programming error
    if any(obj.pk is None for obj in objs):
        raise ValueError("webhook_emit_many needs saved objects")
    targets = [(obj.pk, api_path_for(event_type, obj.pk)) for obj in objs]
    return _deliver(event_type, targets, occurred_at or timezone.now(), batch_size=batch_size)


def _deliver(
    event_type: str,
    targets: list[tuple[int, str]],
    occurred_at: datetime.datetime,
    *,
    batch_size: int | None = None,
) -> list[WebhookDelivery]:
    """One delivery row per (object id, API path) and interested subscription, sent once the
    caller's transaction commits."""
    if not targets:
        return []
    subscriptions = _interested(event_type)
    if not subscriptions:
        return []
    object_type = object_kind(event_type).type
    deliveries = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                subscription=subscription,
                event_type=event_type,
                object_type=object_type,
                object_id=pk,
                payload=payload,
            )
            for pk, api_path in targets
            for payload in [_payload(event_type, pk, api_path, occurred_at)]
            for subscription in subscriptions
        ],
        batch_size=batch_size,
    )
    enqueue_on_commit([d.pk for d in deliveries])
    return deliveries


def _payload(event_type: str, pk: int, api_path: str, occurred_at: datetime.datetime) -> dict:
    return {
        "event": event_type,
        "object": {
            "type": object_kind(event_type).type,
            "id": pk,
            "url": settings.CRM_SITE_URL.rstrip("/") + api_path,
        },
        "occurred_at": occurred_at.isoformat().replace("+00:00", "Z"),
    }


def emit_on_commit(
    event_type: str,
    obj: models.Model,
    *,
    api_path: str | None = None,
) -> None:
    """Emit once the current transaction commits (nothing if it rolls back), in a transaction
    of its own, so that the caller's change can never fail because of webhook bookkeeping.

    Prefer :func:`webhook_emit` inside the service's transaction: it is atomic with the change.
    Use this one where the change must not depend on it — the public RSVP page, bulk jobs — at
    the price that a process dying in the instant after the commit loses the event (receivers
    catch up with ``updated_since``). Failures are logged, never raised."""
    object_kind(event_type)
    if obj.pk is None:
        raise ValueError("emit_on_commit needs a saved object")
    occurred_at = timezone.now()
    transaction.on_commit(
        partial(_emit_later, event_type, obj.__class__, obj.pk, api_path, occurred_at)
    )


def _emit_later(event_type, model, pk, api_path, occurred_at) -> None:
    try:
        with transaction.atomic():
            webhook_emit(event_type, model(pk=pk), api_path=api_path, occurred_at=occurred_at)
    except Exception:
        logger.exception("Webhook %s for %s #%s could not be recorded", event_type, model, pk)


def enqueue_on_commit(ids: list[int]) -> None:
    from api.webhooks.tasks import deliver_webhooks

    ids = list(ids)
    for start in range(0, len(ids), BATCH):
        transaction.on_commit(partial(deliver_webhooks.delay, ids[start : start + BATCH]))


@transaction.atomic
def webhook_delivery_replay(
    *, delivery: WebhookDelivery, acting_user: AbstractBaseUser | None
) -> WebhookDelivery:
    """Send a delivery's payload again, as a new delivery (a new ``X-Alliance-Delivery`` id,
    linked to the first), so the record of the original stays as it was."""
    delivery = WebhookDelivery.objects.select_related("subscription").get(pk=delivery.pk)
    if not delivery.subscription.active:
        raise ApplicationError(
            _("The subscription is disabled; enable it before replaying its deliveries.")
        )
    if delivery.status in (Status.PENDING, Status.IN_FLIGHT):
        raise ApplicationError(_("This delivery is still being sent."))
    copy = WebhookDelivery.objects.create(
        subscription=delivery.subscription,
        event_type=delivery.event_type,
        object_type=delivery.object_type,
        object_id=delivery.object_id,
        payload=delivery.payload,
        replay_of=delivery,
        last_error=_("Replayed by %s") % (acting_user or _("the system")),
    )
    enqueue_on_commit([copy.pk])
    return copy


# --- Sending ---------------------------------------------------------------------------------


def _due() -> models.Q:
    now = timezone.now()
    return models.Q(next_attempt_at__isnull=True) | models.Q(next_attempt_at__lte=now)


def claim(ids: list[int]) -> list[WebhookDelivery]:
    """Lock the sendable rows among ``ids`` (skipping rows another worker holds), mark them in
    flight and commit, before any request is made."""
    now = timezone.now()
    with transaction.atomic():
        rows = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("subscription", "replay_of")
            .filter(pk__in=list(ids), status__in=SENDABLE, subscription__active=True)
            .filter(_due())
            .order_by("pk")
        )
        for row in rows:
            row.status = Status.IN_FLIGHT
            row.in_flight_since = now
            row.attempts += 1
            row.updated_at = now
        WebhookDelivery.objects.bulk_update(
            rows, ["status", "in_flight_since", "attempts", "updated_at"]
        )
    return rows


def request_for(delivery: WebhookDelivery, *, now: datetime.datetime | None = None):
    """The body and headers of one attempt, signed with the subscription's current secret and
    the current time."""
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    timestamp = int((now or timezone.now()).timestamp())
    headers = {
        "X-Alliance-Event": delivery.event_type,
        "X-Alliance-Delivery": str(delivery.uuid),
        "X-Alliance-Timestamp": str(timestamp),
        "X-Alliance-Signature": signature(delivery.subscription.secret, timestamp, body),
    }
    if delivery.replay_of_id:
        headers["X-Alliance-Replay-Of"] = str(delivery.replay_of.uuid)
    return body, headers


def attempt(delivery: WebhookDelivery) -> str:
    """Make one request for a delivery already claimed (in flight) and record its outcome.
    Returns the outcome."""
    started_at = timezone.now()
    body, headers = request_for(delivery, now=started_at)
    status_code, error, excerpt, duration_ms = None, "", "", 0
    try:
        response = net.post(delivery.subscription.url, body, headers)
    except net.UnsafeURL as exc:
        error = _("Refused: %s") % exc
    except Exception as exc:  # time-outs, refused connections, TLS, malformed answers: retried
        error = f"{exc.__class__.__name__}: {exc}"[:2000]
    else:
        status_code, excerpt, duration_ms = response.status, response.excerpt, response.duration_ms
        if not 200 <= status_code < 300:
            error = _("The receiver answered HTTP %d.") % status_code
    return record_outcome(
        delivery,
        started_at=started_at,
        status_code=status_code,
        error=error,
        excerpt=excerpt,
        duration_ms=duration_ms,
    )


@transaction.atomic
def record_outcome(
    delivery: WebhookDelivery,
    *,
    started_at: datetime.datetime,
    status_code: int | None,
    error: str,
    excerpt: str,
    duration_ms: int,
) -> str:
    now = timezone.now()
    subscription = WebhookSubscription.objects.select_for_update().get(pk=delivery.subscription_id)
    fields = {
        "last_status_code": status_code,
        "last_error": error,
        "response_excerpt": excerpt,
        "in_flight_since": None,
        "updated_at": now,
    }
    disable_reason = ""
    if status_code is not None and 200 <= status_code < 300:
        outcome = Outcome.DELIVERED
        fields.update(status=Status.DELIVERED, delivered_at=now, next_attempt_at=None)
        if subscription.consecutive_failures or subscription.failing_since:
            # Counters, not history: an update() records no historical row per attempt.
            WebhookSubscription.objects.filter(pk=subscription.pk).update(
                consecutive_failures=0, failing_since=None
            )
    elif status_code == 410:
        outcome = Outcome.GONE
        fields.update(status=Status.FAILED, next_attempt_at=None)
        disable_reason = _("The receiver answered 410 Gone: it no longer wants these webhooks.")
    else:
        delay = min(
            retry_base_seconds() * 2 ** min(max(delivery.attempts - 1, 0), 30),
            retry_cap_seconds(),
        )
        next_attempt = now + datetime.timedelta(seconds=delay)
        if next_attempt <= delivery.created_at + retry_window():
            outcome = Outcome.RETRY
            fields.update(status=Status.RETRY, next_attempt_at=next_attempt)
        else:
            outcome = Outcome.FAILED
            fields.update(status=Status.FAILED, next_attempt_at=None)
        subscription.consecutive_failures += 1
        subscription.failing_since = subscription.failing_since or started_at
        WebhookSubscription.objects.filter(pk=subscription.pk).update(
            consecutive_failures=subscription.consecutive_failures,
            failing_since=subscription.failing_since,
        )
        # A busy subscription piles up failures within minutes of an outage, so the count
        # alone does not disable it: the receiver must also have failed for the whole retry
        # window — nothing accepted since, or a delivery has just given up after it.
        failing_long = (
            outcome == Outcome.FAILED or subscription.failing_since <= now - retry_window()
        )
        if (
            subscription.active
            and subscription.consecutive_failures >= disable_after_failures()
            and failing_long
        ):
            disable_reason = _(
                "%(n)d requests in a row failed over more than %(days)s days (last: %(error)s)."
            ) % {
                "n": subscription.consecutive_failures,
                "days": retry_window().days,
                "error": error,
            }
    WebhookDelivery.objects.filter(pk=delivery.pk, status=Status.IN_FLIGHT).update(**fields)
    WebhookAttempt.objects.create(
        delivery=delivery,
        number=delivery.attempts,
        started_at=started_at,
        duration_ms=duration_ms,
        status_code=status_code,
        error=error,
        response_excerpt=excerpt,
        outcome=outcome,
    )
    if disable_reason and subscription.active:
        webhook_subscription_disable(
            subscription=subscription, reason=disable_reason, acting_user=None, notify_owner=True
        )
    return outcome


# --- The periodic pass -----------------------------------------------------------------------


def requeue_stale_in_flight() -> int:
    """Deliveries in flight for longer than the time-out: their worker died or lost the answer.
    They are tried again (receivers deduplicate on the delivery id)."""
    now = timezone.now()
    return WebhookDelivery.objects.filter(
        status=Status.IN_FLIGHT, in_flight_since__lt=now - in_flight_timeout()
    ).update(
        status=Status.RETRY,
        next_attempt_at=now,
        in_flight_since=None,
        last_error=_("The sender stopped while sending; trying again."),
        updated_at=now,
    )


def due_ids(limit: int = 1000) -> list[int]:
    return list(
        WebhookDelivery.objects.filter(status__in=SENDABLE, subscription__active=True)
        .filter(_due())
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )


def schedule_due_webhooks() -> int:
    """For ``OUTBOX_SCHEDULERS``: every outbox pass (each minute) enqueues the deliveries that
    are due — retries whose time has come and pending rows whose enqueue was lost (a broker
    outage at commit time). Returns how many were enqueued."""
    requeued = requeue_stale_in_flight()
    if requeued:
        logger.warning("%d webhook deliveries were stuck in flight; retrying them", requeued)
    ids = due_ids()
    enqueue_on_commit(ids)
    return len(ids)
