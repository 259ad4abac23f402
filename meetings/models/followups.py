from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.history import AuditedHistory
from crm.models import TimeStampedModel


class FollowUp(TimeStampedModel):
    """An action item: from a meeting, a consultation, a bounced address, or on its own.
    One model, so "what must happen next" is one list."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    class Source(models.TextChoices):
        MEETING = "meeting", _("Meeting action item")
        CONSULTATION = "consultation", _("Consultation")
        BOUNCE = "bounce", _("Bounced mail")
        OTHER = "other", _("Free-standing")

    title = models.CharField(_("what"), max_length=300)
    owner_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="follow_ups",
        verbose_name=_("owner (office)"),
        help_text=_("The office member responsible."),
    )
    owner_contact = models.ForeignKey(
        "members.Contact",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="follow_ups",
        verbose_name=_("owner (partner)"),
    )
    due_date = models.DateField(_("due"), null=True, blank=True, db_index=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    source = models.CharField(
        _("source"), max_length=15, choices=Source.choices, default=Source.OTHER
    )
    gathering = models.ForeignKey(
        "meetings.Gathering",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="follow_ups",
        verbose_name=_("meeting"),
    )
    consultation = models.ForeignKey(
        "meetings.Consultation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="follow_ups",
        verbose_name=_("consultation"),
    )
    organization = models.ForeignKey(
        "members.Organization",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="follow_ups",
        verbose_name=_("organisation"),
    )
    notes = models.TextField(_("notes"), blank=True)
    done_on = models.DateField(_("done on"), null=True, blank=True)

    history = AuditedHistory(excluded_fields=["updated_at"])

    class Meta:
        ordering = [models.F("due_date").asc(nulls_last=True), "id"]
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        constraints = [
            models.CheckConstraint(
                condition=Q(owner_contact__isnull=True) | Q(owner_user__isnull=False),
                name="meetings_followup_partner_owner_needs_staff",
                violation_error_message=_(
                    "A follow-up owned by a partner needs an office member responsible for it."
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.title
