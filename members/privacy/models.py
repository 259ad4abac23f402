"""Consent texts (versioned, never edited once used) and consent records (append-only).

Defaults for a contact with no record of a purpose (see :data:`DEFAULTS`):

- **non-essential mail**: allowed. Alliance mailings to partners' contacts rest on legitimate
  interest; a withdrawal (the unsubscribe link, the RSVP page, a coordinator) stops them.
- **shared participant lists** and **photographs at events**: not given until given.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.history import AuditedHistory


class ConsentPurpose(models.TextChoices):
    MAIL = "mail", _("Non-essential mail")
    PARTICIPANT_LIST = "participant_list", _("Shared participant lists")
    PHOTOGRAPHS = "photographs", _("Photographs at events")


# What a contact's consent is when nothing has been recorded for the purpose.
DEFAULTS: dict[str, bool] = {
    ConsentPurpose.MAIL: True,
    ConsentPurpose.PARTICIPANT_LIST: False,
    ConsentPurpose.PHOTOGRAPHS: False,
}


class ConsentText(models.Model):
    """The wording a person agrees to, per purpose and version, in English and Russian (other
    languages fall back to English). Once a record refers to a version it is not edited: a new
    version is published instead (``members.privacy.services.consent_text_publish``)."""

    purpose = models.CharField(_("purpose"), max_length=20, choices=ConsentPurpose.choices)
    version = models.PositiveIntegerField(_("version"), editable=False)
    text_en = models.TextField(_("text (English)"))
    text_ru = models.TextField(_("text (Russian)"))
    published_at = models.DateTimeField(_("published"), default=timezone.now)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    history = AuditedHistory()

    class Meta:
        ordering = ["purpose", "-version"]
        verbose_name = _("consent text")
        verbose_name_plural = _("consent texts")
        constraints = [
            models.UniqueConstraint(
                fields=["purpose", "version"],
                name="members_consenttext_purpose_version_unique",
                violation_error_message=_("This version of the text already exists."),
            ),
        ]

    def __str__(self) -> str:
        return _("%(purpose)s, version %(version)s") % {
            "purpose": self.get_purpose_display(),
            "version": self.version,
        }

    def text_for(self, language: str) -> str:
        return self.text_ru if language == "ru" and self.text_ru else self.text_en


class ConsentRecord(models.Model):
    """One statement of a contact about one purpose: consent given or withdrawn, when, how,
    who recorded it and the text version it refers to. Rows are only ever added; the current
    consent is the latest row per purpose (``members.privacy.selectors``)."""

    class Method(models.TextChoices):
        RSVP = "rsvp", _("RSVP page")
        EMAIL = "email", _("E-mail")
        IN_PERSON = "in_person", _("In person")
        BACK_OFFICE = "back_office", _("Back office / phone")
        API = "api", _("API")
        IMPORT = "import", _("Import")

    contact = models.ForeignKey(
        "members.Contact",
        on_delete=models.CASCADE,
        related_name="consent_records",
        verbose_name=_("contact"),
    )
    purpose = models.CharField(_("purpose"), max_length=20, choices=ConsentPurpose.choices)
    given = models.BooleanField(_("consent given"))
    recorded_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    method = models.CharField(_("how"), max_length=20, choices=Method.choices)
    text = models.ForeignKey(
        ConsentText,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="records",
        verbose_name=_("text version"),
    )
    language = models.CharField(_("language of the text"), max_length=2, blank=True)
    # Who recorded it: a user, or nobody (the person themselves: RSVP page, unsubscribe link);
    # through the RSVP page the invitation, through the API the client.
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    invitation = models.ForeignKey(
        "meetings.Invitation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="consent_records",
        verbose_name=_("invitation"),
    )
    api_client = models.ForeignKey(
        "api.ApiClient",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("API client"),
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-recorded_at", "-id"]
        verbose_name = _("consent record")
        verbose_name_plural = _("consent records")
        indexes = [
            models.Index(
                fields=["contact", "purpose", "-recorded_at", "-id"],
                name="members_consent_latest_idx",
            ),
        ]

    def __str__(self) -> str:
        state = _("given") if self.given else _("withdrawn")
        return f"{self.get_purpose_display()}: {state}"
