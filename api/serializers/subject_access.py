"""The shape of a subject-access export, for the OpenAPI schema only: the export itself is
written by :mod:`members.subject_access` (one structure for the API and the back office)."""

from rest_framework import serializers


class SubjectAccessSubjectSerializer(serializers.Serializer):
    type = serializers.CharField(help_text="Always `contact`.")
    id = serializers.IntegerField()


class SubjectAccessSectionSerializer(serializers.Serializer):
    title = serializers.CharField(help_text="The section's heading, in English.")
    count = serializers.IntegerField(help_text="How many records the section holds.")
    records = serializers.ListField(
        child=serializers.DictField(),
        help_text="The records, plain values; dates and times in ISO 8601.",
    )


class SubjectAccessSerializer(serializers.Serializer):
    schema_version = serializers.IntegerField(help_text="Raised when the structure changes.")
    generated_at = serializers.DateTimeField()
    subject = SubjectAccessSubjectSerializer()
    restricted_included = serializers.BooleanField(
        help_text="Whether restricted consultations (and their follow-ups) are included."
    )
    sections = serializers.DictField(
        child=SubjectAccessSectionSerializer(),
        help_text="By section name, in a fixed order: contact, affiliations, consent, "
        "invitations, consultations, follow_ups, messages, delivery_events, address_holds, "
        "merges, focal_point_successions, history (and any added later). An empty "
        "section has `count` 0 and no records.",
    )

    class Meta:
        ref_name = "SubjectAccessExport"
