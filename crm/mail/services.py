"""Writing to the outbox and moving a message through its states.

A message is created once per logical ``key``; it is sent by :mod:`crm.mail.tasks` only after
the transaction that created it commits. The sender marks a row *in flight* and commits before
it talks to SMTP, so a worker that dies mid-send leaves the row in flight — it is later marked
*unknown* and shown to coordinators, never resent silently.

Delivery events reported by the mail provider (:mod:`crm.mail.webhooks`) are recorded here too:
hard bounces past ``MAIL_HARD_BOUNCE_HOLD_THRESHOLD``, and any spam complaint, put the address
on hold, and no mail is sent to an address on hold until a coordinator releases it.
"""

import datetime
import logging
import smtplib
from collections.abc import Iterable
from functools import partial

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from crm.exceptions import ApplicationError
from crm.mail.models import AddressHold, DeliveryEvent, OutgoingMessage
from members.models import Contact

logger = logging.getLogger(__name__)

Status = OutgoingMessage.Status
FINAL = frozenset({Status.SENT, Status.FAILED, Status.SUPPRESSED, Status.UNKNOWN})
SENDABLE = frozenset({Status.QUEUED, Status.RETRY})

RETRY = "retry"
FAIL = "fail"


def retry_base_seconds() -> int:
    return getattr(settings, "OUTBOX_RETRY_BASE_SECONDS", 60)


def max_attempts() -> int:
    return getattr(settings, "OUTBOX_MAX_ATTEMPTS", 8)


def in_flight_timeout() -> datetime.timedelta:
    return datetime.timedelta(seconds=getattr(settings, "OUTBOX_IN_FLIGHT_TIMEOUT", 15 * 60))


def message_create(
    *,
    key: str,
    purpose: str,
    subject: str,
    body_text: str,
    to_email: str | None = None,
    contact: Contact | None = None,
    essential: bool = False,
    about: models.Model | None = None,
    language: str = "en",
    body_html: str = "",
    attachments: list[dict] | None = None,
) -> tuple[OutgoingMessage, bool]:
    """Create the outbox row for one logical message, or return the existing one.

    Returns ``(message, created)``. Sending is enqueued when the surrounding transaction
    commits. A message to an address on hold (bounces, complaint) — even an essential one — or
    a non-essential message to a contact who opted out is kept as *suppressed* and never sent.
    """
    if contact is not None and contact.is_erased:
        # Their address is gone, and one given explicitly must not revive mail to them.
        raise ApplicationError(
            _("This contact's personal data was erased; no mail is sent to them."),
            field="contact",
        )
    to_email = (to_email or (contact.email if contact else "")).strip().lower()
    if not to_email:
        raise ApplicationError(_("This contact has no e-mail address."), field="to_email")
    existing = OutgoingMessage.objects.filter(key=key).first()
    if existing:
        return existing, False
    hold = AddressHold.objects.filter(email=to_email, released_at__isnull=True).first()
    if hold is not None:
        suppressed, reason = True, hold_suppression_reason(hold)
    elif not essential and contact is not None and contact.has_opted_out:
        suppressed, reason = True, _("Recipient opted out of non-essential mail")
    else:
        suppressed, reason = False, ""
    message = OutgoingMessage(
        key=key,
        purpose=purpose,
        essential=essential,
        contact=contact,
        to_email=to_email,
        about_type=ContentType.objects.get_for_model(about) if about is not None else None,
        about_id=about.pk if about is not None else None,
        language=language,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        attachments=attachments or [],
        message_id=OutgoingMessage.message_id_for(key),
        status=Status.SUPPRESSED if suppressed else Status.QUEUED,
        last_error=reason,
    )
    try:
        # A savepoint, so that losing a race to a concurrent creator does not break the
        # caller's transaction.
        with transaction.atomic():
            message.save()
    except IntegrityError:
        return OutgoingMessage.objects.get(key=key), False
    if not suppressed:
        enqueue_on_commit([message.pk])
    return message, True


