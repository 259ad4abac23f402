"""Forms of the events back office. They collect and check input; the services decide."""

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from unfold.widgets import UnfoldAdminTextareaWidget, UnfoldBooleanSwitchWidget

from events.models import Event
from meetings.admin.forms import GatheringAdminForm, InviteForm
from members.models import Organization

MAX_GUEST_LINES = 500


class EventAdminForm(GatheringAdminForm):
    class Meta:
        model = Event
        fields = (
            "title",
            "kind",
            "time_zone",
            "starts_at",
            "ends_at",
            "rsvp_deadline",
            "format",
            "venue",
            "address",
            "online_link",
            "capacity",
            "waiting_list",
            "offer_hours",
            "per_org_cap",
            "max_plus_ones",
            "substitutes_allowed",
            "description",
            "invitation_message",
            "minutes",
        )


class EventInviteForm(InviteForm):
    """The meetings selection, plus everyone who currently holds a role anywhere: events
    invite beyond the AECT partners."""

    everyone_in_roles = forms.BooleanField(
        label=gettext_lazy("All current contacts with the roles below, in any organisation"),
        required=False,
        widget=UnfoldBooleanSwitchWidget,
    )
    field_order = ["everyone_in_roles"]

    def has_selection(self, data: dict) -> bool:
        return bool(data.get("everyone_in_roles")) or super().has_selection(data)

    def criteria(self) -> dict:
        criteria = super().criteria()
        if self.cleaned_data["everyone_in_roles"] and not criteria["statuses"]:
            # Every status selects every organisation; the roles then choose the people.
            criteria["statuses"] = list(Organization.Status.values)
        return criteria


class GuestsForm(forms.Form):
    """Guests pasted one per line: ``Given name; Family name; e-mail; affiliation``
    (semicolons or tabs, as copied from a spreadsheet; the affiliation may be left out)."""

    lines = forms.CharField(
        label=gettext_lazy("Guests, one per line"),
        widget=UnfoldAdminTextareaWidget(
            attrs={
                "rows": 10,
                "placeholder": "Lea; Novak; lea.novak@example.org; Ministry of Justice",
            }
        ),
        help_text=gettext_lazy(
            "Given name; Family name; e-mail; affiliation — separated by semicolons or tabs. "
            "The affiliation is printed on the badge."
        ),
    )

    def clean_lines(self) -> str:
        text = self.cleaned_data["lines"]
        if len(text.splitlines()) > MAX_GUEST_LINES:
            raise ValidationError(
                _("At most %(n)d lines at a time, please.") % {"n": MAX_GUEST_LINES}
            )
        return text

    def parse(self) -> tuple[list[tuple[int, dict, str]], list[tuple[int, str, str]]]:
        """``(guests, problems)``: each guest as (line number, fields, the line as typed);
        each line that cannot be read as (line number, why, the line as typed). Blank lines
        are passed over but counted, so numbers match what the coordinator sees."""
        guests, problems = [], []
        for number, raw in enumerate(self.cleaned_data["lines"].splitlines(), start=1):
            line = raw.strip()
            if not line:
                continue
            parts = [part.strip() for part in line.split(";" if ";" in line else "\t")]
            while len(parts) > 4 and not parts[-1]:
                parts.pop()  # a trailing separator
            if len(parts) not in (3, 4):
                problems.append(
                    (number, _("Expected 3 or 4 fields, found %(n)d.") % {"n": len(parts)}, raw)
                )
                continue
            given, family, email = parts[:3]
            affiliation = parts[3] if len(parts) == 4 else ""
            if not given or not family:
                problems.append((number, _("Given and family name are needed."), raw))
                continue
            try:
                validate_email(email)
            except ValidationError:
                problems.append(
                    (number, _("“%(email)s” is not an e-mail address.") % {"email": email}, raw)
                )
                continue
            guest = {
                "given_name": given,
                "family_name": family,
                "email": email,
                "affiliation": affiliation,
            }
            guests.append((number, guest, raw))
        return guests, problems
