import datetime
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from timezone_field import TimeZoneField

from crm.history import AuditedHistory
from crm.models import TimeStampedModel


class Gathering(TimeStampedModel):
    """What every gathering people are invited to has: a time and place, a deadline for
    answers and a life cycle. AECT meetings and events extend it (multi-table inheritance), so
    invitations, answers, reminders and calendar files are written once for both."""

    class Format(models.TextChoices):
        IN_PERSON = "in_person", _("In person")
        ONLINE = "online", _("Online")
        HYBRID = "hybrid", _("Hybrid")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        OPEN = "open", _("Open (invitations sent)")
        CLOSED = "closed", _("Closed (deadline passed)")
        HELD = "held", _("Held")
        CANCELLED = "cancelled", _("Cancelled")

    title = models.CharField(_("title"), max_length=200)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    time_zone = TimeZoneField(_("time zone"), default="Europe/Vienna")
    format = models.CharField(
        _("format"), max_length=12, choices=Format.choices, default=Format.IN_PERSON
    )
    venue = models.CharField(_("venue"), max_length=200, blank=True)
    address = models.TextField(_("address"), blank=True)
    online_link = models.URLField(
        _("online joining link"),
        max_length=500,
        blank=True,
        help_text=_("Shown only to those who accepted to attend online."),
    )
    rsvp_deadline = models.DateTimeField(_("answer by"))
    capacity = models.PositiveIntegerField(
        _("total seats"), null=True, blank=True, help_text=_("Leave empty for no limit.")
    )
    waiting_list = models.BooleanField(
        _("waiting list"),
        default=False,
        help_text=_(
            "When every seat is taken, acceptances join a waiting list instead of being refused."
        ),
    )
    offer_hours = models.PositiveSmallIntegerField(
        _("offer valid for (hours)"),
        default=48,
        help_text=_("How long a person from the waiting list has to confirm a freed place."),
    )
    max_plus_ones = models.PositiveSmallIntegerField(
        _("plus-ones allowed"), default=0, help_text=_("Guests each invitee may bring.")
    )
    description = models.TextField(_("description"), blank=True)
    invitation_message = models.TextField(
        _("invitation message"),
        blank=True,
        help_text=_("A paragraph of your own, placed at the top of the invitation e-mail."),
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    # Grows whenever the time or place changes, so calendars replace the earlier entry.
    sequence = models.PositiveIntegerField(_("calendar sequence"), default=0, editable=False)
    minutes = models.TextField(pgettext_lazy("meeting record", "minutes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )

    history = AuditedHistory(excluded_fields=["updated_at"], inherit=True)

    class Meta:
        ordering = ["-starts_at"]
        verbose_name = _("gathering")
        verbose_name_plural = _("gatherings")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")),
                name="meetings_gathering_ends_after_start",
                violation_error_message=_("The end must be after the start."),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        if self.starts_at and self.rsvp_deadline and self.rsvp_deadline > self.starts_at:
            raise ValidationError(
                {"rsvp_deadline": _("The deadline for answers must be before the start.")}
            )

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(str(self.time_zone))

    @property
    def specific(self) -> "Gathering":
        """The Meeting or Event this gathering is."""
        if type(self) is not Gathering:
            return self
        for name in ("meeting", "event"):
            try:
                return getattr(self, name)
            except (AttributeError, models.ObjectDoesNotExist):
                continue
        return self

    @property
    def offers_online(self) -> bool:
        return self.format in (self.Format.ONLINE, self.Format.HYBRID)

    @property
    def offers_in_person(self) -> bool:
        return self.format in (self.Format.IN_PERSON, self.Format.HYBRID)

    def answers_open(self, now: datetime.datetime) -> bool:
        return self.status == self.Status.OPEN and now < self.rsvp_deadline

    def seats_per_organisation(self) -> int | None:
        """Meetings allot seats per organisation; events may cap them. None: no limit."""
        return None

    def allows_substitutes(self) -> bool:
        return True

    def allows_colleagues(self) -> bool:
        """Whether an invitee who accepted may register colleagues in their organisation's
        remaining seats (AECT meetings); events offer plus-ones instead."""
        return False


class Meeting(Gathering):
    """An AECT meeting: the partners' focal points meet twice a year."""

    series = models.CharField(_("series"), max_length=20, default="AECT")
    number = models.PositiveIntegerField(_("number"), null=True, blank=True)
    seats_per_org = models.PositiveSmallIntegerField(
        _("seats per organisation"),
        default=2,
        help_text=_("How many people each organisation may register, the invitee included."),
    )

    class Meta:
        ordering = ["-starts_at"]
        verbose_name = _("AECT meeting")
        verbose_name_plural = _("AECT meetings")
        constraints = [
            models.UniqueConstraint(
                fields=["series", "number"],
                name="meetings_meeting_series_number_unique",
                violation_error_message=_("A meeting with this series and number exists."),
            ),
        ]

    @property
    def label(self) -> str:
        return f"{self.series} {self.number}" if self.number else self.series

    def seats_per_organisation(self) -> int | None:
        return self.seats_per_org

    def allows_colleagues(self) -> bool:
        return True


class AgendaItem(models.Model):
    gathering = models.ForeignKey(Gathering, on_delete=models.CASCADE, related_name="agenda_items")
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    title = models.CharField(_("title"), max_length=300)
    presenter = models.CharField(_("presenter"), max_length=200, blank=True)
    organization = models.ForeignKey(
        "members.Organization",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("organisation"),
    )
    duration_minutes = models.PositiveSmallIntegerField(
        _("duration (minutes)"), null=True, blank=True
    )

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("agenda item")
        verbose_name_plural = _("agenda")

    def __str__(self) -> str:
        return self.title


class GatheringDocument(TimeStampedModel):
    class Visibility(models.TextChoices):
        PUBLIC = "public", _("Everyone invited")
        PARTICIPANTS = "participants", _("Accepted participants only")

    gathering = models.ForeignKey(Gathering, on_delete=models.CASCADE, related_name="documents")
    title = models.CharField(_("title"), max_length=200)
    file = models.FileField(_("file"), upload_to="gatherings/%Y/")
    visibility = models.CharField(
        _("visible to"), max_length=12, choices=Visibility.choices, default=Visibility.PUBLIC
    )

    class Meta:
        ordering = ["title", "id"]
        verbose_name = _("document")
        verbose_name_plural = _("documents")

    def __str__(self) -> str:
        return self.title
