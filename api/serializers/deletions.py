from rest_framework import serializers

from api.models import Tombstone


class TombstoneSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tombstone
        fields = [
            "id",
            "object_type",
            "object_id",
            "external_ref",
            "reason",
            "replaced_by_id",
            "deleted_at",
        ]
        read_only_fields = fields
