from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class FocalPointSuccession(models.Model):
    """The record of one focal-point hand-over: who left, who took over, from when, who did it
    and what moved (``moved``: ids of the invitations replaced and created, of the follow-ups
    reassigned, and of what was left behind and why). Written once by
    ``meetings.services.succession.focal_point_succession``; never edited."""

    organization = models.ForeignKey(
        "members.Organization",
        on_delete=models.CASCADE,
        related_name="focal_point_successions",
        verbose_name=_("organisation"),
    )
    # Named reverse relations, so that a contact merge moves them; SET_NULL: erasing a person
    # on request leaves the record of the hand-over, without them.
    departing = models.ForeignKey(
        "members.Contact",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="focal_point_roles_handed_over",
        verbose_name=_("departing focal point"),
    )
    successor = models.ForeignKey(
        "members.Contact",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="focal_point_roles_taken_over",
        verbose_name=_("successor"),
    )
    ended_affiliation = models.ForeignKey(
        "members.Affiliation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("role ended"),
    )
    new_affiliation = models.ForeignKey(
        "members.Affiliation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("role created"),
    )
    end_date = models.DateField(_("hand-over date"))
    moved = models.JSONField(_("what moved"), default=dict, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    acted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("focal-point hand-over")
        verbose_name_plural = _("focal-point hand-overs")

    def __str__(self) -> str:
        return f"{self.organization_id}: {self.departing_id} → {self.successor_id}"

    @property
    def remarks(self) -> list[str]:
        return list(self.moved.get("remarks", []))

    @property
    def invitations_moved(self) -> int:
        return len(self.moved.get("invitations", []))

    @property
    def followups_moved(self) -> int:
        return len(self.moved.get("follow_ups", []))