def enqueue_on_commit(ids: Iterable[int]) -> None:
    from crm.mail.tasks import send_messages

    ids = list(ids)
    if ids:
        transaction.on_commit(partial(send_messages.delay, ids))


def classify_error(exc: BaseException) -> str:
    """Temporary errors (4xx answers, dropped connections, time-outs) are retried;
    permanent ones (5xx) and anything else are not."""
    if isinstance(exc, smtplib.SMTPResponseException):
        return RETRY if 400 <= exc.smtp_code < 500 else FAIL
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _msg in exc.recipients.values()]
        return RETRY if codes and all(400 <= c < 500 for c in codes) else FAIL
    if isinstance(exc, smtplib.SMTPServerDisconnected | ConnectionError | TimeoutError):
        return RETRY
    if isinstance(exc, OSError):  # socket errors: refused, unreachable, reset
        return RETRY
    return FAIL


def claim(ids: Iterable[int]) -> list[OutgoingMessage]:
    """Lock the sendable rows among ``ids`` (skipping rows another worker holds), mark them
    in flight and commit, before any SMTP conversation starts. This commit is durable (the
    server's ``synchronous_commit``, never lowered here): a claim lost in a crash would let a
    row that may already have been sent look sendable again."""
    now = timezone.now()
    with transaction.atomic():
        rows = list(
            OutgoingMessage.objects.select_for_update(skip_locked=True)
            .filter(pk__in=list(ids), status__in=SENDABLE)
            .filter(models.Q(next_attempt_at__isnull=True) | models.Q(next_attempt_at__lte=now))
            .order_by("pk")
        )
        if rows:
            # One UPDATE with the same values for every row (bulk_update would build a CASE
            # per column over the batch, ~2 ms of CPU per message).
            OutgoingMessage.objects.filter(pk__in=[row.pk for row in rows]).update(
                status=Status.IN_FLIGHT,
                in_flight_since=now,
                attempts=models.F("attempts") + 1,
                updated_at=now,
            )
        for row in rows:
            row.status = Status.IN_FLIGHT
            row.in_flight_since = now
            row.attempts += 1
            row.updated_at = now
    return rows


def _record_attempt(message: OutgoingMessage, **values) -> None:
    """Record the outcome of one SMTP conversation on a row still in flight: one ``UPDATE`` in
    autocommit, a single round trip per message.

    On PostgreSQL this commit does not wait for its WAL flush: ``synchronous_commit`` is off
    for this one transaction, through ``set_config(…, true)`` in the statement itself. The
    trade-off: a killed worker loses nothing — its commit returned before the next message
    was sent, and the live server writes it out within three ``wal_writer_delay`` (0.6 s by
    default) — and there is still one mark per message, so a killed worker leaves at most one
    row of unknown fate. Only a crash of the database server itself could lose the marks of
    its last fraction of a second; those rows are then still in flight, become *unknown*
    after ``OUTBOX_IN_FLIGHT_TIMEOUT`` and are never resent silently. The claim, whose loss
    could cause a resend, keeps its durable commit. Inside an outer transaction (``atomic``)
    the mark commits with it and that transaction's durability is left alone; SQLite has no
    such setting, and there the statement is a plain ``UPDATE``.

    Written in SQL because compiling the equivalent ``QuerySet.update()`` took about three
    times the CPU of sending the statement, once per message."""
    meta = OutgoingMessage._meta
    quote = connection.ops.quote_name
    values["updated_at"] = timezone.now()
    fields = [meta.get_field(name) for name in values]
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    source = ""
    if connection.vendor == "postgresql" and connection.get_autocommit():
        source = "FROM (SELECT set_config('synchronous_commit', 'off', true)) AS async_commit "
    sql = (
        f"UPDATE {quote(meta.db_table)} SET {assignments} {source}"  # noqa: S608 — model's names
        f"WHERE {quote(meta.pk.column)} = %s AND {quote(meta.get_field('status').column)} = %s"
    )
    params = [
        field.get_db_prep_save(value, connection)
        for field, value in zip(fields, values.values(), strict=True)
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, message.pk, Status.IN_FLIGHT])


