"""Serializers of consultations and follow-ups: output and input are separate classes."""

from django.contrib.auth import get_user_model
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers.directory import ContactRefSerializer, OrganizationRefSerializer
from api.serializers.fields import Text
from meetings.models import Consultation, FollowUp, Gathering
from members.models import Contact, FocusArea, Organization

# --- Output -------------------------------------------------------------------------------


class StaffRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.SerializerMethodField()

    def get_name(self, user) -> str:
        return user.get_full_name() or user.get_username()


class ConsultationSerializer(serializers.ModelSerializer):
    organizations = OrganizationRefSerializer(many=True, read_only=True)
    contacts = ContactRefSerializer(many=True, read_only=True)
    staff = StaffRefSerializer(many=True, read_only=True)
    topics = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

    class Meta:
        model = Consultation
        fields = [
            "id",
            "kind",
            "held_on",
            "channel",
            "title",
            "organizations",
            "contacts",
            "staff",
            "topics",
            "label",
            "summary",
            "outcomes",
            "confidentiality",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class FollowUpSerializer(serializers.ModelSerializer):
    owner_user = StaffRefSerializer(read_only=True, allow_null=True)
    owner_contact = ContactRefSerializer(read_only=True, allow_null=True)
    organization = OrganizationRefSerializer(read_only=True, allow_null=True)
    gathering = serializers.IntegerField(
        source="gathering_id", read_only=True, allow_null=True, help_text="Meeting or event id."
    )
    consultation = serializers.IntegerField(
        source="consultation_id", read_only=True, allow_null=True
    )
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = FollowUp
        fields = [
            "id",
            "title",
            "status",
            "source",
            "due_date",
            "overdue",
            "owner_user",
            "owner_contact",
            "organization",
            "gathering",
            "consultation",
            "notes",
            "done_on",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.BooleanField())
    def get_overdue(self, followup: FollowUp) -> bool:
        return bool(
            followup.status == FollowUp.Status.OPEN
            and followup.due_date
            and followup.due_date < timezone.localdate()
        )


# --- Input --------------------------------------------------------------------------------


def staff_users():
    return get_user_model().objects.filter(is_staff=True, is_active=True)


class ConsultationUpdateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Consultation.Kind.choices)
    held_on = serializers.DateField()
    channel = serializers.ChoiceField(choices=Consultation.Channel.choices)
    title = Text(max_length=300)
    organizations = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.all(),
        many=True,
        help_text="Partner organisations (exactly one for a bilateral consultation).",
    )
    contacts = serializers.PrimaryKeyRelatedField(
        queryset=Contact.objects.all(), many=True, required=False
    )
    staff = serializers.PrimaryKeyRelatedField(
        queryset=staff_users(), many=True, required=False, help_text="Office staff (user ids)."
    )
    topics = serializers.SlugRelatedField(
        slug_field="code", queryset=FocusArea.objects.all(), many=True, required=False
    )
    label = Text(max_length=200, required=False)
    summary = Text(max_length=100_000, required=False)
    outcomes = Text(max_length=100_000, required=False)
    confidentiality = serializers.ChoiceField(
        choices=Consultation.Confidentiality.choices,
        required=False,
        help_text="`restricted` only for callers who may see restricted consultations.",
    )


class ConsultationCreateSerializer(ConsultationUpdateSerializer):
    pass


class FollowUpCreateSerializer(serializers.Serializer):
    title = Text(max_length=300)
    owner_user = serializers.PrimaryKeyRelatedField(
        queryset=staff_users(), required=False, allow_null=True, help_text="Office member (id)."
    )
    owner_contact = serializers.PrimaryKeyRelatedField(
        queryset=Contact.objects.all(),
        required=False,
        allow_null=True,
        help_text="A partner contact; then `owner_user` is required too.",
    )
    due_date = serializers.DateField(required=False, allow_null=True)
    source = serializers.ChoiceField(choices=FollowUp.Source.choices, required=False)
    gathering = serializers.PrimaryKeyRelatedField(
        queryset=Gathering.objects.all(), required=False, allow_null=True
    )
    consultation = serializers.PrimaryKeyRelatedField(
        queryset=Consultation.objects.none(), required=False, allow_null=True
    )
    organization = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.all(), required=False, allow_null=True
    )
    notes = Text(max_length=20_000, required=False)

    def __init__(self, *args, consultations=None, **kwargs):
        super().__init__(*args, **kwargs)
        # Only consultations the caller may see can be referred to (else: "does not exist").
        if consultations is not None:
            self.fields["consultation"].queryset = consultations


class FollowUpCompleteSerializer(serializers.Serializer):
    on = serializers.DateField(required=False, help_text="When it was done (default: today).")


class FollowUpCancelSerializer(serializers.Serializer):
    reason = Text(max_length=2000, required=False, help_text="Added to the notes.")
