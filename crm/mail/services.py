"""Writing to the outbox and moving a message through its states.

A message is created once per logical ``key``; it is sent by :mod:`crm.mail.tasks` only after
the transaction that created it commits. The sender marks a row *in flight* and commits before
it talks to SMTP, so a worker that dies mid-send leaves the row in flight — it is later marked
*unknown* and shown to coordinators, never resent silently.
"""

import datetime
import smtplib
from collections.abc import Iterable
from functools import partial

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.exceptions import ApplicationError
from crm.mail.models import OutgoingMessage
from members.models import Contact

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
    commits; a message to a contact who opted out of non-essential mail is kept as
    *suppressed* and never sent.
    """
    to_email = (to_email or (contact.email if contact else "")).strip().lower()
    if not to_email:
        raise ApplicationError(_("This contact has no e-mail address."), field="to_email")
    existing = OutgoingMessage.objects.filter(key=key).first()
    if existing:
        return existing, False
    suppressed = not essential and contact is not None and contact.has_opted_out
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
        last_error=_("Recipient opted out of non-essential mail") if suppressed else "",
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
    in flight and commit, before any SMTP conversation starts."""
    now = timezone.now()
    with transaction.atomic():
        rows = list(
            OutgoingMessage.objects.select_for_update(skip_locked=True)
            .filter(pk__in=list(ids), status__in=SENDABLE)
            .filter(models.Q(next_attempt_at__isnull=True) | models.Q(next_attempt_at__lte=now))
            .order_by("pk")
        )
        for row in rows:
            row.status = Status.IN_FLIGHT
            row.in_flight_since = now
            row.attempts += 1
        OutgoingMessage.objects.bulk_update(
            rows, ["status", "in_flight_since", "attempts", "updated_at"]
        )
    return rows


def mark_sent(message: OutgoingMessage) -> None:
    now = timezone.now()
    OutgoingMessage.objects.filter(pk=message.pk, status=Status.IN_FLIGHT).update(
        status=Status.SENT, sent_at=now, last_error="", next_attempt_at=None, updated_at=now
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
    OutgoingMessage.objects.filter(pk=message.pk, status=Status.IN_FLIGHT).update(
        status=status, last_error=error, next_attempt_at=next_attempt, updated_at=now
    )
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