def mark_sent(message: OutgoingMessage) -> None:
    """The SMTP server accepted the message: record it at once, before the next one is sent
    (see :func:`_record_attempt` for what a crash can and cannot lose)."""
    _record_attempt(
        message, status=Status.SENT, sent_at=timezone.now(), last_error="", next_attempt_at=None
    )


def mark_error(message: OutgoingMessage, exc: BaseException) -> str:
    """Record a failed attempt: awaiting retry with backoff, or failed. Returns the new status."""
    now = timezone.now()
    kind = classify_error(exc)
    error = f"{exc.__class__.__name__}: {exc}"[:2000]
    if kind == RETRY and message.attempts < max_attempts():
        delay = retry_base_seconds() * 2 ** max(message.attempts - 1, 0)
        status, next_attempt = Status.RETRY, now + datetime.timedelta(seconds=min(delay, 3600))
    else:
        status, next_attempt = Status.FAILED, None
    _record_attempt(message, status=status, last_error=error, next_attempt_at=next_attempt)
    return status


def mark_stale_unknown() -> int:
    """Rows in flight for longer than the time-out: the worker died or lost the answer. Whether
    the message left is unknown, so they are shown to coordinators, never resent silently."""
    limit = timezone.now() - in_flight_timeout()
    return OutgoingMessage.objects.filter(
        status=Status.IN_FLIGHT, in_flight_since__lt=limit
    ).update(
        status=Status.UNKNOWN,
        last_error=_("The sender stopped while sending; delivery is unknown."),
        updated_at=timezone.now(),
    )


def due_ids(limit: int = 1000) -> list[int]:
    now = timezone.now()
    return list(
        OutgoingMessage.objects.filter(status__in=SENDABLE)
        .filter(models.Q(next_attempt_at__isnull=True) | models.Q(next_attempt_at__lte=now))
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )


@transaction.atomic
def message_resend(
    *, message: OutgoingMessage, acting_user: AbstractBaseUser | None
) -> OutgoingMessage:
    """A coordinator's explicit resend of a failed or unknown message: a new row (a new
    Message-ID) linked to the old one, so the record of the first attempt stays as it was."""
    message = OutgoingMessage.objects.select_for_update().get(pk=message.pk)
    if message.status not in (Status.FAILED, Status.UNKNOWN):
        raise ApplicationError(
            _("Only failed messages or messages of unknown delivery can be resent.")
        )
    if AddressHold.objects.filter(email=message.to_email, released_at__isnull=True).exists():
        raise ApplicationError(
            _("This address is on hold after bounces or a complaint; release it first.")
        )
    n = message.resends.count() + 1
    copy = OutgoingMessage.objects.create(
        key=f"{message.key}#resend{n}",
        purpose=message.purpose,
        essential=message.essential,
        contact=message.contact,
        to_email=message.to_email,
        about_type=message.about_type,
        about_id=message.about_id,
        language=message.language,
        subject=message.subject,
        body_text=message.body_text,
        body_html=message.body_html,
        attachments=message.attachments,
        message_id=OutgoingMessage.message_id_for(f"{message.key}#resend{n}"),
        resent_from=message,
        last_error=_("Resent by %s") % (acting_user or _("the system")),
    )
    enqueue_on_commit([copy.pk])
    return copy


# --- Delivery events and address holds ----------------------------------------------------

HARD_BOUNCES = frozenset({DeliveryEvent.Type.BOUNCED, DeliveryEvent.Type.REJECTED})


def hard_bounce_threshold() -> int:
    return max(1, getattr(settings, "MAIL_HARD_BOUNCE_HOLD_THRESHOLD", 1))


def hold_suppression_reason(hold: AddressHold) -> str:
    if hold.reason == AddressHold.Reason.COMPLAINT:
        return _("Address on hold after a spam complaint; a coordinator can release it.")
    return _("Address on hold after bounces; a coordinator can release it.")


