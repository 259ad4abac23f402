import hashlib

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm.models import TimeStampedModel


class OutgoingMessage(TimeStampedModel):
    """One logical e-mail to one recipient. ``key`` names the logical message (purpose, object,
    recipient, rule), so that a replayed task, a second scheduler or a double click finds the
    existing row instead of creating a second one."""

    class Purpose(models.TextChoices):
        INVITATION = "invitation", _("Invitation")
        REMINDER = "reminder", _("Reminder")
        CONFIRMATION = "confirmation", _("Confirmation")
        UPDATE = "update", _("Update")
        CANCELLATION = "cancellation", _("Cancellation")
        FOLLOW_UP = "follow_up", _("Follow-up")
        DIGEST = "digest", _("Digest")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        IN_FLIGHT = "in_flight", _("In flight")
        SENT = "sent", _("Sent")
        RETRY = "retry", _("Awaiting retry")
        FAILED = "failed", _("Failed")
        UNKNOWN = "unknown", _("Unknown")
        SUPPRESSED = "suppressed", _("Suppressed")

    key = models.CharField(_("key"), max_length=255, unique=True)
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices)
    essential = models.BooleanField(
        _("essential"),
        default=False,
        help_text=_("Essential mail (invitations, changes) is sent despite an opt-out."),
    )
    contact = models.ForeignKey(
        "members.Contact",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="messages",
        verbose_name=_("contact"),
    )
    to_email = models.EmailField(_("to"))
    about_type = models.ForeignKey(
        ContentType, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    about_id = models.PositiveBigIntegerField(null=True, blank=True)
    about = GenericForeignKey("about_type", "about_id")
    language = models.CharField(_("language"), max_length=8, default="en")
    subject = models.CharField(_("subject"), max_length=255)
    body_text = models.TextField(_("text"))
    body_html = models.TextField(_("HTML"), blank=True)
    attachments = models.JSONField(
        _("attachments"),
        default=list,
        blank=True,
        help_text=_("A list of {filename, mimetype, content} with text content."),
    )
    message_id = models.CharField(_("Message-ID"), max_length=255, unique=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    in_flight_since = models.DateTimeField(_("in flight since"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    resent_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="resends"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("outgoing message")
        verbose_name_plural = _("outgoing messages")
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} → {self.to_email}: {self.subject}"

    @staticmethod
    def message_id_for(key: str) -> str:
        """Deterministic: the same logical message always carries the same Message-ID, so a
        receiving system (and our tests) can recognise a duplicate."""
        digest = hashlib.sha256(key.encode()).hexdigest()[:32]
        domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip(">") or "localhost"
        return f"<{digest}@{domain}>"


class DeliveryEvent(TimeStampedModel):
    """What the mail provider reported about one message to one recipient (bounce, complaint,
    delivery…), received through django-anymail's tracking webhook. Kept as received: the
    normalised fields for the back office and ``raw`` for anyone who needs the details."""

    class Type(models.TextChoices):
        # Anymail's normalised event types (anymail.signals.EventType).
        QUEUED = "queued", _("Queued by the provider")
        SENT = "sent", _("Sent by the provider")
        REJECTED = "rejected", _("Rejected by the provider")
        FAILED = "failed", _("Failed")
        BOUNCED = "bounced", _("Bounced")
        DEFERRED = "deferred", _("Deferred")
        DELIVERED = "delivered", _("Delivered")
        AUTORESPONDED = "autoresponded", _("Automatic reply")
        COMPLAINED = "complained", _("Marked as spam")
        UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
        SUBSCRIBED = "subscribed", _("Subscribed")
        UNKNOWN = "unknown", _("Unknown")

    esp = models.CharField(_("provider"), max_length=40)
    event_id = models.CharField(
        _("event id"),
        max_length=255,
        blank=True,
        help_text=_("The provider's id of this event; a redelivered webhook is stored once."),
    )
    event_type = models.CharField(
        pgettext_lazy("delivery", "event"), max_length=20, choices=Type.choices, db_index=True
    )
    recipient = models.EmailField(_("recipient"), db_index=True)
    esp_message_id = models.CharField(_("Message-ID"), max_length=255, blank=True)
    message = models.ForeignKey(
        OutgoingMessage,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="delivery_events",
        verbose_name=_("outgoing message"),
        help_text=_("Empty when the Message-ID is not one of ours (or not reported)."),
    )
    reject_reason = models.CharField(_("reason"), max_length=40, blank=True)
    description = models.TextField(_("description"), blank=True)
    mta_response = models.TextField(_("mail server answer"), blank=True)
    occurred_at = models.DateTimeField(_("occurred"), db_index=True)
    raw = models.JSONField(_("as received"), default=dict, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("delivery event")
        verbose_name_plural = _("delivery events")
        constraints = [
            models.UniqueConstraint(
                fields=["esp", "event_id"],
                condition=~models.Q(event_id=""),
                name="mail_deliveryevent_esp_event_id_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_event_type_display()}: {self.recipient}"


class AddressHold(TimeStampedModel):
    """An e-mail address no mail is sent to (not even essential mail) because it bounced or its
    owner complained. At most one hold per address is active; a released hold stays as the
    record of who released it and when."""

    class Reason(models.TextChoices):
        BOUNCES = "bounces", _("Hard bounces")
        COMPLAINT = "complaint", _("Spam complaint")

    email = models.EmailField(_("e-mail"), db_index=True)
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    detail = models.TextField(_("detail"), blank=True)
    bounce_count = models.PositiveIntegerField(_("hard bounces"), default=0)
    held_since = models.DateTimeField(_("held since"))
    contact = models.ForeignKey(
        "members.Contact",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="address_holds",
        verbose_name=_("contact"),
    )
    released_at = models.DateTimeField(_("released"), null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("released by"),
    )

    class Meta:
        ordering = ["-held_since", "-id"]
        verbose_name = _("address on hold")
        verbose_name_plural = _("addresses on hold")
        constraints = [
            models.UniqueConstraint(
                fields=["email"],
                condition=models.Q(released_at__isnull=True),
                name="mail_addresshold_one_active_per_email",
            )
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def is_active(self) -> bool:
        return self.released_at is None
