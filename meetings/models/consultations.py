from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.history import AuditedHistory
from crm.models import TimeStampedModel


class Consultation(TimeStampedModel):
    """A bilateral (one partner) or multi-stakeholder consultation: who took part, what was
    said and agreed. Restricted ones are seen only by those allowed to see restricted
    consultations (coordinators), not by viewers or API clients without that scope."""

    class Kind(models.TextChoices):
        BILATERAL = "bilateral", _("Bilateral")
        MULTI = "multi", _("Multi-stakeholder")

    class Channel(models.TextChoices):
        MEETING = "meeting", _("Meeting")
        CALL = "call", _("Call")
        VIDEO = "video", _("Video call")
        EMAIL = "email", _("E-mail")
        VISIT = "visit", _("Visit")

    class Confidentiality(models.TextChoices):
        NORMAL = "normal", _("Normal")
        RESTRICTED = "restricted", _("Restricted")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, db_index=True)
    held_on = models.DateField(_("date"), db_index=True)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    title = models.CharField(_("title"), max_length=300)
    organizations = models.ManyToManyField(
        "members.Organization", related_name="consultations", verbose_name=_("organisations")
    )
    contacts = models.ManyToManyField(
        "members.Contact", related_name="consultations", blank=True, verbose_name=_("contacts")
    )
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="consultations",
        blank=True,
        verbose_name=_("office staff present"),
    )
    topics = models.ManyToManyField(
        "members.FocusArea", related_name="consultations", blank=True, verbose_name=_("topics")
    )
    label = models.CharField(
        _("survey or campaign"),
        max_length=200,
        blank=True,
        db_index=True,
        help_text=_("For example the OSCE survey of commitments, if the consultation was for one."),
    )
    summary = models.TextField(_("summary"), blank=True)
    outcomes = models.TextField(_("outcomes"), blank=True)
    confidentiality = models.CharField(
        _("confidentiality"),
        max_length=10,
        choices=Confidentiality.choices,
        default=Confidentiality.NORMAL,
        db_index=True,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )

    history = AuditedHistory(
        excluded_fields=["updated_at"], m2m_fields=[organizations, contacts, topics]
    )

    class Meta:
        ordering = ["-held_on", "-id"]
        verbose_name = _("consultation")
        verbose_name_plural = _("consultations")
        permissions = [
            ("view_restricted_consultation", _("Can see restricted consultations")),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.held_on:%Y-%m-%d})"


class ConsultationAttachment(TimeStampedModel):
    consultation = models.ForeignKey(
        Consultation, on_delete=models.CASCADE, related_name="attachments"
    )
    title = models.CharField(_("title"), max_length=200)
    file = models.FileField(_("file"), upload_to="consultations/%Y/")

    class Meta:
        ordering = ["title", "id"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.title
