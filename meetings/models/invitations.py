import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.history import AuditedHistory
from crm.models import TimeStampedModel


def new_token() -> str:
    """256 random bits, URL-safe: not guessable, not derived from anything about the person."""
    return secrets.token_urlsafe(32)


class Invitation(TimeStampedModel):
    """One person invited to one gathering, with their answer. The personal link carries
    ``token``; issuing a new token revokes the old one."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Not answered")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        REPLACED = "replaced", _("Replaced by a colleague")
        WAITING = "waiting", _("On the waiting list")

    class Mode(models.TextChoices):
        IN_PERSON = "in_person", _("In person")
        ONLINE = "online", _("Online")

    class Attendance(models.TextChoices):
        UNKNOWN = "unknown", _("Not recorded")
        ATTENDED = "attended", _("Attended")
        ABSENT = "absent", _("Absent")

    gathering = models.ForeignKey(
        "meetings.Gathering",
        on_delete=models.CASCADE,
        related_name="invitations",
        verbose_name=_("gathering"),
    )
    contact = models.ForeignKey(
        "members.Contact",
        on_delete=models.PROTECT,
        related_name="invitations",
        verbose_name=_("contact"),
    )
    organization = models.ForeignKey(
        "members.Organization",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invitations",
        verbose_name=_("representing"),
    )
    status = models.CharField(
        _("answer"), max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    mode = models.CharField(_("attends"), max_length=10, choices=Mode.choices, blank=True)
    dietary = models.CharField(_("dietary needs"), max_length=200, blank=True)
    accessibility = models.CharField(_("accessibility needs"), max_length=200, blank=True)
    other_needs = models.TextField(_("other needs"), blank=True)
    note = models.TextField(_("note to the organisers"), blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    answer_count = models.PositiveIntegerField(_("answers given"), default=0, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("invited by"),
    )
    # The invitation through which this one came: a colleague added or a substitute named.
    invited_via = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="derived",
        verbose_name=_("registered through"),
    )
    replaced_by = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("replaced by"),
    )
    sent_at = models.DateTimeField(_("invitation sent"), null=True, blank=True)
    # The waiting list: in order of ``waiting_since``; an offer of a freed place runs until
    # ``offer_expires_at`` and holds that place meanwhile.
    waiting_since = models.DateTimeField(_("waiting since"), null=True, blank=True)
    offer_expires_at = models.DateTimeField(_("offer open until"), null=True, blank=True)
    offers_made = models.PositiveSmallIntegerField(_("offers made"), default=0, editable=False)
    admitted_over_capacity = models.BooleanField(
        _("admitted over capacity"), default=False, editable=False
    )
    affiliation_label = models.CharField(
        _("affiliation as given"),
        max_length=200,
        blank=True,
        help_text=_("For guests outside the directory: printed on the badge."),
    )
    checked_in_at = models.DateTimeField(_("checked in"), null=True, blank=True)
    attendance = models.CharField(
        _("attendance"), max_length=10, choices=Attendance.choices, default=Attendance.UNKNOWN
    )
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    token_issued_at = models.DateTimeField(_("link issued"), auto_now_add=True)

    history = AuditedHistory(excluded_fields=["updated_at", "token"])

    class Meta:
        ordering = ["gathering", "organization__name", "contact__family_name", "id"]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        constraints = [
            models.UniqueConstraint(
                fields=["gathering", "contact"],
                name="meetings_invitation_one_per_contact",
                violation_error_message=_("This person is already invited."),
            ),
        ]
        indexes = [
            models.Index(fields=["gathering", "status"]),
            models.Index(fields=["gathering", "organization", "status"]),
            # The API's default order and its documented orderings (docs/performance.md).
            models.Index(fields=["gathering", "id"], name="meetings_inv_gathering_order"),
            models.Index(fields=["updated_at", "id"], name="meetings_inv_sync_order"),
            models.Index(fields=["created_at", "id"], name="meetings_inv_created_order"),
            models.Index(fields=["answered_at", "id"], name="meetings_inv_answered_order"),
            models.Index(fields=["waiting_since", "id"], name="meetings_inv_waiting_order"),
            models.Index(fields=["mode"], name="meetings_inv_mode"),
            models.Index(fields=["attendance"], name="meetings_inv_attendance"),
        ]

    def __str__(self) -> str:
        return f"{self.contact} — {self.gathering}"

    @property
    def is_attending(self) -> bool:
        return self.status == self.Status.ACCEPTED

    @property
    def offer_running(self) -> bool:
        return self.status == self.Status.WAITING and self.offer_expires_at is not None

    @property
    def badge_organization(self) -> str:
        return self.organization.name if self.organization_id else self.affiliation_label

    @property
    def needs(self) -> str:
        parts = [self.dietary, self.accessibility, self.other_needs]
        return "; ".join(p.strip() for p in parts if p and p.strip())

    @property
    def rsvp_path(self) -> str:
        from django.urls import reverse

        return reverse("rsvp:page", args=[self.token])

    @property
    def rsvp_url(self) -> str:
        return settings.CRM_SITE_URL.rstrip("/") + self.rsvp_path


class PlusOne(models.Model):
    """A guest an invitee brings to an event that allows it; counts against the capacity."""

    invitation = models.ForeignKey(
        Invitation, on_delete=models.CASCADE, related_name="plus_ones", verbose_name=_("guest of")
    )
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("e-mail"), blank=True)
    created_at = models.DateTimeField(_("added"), auto_now_add=True)

    history = AuditedHistory()

    class Meta:
        ordering = ["invitation", "id"]
        verbose_name = _("plus-one")
        verbose_name_plural = _("plus-ones")

    def __str__(self) -> str:
        return self.name
