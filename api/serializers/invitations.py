"""Serializers of invitations (for meetings and events) and of the public RSVP endpoint.

The personal RSVP token is a credential: it is never part of an invitation's representation."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from api.serializers.directory import ContactRefSerializer, OrganizationRefSerializer
from api.serializers.fields import Text
from meetings.models import AgendaItem, Invitation, PlusOne

ANSWER_CHOICES = [
    ("in_person", "in_person"),
    ("online", "online"),
    ("decline", "decline"),
]

# --- Output -------------------------------------------------------------------------------


class PlusOneSerializer(serializers.ModelSerializer):
    email = serializers.CharField(read_only=True, help_text="An e-mail address, or empty.")

    class Meta:
        model = PlusOne
        fields = ["name", "email"]
        read_only_fields = fields


class InvitationSerializer(serializers.ModelSerializer):
    meeting = serializers.SerializerMethodField(help_text="The meeting's id, for a meeting.")
    event = serializers.SerializerMethodField(help_text="The event's id, for an event.")
    contact = ContactRefSerializer(read_only=True)
    organization = OrganizationRefSerializer(
        read_only=True, allow_null=True, help_text="The organisation the invitee represents."
    )
    plus_ones = PlusOneSerializer(many=True, read_only=True)
    # Empty until the person has accepted: declared so the schema says "" is a value too
    # (a read-only model field loses that, and generated clients then reject the empty mode).
    mode = serializers.ChoiceField(
        choices=Invitation.Mode.choices, allow_blank=True, read_only=True, label=_("Attends")
    )

    class Meta:
        model = Invitation
        fields = [
            "id",
            "meeting",
            "event",
            "contact",
            "organization",
            "affiliation_label",
            "status",
            "mode",
            "dietary",
            "accessibility",
            "other_needs",
            "note",
            "plus_ones",
            "answered_at",
            "sent_at",
            "waiting_since",
            "offer_expires_at",
            "admitted_over_capacity",
            "attendance",
            "checked_in_at",
            "invited_via",
            "replaced_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_meeting(self, invitation: Invitation) -> int | None:
        return invitation.gathering_id if invitation.is_meeting else None

    def get_event(self, invitation: Invitation) -> int | None:
        return None if invitation.is_meeting else invitation.gathering_id


# --- Input --------------------------------------------------------------------------------


class PlusOneInputSerializer(serializers.Serializer):
    name = Text(max_length=200)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)


class AnswerSerializer(serializers.Serializer):
    """The fields of the RSVP page's answer form."""

    answer = serializers.ChoiceField(choices=ANSWER_CHOICES)
    dietary = Text(max_length=200, required=False)
    accessibility = Text(max_length=200, required=False)
    other_needs = Text(max_length=5000, required=False)
    note = Text(max_length=5000, required=False)
    plus_ones = PlusOneInputSerializer(
        many=True,
        required=False,
        allow_null=True,
        max_length=50,
        help_text="The guests brought along (where the gathering allows them); replaces the "
        "earlier list. Leave out (or null) to keep them.",
    )


class AttendanceSerializer(serializers.Serializer):
    attendance = serializers.ChoiceField(choices=Invitation.Attendance.choices)


class PromoteSerializer(serializers.Serializer):
    reason = Text(max_length=500, help_text="Why the capacity is overridden (recorded).")


# --- The public RSVP endpoint ---------------------------------------------------------------


class RsvpActionSerializer(serializers.Serializer):
    action = serializers.ChoiceField(
        choices=[("answer", "answer"), ("substitute", "substitute"), ("colleague", "colleague")],
        required=False,
        default="answer",
        help_text="`answer` (default); `substitute`: a colleague comes instead; `colleague`: "
        "register a colleague too (meetings, after accepting).",
    )


class RsvpAnswerSerializer(RsvpActionSerializer, AnswerSerializer):
    pass


class RsvpPersonSerializer(RsvpActionSerializer):
    given_name = Text(max_length=100)
    family_name = Text(max_length=100)
    email = serializers.EmailField(max_length=254)
    mode = serializers.ChoiceField(
        choices=Invitation.Mode.choices, required=False, help_text="`colleague` only."
    )


