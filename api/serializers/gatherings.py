"""Serializers of meetings and events (gatherings): output with the answer counts and the
agenda / programme embedded, and separate input serializers for creating and changing them."""

import datetime

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from api.serializers.fields import Text, TimeZoneName
from events.models import Event, EventSession
from meetings.models import AgendaItem, Gathering, Meeting

MAX_SMALL = 32767
MAX_INT = 2147483647

# --- Fields -------------------------------------------------------------------------------


class Moment(serializers.DateTimeField):
    """An ISO 8601 moment with a time zone (naive times are read in the server's zone),
    converted to UTC on input: odd offsets or moments out of range are a 400, not a 500."""

    def to_internal_value(self, value):
        moment = super().to_internal_value(value)
        try:
            moment = moment.astimezone(datetime.UTC)
            if not (datetime.datetime(1900, 1, 1, tzinfo=datetime.UTC) < moment):
                raise OverflowError
            moment + datetime.timedelta(days=400)  # room for the deadline/start arithmetic
        except (OverflowError, ValueError):
            raise serializers.ValidationError(_("This moment is out of range.")) from None
        return moment


# --- Output -------------------------------------------------------------------------------


class AnswerCountsSerializer(serializers.Serializer):
    """How many invitations are in each state (annotated by the selector: no extra query)."""

    invited = serializers.IntegerField(source="count_invited", read_only=True)
    pending = serializers.IntegerField(source="count_pending", read_only=True)
    accepted = serializers.IntegerField(source="count_accepted", read_only=True)
    in_person = serializers.IntegerField(source="count_in_person", read_only=True)
    online = serializers.IntegerField(source="count_online", read_only=True)
    declined = serializers.IntegerField(source="count_declined", read_only=True)
    waiting = serializers.IntegerField(source="count_waiting", read_only=True)
    replaced = serializers.IntegerField(source="count_replaced", read_only=True)
    attended = serializers.IntegerField(source="count_attended", read_only=True)


class AgendaItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = AgendaItem
        fields = ["position", "title", "presenter", "organization", "duration_minutes"]
        read_only_fields = fields


class ProgrammeSessionSerializer(serializers.ModelSerializer):
    class Meta:
        model = EventSession
        fields = ["starts_at", "ends_at", "title", "room", "speakers"]
        read_only_fields = fields


GATHERING_FIELDS = [
    "id",
    "title",
    "status",
    "starts_at",
    "ends_at",
    "time_zone",
    "format",
    "venue",
    "address",
    "online_link",
    "rsvp_deadline",
    "capacity",
    "waiting_list",
    "offer_hours",
    "max_plus_ones",
    "description",
    "invitation_message",
    "minutes",
    "sequence",
    "answers",
    "agenda",
]


class _GatheringSerializer(serializers.ModelSerializer):
    time_zone = serializers.CharField(read_only=True, help_text="IANA time zone of the place.")
    online_link = serializers.CharField(read_only=True, help_text="A URL, or empty.")
    answers = AnswerCountsSerializer(source="*", read_only=True)
    agenda = AgendaItemSerializer(source="agenda_items", many=True, read_only=True)


class MeetingSerializer(_GatheringSerializer):
    class Meta:
        model = Meeting
        fields = [
            *GATHERING_FIELDS,
            "series",
            "number",
            "seats_per_org",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class EventSerializer(_GatheringSerializer):
    programme = ProgrammeSessionSerializer(source="sessions", many=True, read_only=True)

    class Meta:
        model = Event
        fields = [
            *GATHERING_FIELDS,
            "programme",
            "kind",
            "per_org_cap",
            "substitutes_allowed",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


# --- Input --------------------------------------------------------------------------------


class _GatheringInputSerializer(serializers.Serializer):
    title = Text(max_length=200)
    starts_at = Moment()
    ends_at = Moment(help_text="After `starts_at`.")
    time_zone = TimeZoneName(required=False)
    format = serializers.ChoiceField(choices=Gathering.Format.choices, required=False)
    venue = Text(max_length=200, required=False)
    address = Text(max_length=5000, required=False)
    online_link = serializers.URLField(max_length=500, required=False, allow_blank=True)
    rsvp_deadline = Moment(help_text="Answers are taken until then; not after `starts_at`.")
    capacity = serializers.IntegerField(
        min_value=1, max_value=MAX_INT, required=False, allow_null=True, help_text="null: no limit."
    )
    waiting_list = serializers.BooleanField(required=False)
    offer_hours = serializers.IntegerField(min_value=1, max_value=MAX_SMALL, required=False)
    max_plus_ones = serializers.IntegerField(min_value=0, max_value=MAX_SMALL, required=False)
    description = Text(max_length=20_000, required=False)
    invitation_message = Text(max_length=5000, required=False)

    def validate(self, attrs: dict) -> dict:
        starts, ends = attrs.get("starts_at"), attrs.get("ends_at")
        if starts and ends and ends <= starts:
            raise serializers.ValidationError({"ends_at": _("The end must be after the start.")})
        deadline = attrs.get("rsvp_deadline")
        if starts and deadline and deadline > starts:
            raise serializers.ValidationError(
                {"rsvp_deadline": _("The deadline for answers must be before the start.")}
            )
        return attrs


class MeetingInputSerializer(_GatheringInputSerializer):
    series = Text(max_length=20, required=False)
    number = serializers.IntegerField(min_value=1, max_value=MAX_INT, required=False)
    seats_per_org = serializers.IntegerField(min_value=1, max_value=MAX_SMALL, required=False)


class MeetingUpdateSerializer(MeetingInputSerializer):
    minutes = Text(max_length=100_000, required=False)


class EventInputSerializer(_GatheringInputSerializer):
    kind = serializers.ChoiceField(choices=Event.Kind.choices)
    per_org_cap = serializers.IntegerField(
        min_value=1, max_value=MAX_SMALL, required=False, allow_null=True
    )
    substitutes_allowed = serializers.BooleanField(required=False)


class EventUpdateSerializer(EventInputSerializer):
    minutes = Text(max_length=100_000, required=False)


class GatheringCancelSerializer(serializers.Serializer):
    reason = Text(
        max_length=5000, required=False, help_text="Added to the cancellation sent to invitees."
    )
