from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True, db_index=True)

    class Meta:
        abstract = True


class AccessLogEntry(models.Model):
    """Who exported or looked up personal data, and when: exports of lists, subject-access
    exports and erasures. Append-only.

    ``description`` names *what* was accessed ("Contacts (CSV)", "Participant list of AECT 52")
    and never the personal data itself, so that an erasure has nothing to scrub here; the
    person concerned, if any, is referenced by ``content_type`` and ``object_id``.
    """

    class Action(models.TextChoices):
        EXPORT = "export", _("Export")
        SUBJECT_ACCESS = "subject_access", _("Subject-access export")
        ERASURE = "erasure", _("Erasure")

    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    user = models.ForeignKey(
        "auth.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("user"),
    )
    api_client = models.ForeignKey(
        "api.ApiClient",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("API client"),
    )
    content_type = models.ForeignKey(
        "contenttypes.ContentType",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("object type"),
    )
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    description = models.CharField(pgettext_lazy("access log", "what"), max_length=300)
    row_count = models.PositiveIntegerField(_("rows"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        indexes = [models.Index(fields=["content_type", "object_id"])]
        # The activity view (crm.views.activity) reads every history table; it has no model.
        permissions = [("view_activity", _("Can see the activity of all records"))]

    def __str__(self) -> str:
        return f"{self.get_action_display()}: {self.description}"


class HistoricalAttribution(models.Model):
    """The base of every history table (see :class:`crm.history.AuditedHistory`): besides
    ``history_user`` (a member of staff), who else made the change — an API client calling
    with its token, or an invitee answering through their RSVP link. At most one of the three
    is set; none for a scheduled task or a management command (their ``history_change_reason``
    says what ran). Filled by :func:`crm.audit.attribute_historical_record`."""

    history_api_client = models.ForeignKey(
        "api.ApiClient",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=True,
        verbose_name=_("API client"),
    )
    history_invitation = models.ForeignKey(
        "meetings.Invitation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=True,
        verbose_name=_("invitation (RSVP link)"),
    )

    class Meta:
        abstract = True