class RsvpRequestSerializer(serializers.Serializer):
    """For the schema: the body of ``POST /rsvp/<token>/`` (one of the shapes above)."""

    action = serializers.ChoiceField(
        choices=[("answer", "answer"), ("substitute", "substitute"), ("colleague", "colleague")],
        required=False,
    )
    answer = serializers.ChoiceField(choices=ANSWER_CHOICES, required=False)
    dietary = serializers.CharField(required=False)
    accessibility = serializers.CharField(required=False)
    other_needs = serializers.CharField(required=False)
    note = serializers.CharField(required=False)
    plus_ones = PlusOneInputSerializer(many=True, required=False, allow_null=True)
    given_name = serializers.CharField(required=False)
    family_name = serializers.CharField(required=False)
    email = serializers.EmailField(required=False)
    mode = serializers.ChoiceField(choices=Invitation.Mode.choices, required=False)

    class Meta:
        ref_name = "RsvpRequest"


class RsvpAgendaItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = AgendaItem
        fields = ["position", "title", "presenter", "duration_minutes"]
        read_only_fields = fields


class RsvpSessionSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField(read_only=True)
    ends_at = serializers.DateTimeField(read_only=True, allow_null=True)
    title = serializers.CharField(read_only=True)
    room = serializers.CharField(read_only=True)
    speakers = serializers.CharField(read_only=True)


class RsvpGatheringSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=[("meeting", "meeting"), ("event", "event")])
    title = serializers.CharField()
    description = serializers.CharField()
    status = serializers.CharField()
    format = serializers.CharField()
    starts_at = serializers.DateTimeField(help_text="UTC.")
    ends_at = serializers.DateTimeField(help_text="UTC.")
    time_zone = serializers.CharField(help_text="IANA time zone of the place.")
    starts_at_local = serializers.CharField(help_text="ISO 8601 in the place's time zone.")
    ends_at_local = serializers.CharField(help_text="ISO 8601 in the place's time zone.")
    venue = serializers.CharField()
    address = serializers.CharField()
    online_link = serializers.CharField(
        allow_null=True, help_text="Only for those who accepted to attend online."
    )
    rsvp_deadline = serializers.DateTimeField()
    rsvp_deadline_local = serializers.CharField()
    answers_open = serializers.BooleanField()
    cancelled = serializers.BooleanField()
    answer_choices = serializers.ListField(child=serializers.CharField())
    max_plus_ones = serializers.IntegerField()
    allows_substitutes = serializers.BooleanField()
    allows_colleagues = serializers.BooleanField()
    agenda = RsvpAgendaItemSerializer(many=True)
    programme = RsvpSessionSerializer(many=True)


class RsvpInviteeSerializer(serializers.Serializer):
    given_name = serializers.CharField()
    family_name = serializers.CharField()
    full_name = serializers.CharField()
    organization = serializers.CharField(help_text="The organisation represented, or empty.")


class RsvpSerializer(serializers.Serializer):
    """What the RSVP page shows."""

    gathering = RsvpGatheringSerializer()
    invitee = RsvpInviteeSerializer()
    status = serializers.ChoiceField(choices=Invitation.Status.choices)
    answer = serializers.ChoiceField(
        choices=ANSWER_CHOICES, allow_null=True, help_text="The current answer; null: none yet."
    )
    dietary = serializers.CharField()
    accessibility = serializers.CharField()
    other_needs = serializers.CharField()
    note = serializers.CharField()
    plus_ones = PlusOneSerializer(many=True)
    answered_at = serializers.DateTimeField(allow_null=True)
    waiting_position = serializers.IntegerField(
        allow_null=True, help_text="Place on the waiting list (1 = next)."
    )
    offer_expires_at = serializers.DateTimeField(
        allow_null=True, help_text="A freed place is offered until then: answer to confirm."
    )
    seats_left = serializers.IntegerField(
        allow_null=True,
        help_text="Colleagues the organisation may still register (null: no limit).",
    )
    replaced_by = serializers.CharField(
        allow_null=True, help_text="The colleague who comes instead, if any."
    )
