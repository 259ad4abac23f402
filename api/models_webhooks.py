"""Webhook subscriptions of API clients, and the deliveries (an outbox of HTTP POSTs) made to
them. Imported at the bottom of :mod:`api.models`, so Django finds them in the ``api`` app."""

import uuid

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from api.webhooks.events import EVENT_TYPE_CHOICES, EVENT_TYPES
from api.webhooks.signing import generate_secret
from crm.history import AuditedHistory
from crm.models import TimeStampedModel

__all__ = ["WebhookAttempt", "WebhookDelivery", "WebhookSubscription"]


def validate_event_types(value) -> None:
    if not isinstance(value, list) or not value:
        raise ValidationError(_("Choose at least one event type."))
    unknown = [v for v in value if v not in EVENT_TYPES]
    if unknown:
        raise ValidationError(
            _("Unknown event types: %(types)s."), params={"types": ", ".join(map(str, unknown))}
        )


class WebhookSubscription(TimeStampedModel):
    """An API client's wish to be told (by a signed POST to ``url``) about some event types.

    The secret is stored as it is, not hashed: it is the HMAC key of every delivery, so the
    CRM needs it and its owner may read it again."""

    client = models.ForeignKey(
        "api.ApiClient",
        on_delete=models.CASCADE,
        related_name="webhook_subscriptions",
        verbose_name=_("API client"),
    )
    url = models.URLField(_("URL"), max_length=500)
    secret = models.CharField(_("signing secret"), max_length=80, default=generate_secret)
    event_types = models.JSONField(
        _("event types"), default=list, validators=[validate_event_types]
    )
    active = models.BooleanField(_("active"), default=True, db_index=True)
    disabled_at = models.DateTimeField(_("disabled"), null=True, blank=True)
    disabled_reason = models.TextField(_("why disabled"), blank=True)
    consecutive_failures = models.PositiveIntegerField(
        _("failed attempts in a row"), default=0, editable=False
    )
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True, editable=False)

    history = AuditedHistory(
        excluded_fields=["updated_at", "secret", "consecutive_failures", "failing_since"]
    )

    class Meta:
        ordering = ["client__name", "pk"]
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")

    def __str__(self) -> str:
        return f"{self.client} → {self.url}"

    def wants(self, event_type: str) -> bool:
        return event_type in (self.event_types or [])


class WebhookDelivery(TimeStampedModel):
    """One event for one subscription: a row before it is a request, like the mail outbox.

    Receivers deduplicate on ``uuid`` (the ``X-Alliance-Delivery`` header): a delivery whose
    worker died mid-request is tried again, so a receiver may see it twice."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        IN_FLIGHT = "in_flight", _("In flight")
        DELIVERED = "delivered", _("Delivered")
        RETRY = "retry", _("Awaiting retry")
        FAILED = "failed", _("Failed")

    uuid = models.UUIDField(_("delivery id"), default=uuid.uuid4, unique=True, editable=False)
    subscription = models.ForeignKey(
        WebhookSubscription,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("subscription"),
    )
    event_type = models.CharField(_("event type"), max_length=50, choices=EVENT_TYPE_CHOICES)
    object_type = models.CharField(_("object type"), max_length=30)
    object_id = models.PositiveBigIntegerField(_("object id"))
    payload = models.JSONField(_("payload"))
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    in_flight_since = models.DateTimeField(_("in flight since"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(
        _("last HTTP status"), null=True, blank=True
    )
    last_error = models.TextField(_("last error"), blank=True)
    response_excerpt = models.TextField(_("response (start)"), blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    replay_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="replays",
        verbose_name=_("replay of"),
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.event_type} {self.object_type}#{self.object_id} → {self.subscription.url}"


class WebhookAttempt(models.Model):
    """One HTTP request of a delivery, kept for the back office."""

    class Outcome(models.TextChoices):
        DELIVERED = "delivered", _("Delivered")
        RETRY = "retry", _("Will retry")
        FAILED = "failed", _("Failed")
        GONE = "gone", _("Gone (410): subscription disabled")

    delivery = models.ForeignKey(
        WebhookDelivery,
        on_delete=models.CASCADE,
        related_name="attempt_log",
        verbose_name=_("delivery"),
    )
    number = models.PositiveSmallIntegerField(_("attempt"))
    started_at = models.DateTimeField(_("started"))
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    response_excerpt = models.TextField(_("response (start)"), blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices)

    class Meta:
        ordering = ["delivery", "number"]
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")

    def __str__(self) -> str:
        return f"#{self.number}: {self.status_code or self.error[:40]}"