def normalise_message_id(value: str | None) -> str:
    """Providers report the Message-ID header with or without its angle brackets."""
    value = (value or "").strip()
    if value and not value.startswith("<"):
        value = f"<{value}>"
    return value


@transaction.atomic
def delivery_event_record(
    *,
    esp: str,
    event_type: str,
    recipient: str,
    message_id: str = "",
    event_id: str = "",
    reject_reason: str = "",
    description: str = "",
    mta_response: str = "",
    occurred_at: datetime.datetime | None = None,
    raw: dict | None = None,
) -> tuple[DeliveryEvent, AddressHold | None]:
    """Store one event reported by the mail provider and apply its consequence.

    A hard bounce (``bounced`` or ``rejected``) counts towards
    ``MAIL_HARD_BOUNCE_HOLD_THRESHOLD`` (hard bounces to the address since its last release);
    reaching it puts the address on hold. A complaint puts it on hold at once. While an address
    is on hold, :func:`message_create` suppresses every message to it, and messages still
    waiting to be sent to it are suppressed when the hold starts.

    The event is linked to our outbox row when the provider reports our Message-ID; an event
    about a message we do not know is stored all the same. A redelivered event (same provider
    event id) is stored once and counted once. Returns ``(event, hold)``, where ``hold`` is the
    hold this event started or added to, if any.
    """
    recipient = (recipient or "").strip().lower()
    message_id = normalise_message_id(message_id)
    event_id = (event_id or "").strip()[:255]
    if event_id:
        existing = DeliveryEvent.objects.filter(esp=esp, event_id=event_id).first()
        if existing:
            return existing, None
    message = (
        OutgoingMessage.objects.filter(message_id=message_id).select_related("contact").first()
        if message_id
        else None
    )
    if not recipient and message is not None:
        recipient = message.to_email
    event = DeliveryEvent(
        esp=esp[:40],
        event_id=event_id,
        event_type=event_type if event_type in DeliveryEvent.Type.values else "unknown",
        recipient=recipient,
        esp_message_id=message_id[:255],
        message=message,
        reject_reason=(reject_reason or "")[:40],
        description=description or "",
        mta_response=mta_response or "",
        occurred_at=occurred_at or timezone.now(),
        raw=raw or {},
    )
    try:
        with transaction.atomic():  # a concurrent delivery of the same event lost the race
            event.save()
    except IntegrityError:
        return DeliveryEvent.objects.get(esp=esp, event_id=event_id), None
    if not recipient:
        return event, None
    if event.event_type == DeliveryEvent.Type.COMPLAINED:
        hold = _hold(event, AddressHold.Reason.COMPLAINT)
    elif event.event_type in HARD_BOUNCES:
        hold = _hold(event, AddressHold.Reason.BOUNCES)
    else:
        hold = None
    return event, hold


