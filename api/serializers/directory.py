"""Serializers of the member directory: output (what every answer shows) and input (what a
client may send) are separate classes with explicit fields."""

import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.functional import cached_property
from django_countries import countries
from drf_spectacular.utils import extend_schema_field
from rest_framework import ISO_8601, serializers
from rest_framework.settings import api_settings

from api.selectors import current_role_rows, latest_consent_rows
from api.serializers.fields import ExternalRef, Text, TimeZoneName
from members.models import Affiliation, Contact, FocusArea, Organization
from members.privacy.models import DEFAULTS, ConsentPurpose
from members.privacy.selectors import consent_annotation_name

# --- Output -------------------------------------------------------------------------------


class OrganizationSerializer(serializers.ModelSerializer):
    country = serializers.CharField(
        source="country.code", read_only=True, help_text="ISO 3166-1 code; empty if unknown."
    )
    website = serializers.CharField(read_only=True, help_text="A URL, or empty.")
    focus_areas = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

    class Meta:
        model = Organization
        fields = [
            "id",
            "name",
            "acronym",
            "kind",
            "status",
            "member_since",
            "left_on",
            "country",
            "website",
            "description",
            "focus_areas",
            "takes_part_in_aect",
            "external_ref",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class OrganizationRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = ["id", "name", "acronym"]
        read_only_fields = fields


class ContactRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = ["id", "full_name"]
        read_only_fields = fields


class CurrentRoleSerializer(serializers.ModelSerializer):
    """A role a contact holds today, with its organisation (embedded in contacts)."""

    affiliation_id = serializers.IntegerField(source="id", read_only=True)
    organization = OrganizationRefSerializer(read_only=True)

    class Meta:
        model = Affiliation
        fields = ["affiliation_id", "organization", "role", "job_title", "start_date", "end_date"]
        read_only_fields = fields


class ConsentStateSerializer(serializers.Serializer):
    given = serializers.BooleanField(read_only=True)
    recorded_at = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="When the latest record was made; null: nothing recorded, the default applies "
        "(mail allowed, participant lists and photographs not given).",
    )


class ConsentSerializer(serializers.Serializer):
    """The current consent of a contact, one entry per purpose."""

    mail = ConsentStateSerializer(read_only=True)
    participant_list = ConsentStateSerializer(read_only=True)
    photographs = ConsentStateSerializer(read_only=True)


