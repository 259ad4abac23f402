"""The Alliance conference and the office's other events. An Event is a Gathering (see
``meetings.models``): invitations, answers, the waiting list, reminders and calendar files are
the shared RSVP engine's; what is here is only what events have and meetings do not."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from meetings.models import Gathering


class Event(Gathering):
    class Kind(models.TextChoices):
        CONFERENCE = "conference", _("Alliance conference")
        EXPERT_EVENT = "expert_event", _("Expert event")
        WORKSHOP = "workshop", _("Workshop")
        WEBINAR = "webinar", _("Webinar")
        OTHER = "other", _("Other")

    kind = models.CharField(_("kind"), max_length=15, choices=Kind.choices, db_index=True)
    per_org_cap = models.PositiveSmallIntegerField(
        _("places per organisation"),
        null=True,
        blank=True,
        help_text=_("Leave empty for no limit per organisation."),
    )
    substitutes_allowed = models.BooleanField(_("invitees may send a colleague"), default=True)

    class Meta:
        ordering = ["-starts_at"]
        verbose_name = _("event")
        verbose_name_plural = _("events")

    def seats_per_organisation(self) -> int | None:
        return self.per_org_cap

    def allows_substitutes(self) -> bool:
        return self.substitutes_allowed


class EventSession(models.Model):
    """One item of the programme."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="sessions")
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"), null=True, blank=True)
    title = models.CharField(_("title"), max_length=300)
    room = models.CharField(_("room"), max_length=100, blank=True)
    speakers = models.CharField(_("speakers"), max_length=500, blank=True)

    class Meta:
        ordering = ["starts_at", "id"]
        verbose_name = _("programme session")
        verbose_name_plural = _("programme")

    def __str__(self) -> str:
        return self.title
