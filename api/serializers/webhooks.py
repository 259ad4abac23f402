"""Serializers of an API client's webhook subscriptions. The secret is shown in the answer to
the creation only (it signs every delivery)."""

from rest_framework import serializers

from api.models_webhooks import WebhookSubscription
from api.webhooks.events import EVENT_TYPE_CHOICES, EVENT_TYPES


class WebhookSubscriptionSerializer(serializers.ModelSerializer):
    url = serializers.CharField(read_only=True)
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_TYPE_CHOICES), read_only=True
    )

    class Meta:
        model = WebhookSubscription
        fields = [
            "id",
            "url",
            "event_types",
            "active",
            "disabled_at",
            "disabled_reason",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class WebhookSubscriptionCreatedSerializer(WebhookSubscriptionSerializer):
    secret = serializers.CharField(
        read_only=True,
        help_text="The HMAC-SHA256 key of `X-Alliance-Signature`: shown once, keep it safe.",
    )

    class Meta(WebhookSubscriptionSerializer.Meta):
        fields = [*WebhookSubscriptionSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookSubscriptionInputSerializer(serializers.Serializer):
    url = serializers.URLField(max_length=500, help_text="https, on a public address.")
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_TYPE_CHOICES),
        min_length=1,
        max_length=len(EVENT_TYPES),
    )