class ContactSerializer(serializers.ModelSerializer):
    email = serializers.CharField(read_only=True, help_text="An e-mail address, or empty.")
    phone = serializers.CharField(read_only=True)
    time_zone = serializers.CharField(read_only=True)
    mail_opted_out_at = serializers.DateTimeField(
        source="mail_opt_out_at", read_only=True, allow_null=True
    )
    current_roles = serializers.SerializerMethodField()
    consent = serializers.SerializerMethodField()

    class Meta:
        model = Contact
        fields = [
            "id",
            "salutation",
            "given_name",
            "family_name",
            "full_name",
            "email",
            "phone",
            "preferred_language",
            "time_zone",
            "mail_opted_out_at",
            "needs_review",
            "external_ref",
            "current_roles",
            "consent",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @cached_property
    def _current_roles(self) -> serializers.ListSerializer:
        # One nested serializer for every row of a list: building a ModelSerializer's fields
        # is costly, and doing it once per contact was most of the list's time (bench/).
        return CurrentRoleSerializer(many=True)

    @extend_schema_field(ConsentSerializer)
    def get_consent(self, contact: Contact) -> dict:
        # Annotated by the selector (members.privacy.selectors.with_consent): no query here.
        states = {}
        for purpose in ConsentPurpose.values:
            name = consent_annotation_name(purpose)
            states[purpose] = {
                "given": getattr(contact, name, DEFAULTS[purpose]),
                "recorded_at": getattr(contact, f"{name}_at", None),
            }
        return ConsentSerializer(states).data

    @extend_schema_field(CurrentRoleSerializer(many=True))
    def get_current_roles(self, contact: Contact) -> list:
        # Prefetched by the selector (with organisations): no query here.
        affiliations = getattr(contact, "prefetched_affiliations", None)
        if affiliations is None:
            affiliations = contact.affiliations.select_related("organization").order_by(
                "organization__name", "role", "id"
            )
        today = timezone.localdate()
        current = [a for a in affiliations if a.is_current(today)]
        return self._current_roles.to_representation(current)


# --- The contacts list, from values() rows ---------------------------------------------------


def _datetime_formatter():
    """DRF's ``DateTimeField`` output, as one function for a whole page: ISO 8601 in the
    current time zone, ``Z`` for UTC. Any other DRF date setting falls back to the field."""
    if settings.USE_TZ and api_settings.DATETIME_FORMAT == ISO_8601:
        zone = timezone.get_current_timezone()

        def iso(value):
            if value is None:
                return None
            text = value.astimezone(zone).isoformat()
            return text[:-6] + "Z" if text.endswith("+00:00") else text

        return iso
    field = serializers.DateTimeField()
    return lambda value: None if value is None else field.to_representation(value)


def _date(value):
    return None if value is None else value.isoformat()


def _roles_and_consent(rows: list[dict], iso) -> tuple[dict, dict]:
    """The page's current roles (by contact) and latest consent (by contact and purpose), in
    one query each: where the page's query did not embed them."""
    ids = [row["id"] for row in rows]
    roles: dict[int, list[dict]] = {pk: [] for pk in ids}
    for role in current_role_rows(ids):
        roles[role["contact_id"]].append(
            {
                "affiliation_id": role["id"],
                "organization": {
                    "id": role["organization_id"],
                    "name": role["organization__name"],
                    "acronym": role["organization__acronym"],
                },
                "role": role["role"],
                "job_title": role["job_title"],
                "start_date": _date(role["start_date"]),
                "end_date": _date(role["end_date"]),
            }
        )
    latest: dict[tuple[int, str], dict] = {}
    for contact_id, purpose, given, recorded_at in latest_consent_rows(ids):
        # Each (contact, purpose)'s latest record comes first: it is the one that counts.
        latest.setdefault((contact_id, purpose), {"given": given, "recorded_at": iso(recorded_at)})
    return roles, latest


def contact_rows_representation(rows: list[dict]) -> list[dict]:
    """A page of :func:`api.selectors.contact_rows` as :class:`ContactSerializer` shows each
    contact — the same keys, order and formats (tests/api/test_contact_rows.py compares them
    on varied data) — with the current roles and the consent embedded by the page's query
    on PostgreSQL, otherwise read in one query each. Model
    instances and DRF's per-field machinery were most of a list's time (bench/api_list.py);
    a change to ``ContactSerializer`` must be made here too, and that test fails until it is."""
    if not rows:
        return []
    iso = _datetime_formatter()
    defaults = {purpose: {"given": DEFAULTS[purpose], "recorded_at": None} for purpose in DEFAULTS}
    if "roles_json" in rows[0]:  # embedded by the page's query (PostgreSQL)
        roles = {row["id"]: row["roles_json"] for row in rows}
        latest = {
            (row["id"], purpose): {
                "given": state["given"],
                "recorded_at": iso(datetime.datetime.fromisoformat(state["recorded_at"])),
            }
            for row in rows
            for purpose, state in (row["consent_json"] or {}).items()
        }
    else:
        roles, latest = _roles_and_consent(rows, iso)
    purposes = ConsentPurpose.values
    return [
        {
            "id": row["id"],
            "salutation": row["salutation"],
            "given_name": row["given_name"],
            "family_name": row["family_name"],
            "full_name": f"{row['given_name']} {row['family_name']}".strip(),
            "email": row["email"],
            "phone": str(row["phone"]),
            "preferred_language": row["preferred_language"],
            "time_zone": str(row["time_zone"]),
            "mail_opted_out_at": iso(row["mail_opt_out_at"]),
            "needs_review": row["needs_review"],
            "external_ref": row["external_ref"],
            "current_roles": roles[row["id"]],
            "consent": {
                purpose: dict(latest.get((row["id"], purpose)) or defaults[purpose])
                for purpose in purposes
            },
            "created_at": iso(row["created_at"]),
            "updated_at": iso(row["updated_at"]),
        }
        for row in rows
    ]


class AffiliationSerializer(serializers.ModelSerializer):
    contact = ContactRefSerializer(read_only=True)
    organization = OrganizationRefSerializer(read_only=True)
    is_current = serializers.SerializerMethodField()

    class Meta:
        model = Affiliation
        fields = [
            "id",
            "contact",
            "organization",
            "role",
            "job_title",
            "start_date",
            "end_date",
            "is_current",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_is_current(self, affiliation: Affiliation) -> bool:
        return affiliation.is_current()


# --- Input --------------------------------------------------------------------------------


class OrganizationUpdateSerializer(serializers.Serializer):
    name = Text(max_length=200)
    acronym = Text(max_length=30, required=False)
    kind = serializers.ChoiceField(choices=Organization.Kind.choices)
    country = serializers.ChoiceField(
        choices=list(countries), required=False, allow_blank=True, help_text="ISO 3166-1 code."
    )
    website = serializers.URLField(max_length=200, required=False, allow_blank=True)
    description = Text(required=False, max_length=10_000)
    focus_areas = serializers.ListField(
        child=serializers.ChoiceField(choices=FocusArea.Code.choices),
        required=False,
        max_length=len(FocusArea.Code.choices),
        help_text="Replaces the organisation's focus areas.",
    )
    takes_part_in_aect = serializers.BooleanField(required=False)
    external_ref = ExternalRef()


class OrganizationCreateSerializer(OrganizationUpdateSerializer):
    status = serializers.ChoiceField(
        choices=Organization.Status.choices,
        required=False,
        help_text="The first membership status (default prospective); later changes go "
        "through `change-status`.",
    )
    status_date = serializers.DateField(required=False)


class OrganizationStatusChangeSerializer(serializers.Serializer):
    to_status = serializers.ChoiceField(choices=Organization.Status.choices)
    reason = Text(required=False, max_length=2000, help_text="Required for suspend/withdraw.")
    effective_date = serializers.DateField(required=False)


class ContactInputSerializer(serializers.Serializer):
    salutation = Text(max_length=40, required=False)
    given_name = Text(max_length=100)
    family_name = Text(max_length=100)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    phone = Text(max_length=40, required=False, help_text="International format, e.g. +43…")
    preferred_language = serializers.ChoiceField(choices=Contact.Language.choices, required=False)
    time_zone = TimeZoneName(required=False)
    external_ref = ExternalRef()


class AffiliationUpdateSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Affiliation.Role.choices)
    job_title = Text(max_length=200, required=False)
    start_date = serializers.DateField(required=False, allow_null=True)
    end_date = serializers.DateField(required=False, allow_null=True)


class AffiliationCreateSerializer(AffiliationUpdateSerializer):
    contact = serializers.PrimaryKeyRelatedField(queryset=Contact.objects.all())
    organization = serializers.PrimaryKeyRelatedField(queryset=Organization.objects.all())


class AffiliationEndSerializer(serializers.Serializer):
    end_date = serializers.DateField(required=False, help_text="Default: today.")


class ConsentInputSerializer(serializers.Serializer):
    purpose = serializers.ChoiceField(choices=ConsentPurpose.choices)
    given = serializers.BooleanField(help_text="true: consent given; false: withdrawn.")
    text_version = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="The version of the purpose's consent text the person agreed to; default: "
        "the current one.",
    )
    language = serializers.ChoiceField(
        choices=[code for code, _name in settings.LANGUAGES],
        required=False,
        help_text="The language in which the text was shown.",
    )
    note = Text(max_length=300, required=False)
