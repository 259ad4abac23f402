import datetime

from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.models import TimeStampedModel


class ReminderRule(TimeStampedModel):
    """When to write to whom about a gathering. The moment is computed from the gathering's
    dates each time, so a rule moves with a rescheduled gathering; ``created_at`` guards a new
    rule from sending for a moment already past."""

    class Anchor(models.TextChoices):
        DEADLINE = "deadline", _("before the answer deadline")
        START = "start", _("before the start")
        END = "end", _("after the end")

    class Audience(models.TextChoices):
        NOT_ANSWERED = "not_answered", _("Those who have not answered")
        ACCEPTED = "accepted", _("Those who accepted")
        ACCEPTED_ONLINE = "accepted_online", _("Those who accepted to attend online")
        EVERYONE = "everyone", _("Everyone invited")

    class Template(models.TextChoices):
        REMINDER = "reminder", _("Please answer")
        SEE_YOU_TOMORROW = "see_you_tomorrow", _("See you tomorrow")
        NOTE = "note", _("A note of your own")

    gathering = models.ForeignKey(
        "meetings.Gathering",
        on_delete=models.CASCADE,
        related_name="reminder_rules",
        verbose_name=_("gathering"),
    )
    name = models.CharField(_("name"), max_length=100)
    anchor = models.CharField(_("counted from"), max_length=10, choices=Anchor.choices)
    days = models.PositiveSmallIntegerField(
        _("days"), default=1, help_text=_("Days before (or after the end) of the anchor.")
    )
    local_time = models.TimeField(
        _("at local time"),
        default=datetime.time(9, 0),
        help_text=_("Time of day in the gathering's time zone."),
    )
    audience = models.CharField(_("to"), max_length=20, choices=Audience.choices)
    template = models.CharField(_("message"), max_length=20, choices=Template.choices)
    extra_text = models.TextField(
        _("extra text"), blank=True, help_text=_("Added to the message (required for a note).")
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["gathering", "anchor", "-days", "id"]
        verbose_name = _("reminder rule")
        verbose_name_plural = _("reminder rules")

    def __str__(self) -> str:
        return self.name

    def due_at(self, gathering=None) -> datetime.datetime:
        """The moment this rule fires, at ``local_time`` in the gathering's time zone."""
        gathering = gathering or self.gathering
        tz = gathering.tz
        if self.anchor == self.Anchor.DEADLINE:
            day = gathering.rsvp_deadline.astimezone(tz).date() - datetime.timedelta(self.days)
        elif self.anchor == self.Anchor.START:
            day = gathering.starts_at.astimezone(tz).date() - datetime.timedelta(self.days)
        else:
            day = gathering.ends_at.astimezone(tz).date() + datetime.timedelta(self.days)
        return datetime.datetime.combine(day, self.local_time, tzinfo=tz)
