"""Input fields shared by the API's input serializers."""

import zoneinfo

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers


def no_surrogates(value: str) -> None:
    # Lone UTF-16 surrogates (valid in JSON escapes) cannot be stored: refuse them as input.
    if any("\ud800" <= char <= "\udfff" for char in value):
        raise serializers.ValidationError(_("Contains characters that are not valid text."))


class Text(serializers.CharField):
    """A CharField that refuses NUL and lone surrogates; blank allowed unless required."""

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_blank", not kwargs.get("required", True))
        super().__init__(**kwargs)
        self.validators.append(no_surrogates)


class ExternalRef(Text):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 100)
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault(
            "help_text",
            "Your own id for this row: unique; you can upsert by it. Empty or null clears it.",
        )
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> str | None:
        # Stored as NULL when empty, so that any number of rows can be without a reference.
        return super().to_internal_value(data).strip() or None


class TimeZoneName(Text):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("help_text", "An IANA time zone name, e.g. Europe/Vienna.")
        super().__init__(**kwargs)
        self.validators.append(self._known)

    @staticmethod
    def _known(value: str) -> None:
        if value not in zoneinfo.available_timezones():
            raise serializers.ValidationError(_("Unknown time zone."))