def _hold(event: DeliveryEvent, reason: str) -> AddressHold | None:
    email = event.recipient
    detail = event.description or event.mta_response or event.get_event_type_display()
    is_bounce = event.event_type in HARD_BOUNCES
    hold = (
        AddressHold.objects.select_for_update()
        .filter(email=email, released_at__isnull=True)
        .first()
    )
    if hold is not None:  # already on hold: keep the count and the latest detail
        hold.bounce_count += int(is_bounce)
        if reason == AddressHold.Reason.COMPLAINT:
            hold.reason = reason
        hold.detail = detail
        hold.save(update_fields=["bounce_count", "reason", "detail", "updated_at"])
        return hold
    last_release = (
        AddressHold.objects.filter(email=email, released_at__isnull=False)
        .order_by("-released_at")
        .values_list("released_at", flat=True)
        .first()
    )
    bounces = DeliveryEvent.objects.filter(recipient=email, event_type__in=HARD_BOUNCES)
    if last_release is not None:
        bounces = bounces.filter(created_at__gt=last_release)
    count = bounces.count()
    if reason == AddressHold.Reason.BOUNCES and count < hard_bounce_threshold():
        return None
    contact = event.message.contact if event.message is not None else None
    if contact is None:
        contact = Contact.objects.filter(email__iexact=email).first()
    hold = AddressHold(
        email=email,
        reason=reason,
        detail=detail,
        bounce_count=count,
        held_since=timezone.now(),
        contact=contact,
    )
    try:
        with transaction.atomic():
            hold.save()
    except IntegrityError:  # a concurrent event for the same address started the hold
        hold = AddressHold.objects.select_for_update().get(email=email, released_at__isnull=True)
        hold.bounce_count += int(is_bounce)
        hold.save(update_fields=["bounce_count", "updated_at"])
        return hold
    # Mail already waiting for this address would otherwise still go out.
    OutgoingMessage.objects.filter(to_email=email, status__in=SENDABLE).update(
        status=Status.SUPPRESSED,
        last_error=hold_suppression_reason(hold),
        next_attempt_at=None,
        updated_at=timezone.now(),
    )
    logger.warning("Address hold %s started (%s, %d hard bounces)", hold.pk, reason, count)
    _run_on_hold_hook(hold)
    return hold


def _run_on_hold_hook(hold: AddressHold) -> None:
    """Call ``settings.MAIL_ON_HOLD_HOOK`` (a dotted path, default ``None``) with a hold that
    has just started.

    This is where other apps react to a hold without this module knowing them — for example
    ``meetings`` opening a follow-up for the coordinator in charge of the contact's
    organisation (``hold.contact``, or the contacts with ``hold.email``). The hook runs inside
    the transaction that records the event, in a savepoint: its writes commit together with the
    hold, and if it raises, its writes are rolled back and logged while the hold stays — a
    bounced address must be held even when the follow-up cannot be opened.
    """
    path = getattr(settings, "MAIL_ON_HOLD_HOOK", None)
    if not path:
        return
    try:
        with transaction.atomic():
            import_string(path)(hold)
    except Exception:
        logger.exception("MAIL_ON_HOLD_HOOK %s failed for address hold %s", path, hold.pk)


@transaction.atomic
def address_hold_release(*, email: str, acting_user: AbstractBaseUser | None) -> AddressHold:
    """A coordinator lets mail go to the address again (it was fixed, or the complaint was a
    mistake). The hold stays as a record; later bounces count afresh from this moment.
    Messages suppressed while the address was on hold are not sent."""
    email = (email or "").strip().lower()
    hold = (
        AddressHold.objects.select_for_update()
        .filter(email=email, released_at__isnull=True)
        .first()
    )
    if hold is None:
        raise ApplicationError(
            _("%(email)s is not on hold.") % {"email": email or "—"}, field="email"
        )
    hold.released_at = timezone.now()
    hold.released_by = acting_user if getattr(acting_user, "is_authenticated", False) else None
    hold.save(update_fields=["released_at", "released_by", "updated_at"])
    return hold


@transaction.atomic
def messages_purge_bodies(
    *, older_than_days: int | None = None, now: datetime.datetime | None = None
) -> int:
    """Retention: empty the text, HTML and attachments of messages in a final state (sent,
    failed, suppressed, unknown) that reached it more than ``older_than_days`` ago
    (``RETENTION_OUTBOX_BODY_DAYS``). The row, subject, status and dates stay, so the outbox
    still shows what was sent to whom and when. Idempotent; returns how many were purged."""
    days = settings.RETENTION_OUTBOX_BODY_DAYS if older_than_days is None else older_than_days
    cutoff = (now or timezone.now()) - datetime.timedelta(days=days)
    return (
        OutgoingMessage.objects.filter(status__in=FINAL)
        .filter(
            models.Q(sent_at__lt=cutoff) | models.Q(sent_at__isnull=True, updated_at__lt=cutoff)
        )
        .filter(~models.Q(body_text="") | ~models.Q(body_html="") | ~models.Q(attachments=[]))
        .update(body_text="", body_html="", attachments=[])
    )
