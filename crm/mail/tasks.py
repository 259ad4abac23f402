import contextlib
import logging

from celery import shared_task
from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives, get_connection
from django.urls import reverse

from crm.mail import services
from crm.mail.models import OutgoingMessage

logger = logging.getLogger(__name__)
BATCH = 50


def unsubscribe_url(message: OutgoingMessage) -> str | None:
    if message.essential or message.contact_id is None:
        return None
    token = signing.dumps({"c": message.contact_id}, salt="mail.unsubscribe")
    return settings.CRM_SITE_URL.rstrip("/") + reverse("mail:unsubscribe", args=[token])


def build_email(message: OutgoingMessage, connection) -> EmailMultiAlternatives:
    headers = {"Message-ID": message.message_id}
    url = unsubscribe_url(message)
    if url:
        # RFC 8058 one-click: mail clients POST "List-Unsubscribe=One-Click" to the URL.
        headers["List-Unsubscribe"] = f"<{url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body_text,
        to=[message.to_email],
        headers=headers,
        connection=connection,
    )
    if message.body_html:
        email.attach_alternative(message.body_html, "text/html")
    for attachment in message.attachments:
        email.attach(attachment["filename"], attachment["content"], attachment["mimetype"])
    return email


@shared_task(acks_late=True)
def send_messages(ids: list[int]) -> dict[str, int]:
    """Send the given outbox rows over one SMTP connection; rows already in flight or final
    are skipped, so a replayed task sends nothing twice."""
    rows = services.claim(ids)
    counts = {"sent": 0, "retry": 0, "failed": 0}
    if not rows:
        return counts
    connection = get_connection(fail_silently=False)
    try:
        for row in rows:
            try:
                connection.open()
                connection.send_messages([build_email(row, connection)])
            except Exception as exc:  # classified: temporary ones retried, the rest failed
                status = services.mark_error(row, exc)
                counts["retry" if status == OutgoingMessage.Status.RETRY else "failed"] += 1
                logger.warning("Mail %s to %s: %s", row.pk, row.to_email, exc)
                # After any SMTP error the connection is in an unknown state: start afresh.
                with contextlib.suppress(Exception):  # closing a broken connection may fail too
                    connection.close()
            else:
                services.mark_sent(row)
                counts["sent"] += 1
    finally:
        with contextlib.suppress(Exception):
            connection.close()
    return counts


@shared_task
def dispatch_outbox() -> dict[str, int]:
    """The periodic pass (every minute): surface rows stuck in flight as unknown, then enqueue
    every due row in batches. The database is the schedule; nothing waits in the broker."""
    unknown = services.mark_stale_unknown()
    ids = services.due_ids()
    for start in range(0, len(ids), BATCH):
        send_messages.delay(ids[start : start + BATCH])
    return {"unknown": unknown, "enqueued": len(ids)}
