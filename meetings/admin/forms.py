"""Forms of the meetings back office. They collect input; the services decide."""

import zoneinfo

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelectMultiple
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from unfold.widgets import (
    UnfoldAdminCheckboxSelectMultipleWidget,
    UnfoldAdminRadioSelectWidget,
    UnfoldAdminTextareaWidget,
    UnfoldAdminTextInputWidget,
    UnfoldBooleanSwitchWidget,
)

from meetings.models import Gathering, Invitation, Meeting
from members.models import Affiliation, Contact, FocusArea, Organization

TIME_FIELDS = ("starts_at", "ends_at", "rsvp_deadline")


class GatheringAdminForm(forms.ModelForm):
    """Times are entered as wall-clock times of the gathering's own time zone: a meeting in
    Vienna at 10:00 stays at 10:00 whatever the coordinator's browser or the server thinks.
    Subclasses name the model and fields."""

    def clean(self):
        data = super().clean()
        tz = data.get("time_zone")
        if tz:
            zone = zoneinfo.ZoneInfo(str(tz))
            for name in TIME_FIELDS:
                value = data.get(name)
                if value is not None:
                    # The field read the input in the current time zone; keep the wall time.
                    data[name] = timezone.make_aware(timezone.make_naive(value), zone)
        return data


class MeetingAdminForm(GatheringAdminForm):
    class Meta:
        model = Meeting
        fields = (
            "title",
            "series",
            "number",
            "time_zone",
            "starts_at",
            "ends_at",
            "rsvp_deadline",
            "format",
            "venue",
            "address",
            "online_link",
            "seats_per_org",
            "capacity",
            "description",
            "invitation_message",
            "minutes",
        )


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (optional)"),
        required=False,
        widget=UnfoldAdminTextareaWidget(attrs={"rows": 3}),
        help_text=_("Added to the cancellation e-mail."),
    )


class InviteForm(forms.Form):
    """A selection of people to invite; ``invitees_preview`` turns it into names."""

    focal_points_of_aect_partners = forms.BooleanField(
        label=_("Focal points of all active AECT partners"),
        required=False,
        widget=UnfoldBooleanSwitchWidget,
    )
    kinds = forms.MultipleChoiceField(
        label=_("Organisation kinds"),
        choices=Organization.Kind.choices,
        required=False,
        widget=UnfoldAdminCheckboxSelectMultipleWidget,
    )
    focus_areas = forms.MultipleChoiceField(
        label=_("Focus areas"),
        choices=FocusArea.Code.choices,
        required=False,
        widget=UnfoldAdminCheckboxSelectMultipleWidget,
    )
    statuses = forms.MultipleChoiceField(
        label=_("Organisation statuses"),
        choices=Organization.Status.choices,
        required=False,
        widget=UnfoldAdminCheckboxSelectMultipleWidget,
    )
    roles = forms.MultipleChoiceField(
        label=_("Roles in those organisations"),
        choices=Affiliation.Role.choices,
        required=False,
        initial=[Affiliation.Role.FOCAL_POINT],
        widget=UnfoldAdminCheckboxSelectMultipleWidget,
        help_text=_("Whom to invite in the organisations selected above (focal points if none)."),
    )
    contacts = forms.ModelMultipleChoiceField(
        label=_("Hand-picked contacts"),
        queryset=Contact.objects.all(),
        required=False,
        widget=AutocompleteSelectMultiple(Invitation._meta.get_field("contact"), admin.site),
    )

    def has_selection(self, data: dict) -> bool:
        return bool(
            data.get("focal_points_of_aect_partners")
            or data.get("kinds")
            or data.get("focus_areas")
            or data.get("statuses")
            or data.get("contacts")
        )

    def clean(self):
        data = super().clean()
        if not self.has_selection(data):
            raise forms.ValidationError(
                _("Choose whom to invite: a preset, organisations, or hand-picked contacts.")
            )
        return data

    def criteria(self) -> dict:
        data = self.cleaned_data
        return {
            "focal_points_of_aect_partners": data["focal_points_of_aect_partners"],
            "kinds": data["kinds"],
            "focus_areas": data["focus_areas"],
            "statuses": data["statuses"],
            "roles": data["roles"] or [Affiliation.Role.FOCAL_POINT],
            "contacts": list(data["contacts"]),
        }


class PhoneAnswerForm(forms.Form):
    """An answer a coordinator took by phone or e-mail, recorded for the invitee."""

    answer = forms.ChoiceField(
        label=_("Answer"),
        widget=UnfoldAdminRadioSelectWidget,
        error_messages={"required": _("Choose the answer given.")},
    )
    dietary = forms.CharField(
        label=_("Dietary needs"), max_length=200, required=False, widget=UnfoldAdminTextInputWidget
    )
    accessibility = forms.CharField(
        label=_("Accessibility needs"),
        max_length=200,
        required=False,
        widget=UnfoldAdminTextInputWidget,
    )
    other_needs = forms.CharField(
        label=_("Other needs"),
        required=False,
        widget=UnfoldAdminTextareaWidget(attrs={"rows": 2}),
    )
    note = forms.CharField(
        label=_("Note to the organisers"),
        required=False,
        widget=UnfoldAdminTextareaWidget(attrs={"rows": 2}),
    )

    def __init__(self, *args, gathering: Gathering, **kwargs):
        super().__init__(*args, **kwargs)
        choices = []
        if gathering.offers_in_person:
            choices.append(("in_person", _("Attends in person")))
        if gathering.offers_online:
            choices.append(("online", _("Attends online")))
        choices.append(("decline", _("Declines")))
        self.fields["answer"].choices = choices
