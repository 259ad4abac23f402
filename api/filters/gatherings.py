"""Filters of meetings, events and invitations."""

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from api.filters import ApiFilterSet, ChoicesFilter, IdFilter, SinceFilter
from events.models import Event
from meetings.models import Gathering, Invitation, Meeting


class UntilFilter(SinceFilter):
    """Rows whose timestamp is at or before the given moment."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("lookup_expr", "lte")
        super().__init__(*args, **kwargs)


class GatheringFilter(ApiFilterSet):
    status = ChoicesFilter(choices=Gathering.Status.choices)
    # Not ``format``: DRF reads that query parameter as the response format (json/api).
    gathering_format = ChoicesFilter(
        field_name="format",
        choices=Gathering.Format.choices,
        label=_("In person, online or hybrid."),
    )
    starts_after = SinceFilter(
        field_name="starts_at", label=_("Starting at or after this moment (ISO 8601).")
    )
    starts_before = UntilFilter(
        field_name="starts_at", label=_("Starting at or before this moment (ISO 8601).")
    )

    class Meta:
        fields = ["status", "gathering_format", "starts_after", "starts_before"]


class MeetingFilter(GatheringFilter):
    series = django_filters.CharFilter()

    class Meta(GatheringFilter.Meta):
        model = Meeting
        fields = [*GatheringFilter.Meta.fields, "series"]


class EventFilter(GatheringFilter):
    kind = ChoicesFilter(choices=Event.Kind.choices)

    class Meta(GatheringFilter.Meta):
        model = Event
        fields = [*GatheringFilter.Meta.fields, "kind"]


class InvitationFilter(ApiFilterSet):
    meeting = IdFilter(method="filter_meeting", label=_("Invitations to this meeting (id)."))
    event = IdFilter(method="filter_event", label=_("Invitations to this event (id)."))
    status = ChoicesFilter(choices=Invitation.Status.choices)
    mode = django_filters.ChoiceFilter(choices=Invitation.Mode.choices)
    organization = IdFilter(field_name="organization_id")
    contact = IdFilter(field_name="contact_id")
    attendance = ChoicesFilter(choices=Invitation.Attendance.choices)

    class Meta:
        model = Invitation
        fields = ["meeting", "event", "status", "mode", "organization", "contact", "attendance"]

    def filter_meeting(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        return queryset.filter(gathering_id=value, is_meeting=True)

    def filter_event(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        return queryset.filter(gathering_id=value, gathering__event__isnull=False)
