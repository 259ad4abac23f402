"""Delivery events from the mail provider, through django-anymail's tracking webhooks.

Mailgun POSTs each event (delivered, failed, complained…) to ``/mail/anymail/mailgun/tracking/``.
Anymail checks the HTTP basic auth (``ANYMAIL["WEBHOOK_SECRET"]``) and Mailgun's HMAC signature
(``ANYMAIL["MAILGUN_WEBHOOK_SIGNING_KEY"]``), answers 400 when either is wrong, normalises the
payload and sends its ``tracking`` signal; :func:`record_tracking_event` stores the event through
:func:`crm.mail.services.delivery_event_record`.

Another provider needs only its own anymail view wired in ``crm/mail/urls.py``: the receiver
listens to every tracking event whatever its sender.
"""

import json
import logging
from typing import Any

from anymail.signals import AnymailTrackingEvent, EventType, tracking
from anymail.webhooks.mailgun import MailgunTrackingWebhookView
from django.conf import settings
from django.dispatch import receiver
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from crm.mail import services

logger = logging.getLogger(__name__)

# Opens and clicks say what a person read, not whether mail reaches them: the CRM does not keep
# them (and does not ask the provider to track them).
NOT_RECORDED = frozenset({EventType.OPENED, EventType.CLICKED})

_mailgun_view = MailgunTrackingWebhookView.as_view()


def mailgun_configured() -> bool:
    options = getattr(settings, "ANYMAIL", {})
    return bool(options.get("WEBHOOK_SECRET")) and bool(options.get("MAILGUN_WEBHOOK_SIGNING_KEY"))


@csrf_exempt  # the provider posts without a session; basic auth and the signature are the proof
def mailgun_tracking(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """Anymail's Mailgun tracking view, answering 404 until both secrets are configured: without
    WEBHOOK_SECRET anymail would accept posts without basic auth (it only warns)."""
    if not mailgun_configured():
        raise Http404
    return _mailgun_view(request, *args, **kwargs)


def _json_safe(esp_event: Any) -> dict:
    if hasattr(esp_event, "lists"):  # a QueryDict (form-encoded legacy webhooks)
        esp_event = {key: values for key, values in esp_event.lists()}
    try:
        data = json.loads(json.dumps(esp_event, default=str))
    except (TypeError, ValueError):
        data = str(esp_event)
    return data if isinstance(data, dict) else {"event": data}


# Connected here, next to the view that sends the signal: this module is imported with
# crm/mail/urls.py, so the receiver is in place whenever the webhook can be reached.
@receiver(tracking, dispatch_uid="crm.mail.webhooks.record_tracking_event")
def record_tracking_event(
    sender: type, event: AnymailTrackingEvent, esp_name: str, **kwargs: Any
) -> None:
    if event.event_type in NOT_RECORDED:
        return
    services.delivery_event_record(
        esp=esp_name,
        event_type=event.event_type,
        recipient=event.recipient or "",
        message_id=event.message_id or "",
        event_id=event.event_id or "",
        reject_reason=event.reject_reason or "",
        description=event.description or "",
        mta_response=event.mta_response or "",
        occurred_at=event.timestamp,
        raw=_json_safe(event.esp_event),
    )
