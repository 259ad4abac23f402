"""FilterSets of the API resources. Every list filters by ``updated_since``: subclass
:class:`ApiFilterSet` (``updated_since`` = rows changed at or after that moment; ISO 8601 with
a time zone, e.g. ``2026-03-01T00:00:00Z``)."""

import datetime

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django_filters.fields import IsoDateTimeField
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

MAX_ID = 2**63 - 1


@extend_schema_field(OpenApiTypes.INT64)
class IdFilter(django_filters.NumberFilter):
    """An object id: a positive integer in the database's range (anything else is a 400)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class ChoicesFilter(django_filters.MultipleChoiceFilter):
    """One or more values of a column of the listed rows (``?status=a&status=b``), without
    django-filter's default ``DISTINCT``: a row's own column cannot repeat it, and the
    ``DISTINCT`` over every selected column made PostgreSQL sort all matching rows on disk
    for a page and again for its count (bench/indexes.py: 260 ms + 140 ms at 100,000
    invitations). Set ``distinct=True`` for a value reached through a to-many relation."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("distinct", False)
        super().__init__(*args, **kwargs)


class UtcIsoDateTimeField(IsoDateTimeField):
    """ISO 8601, converted to UTC here: a database may refuse odd offsets (+18:25) or a
    moment that falls outside its range once converted."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(datetime.UTC)
        except (OverflowError, ValueError):
            raise ValidationError(_("This moment is out of range."), code="invalid") from None


class SinceFilter(django_filters.IsoDateTimeFilter):
    """Rows whose timestamp is at or after the given moment (``gte``: clients overlap
    rather than miss a row)."""

    field_class = UtcIsoDateTimeField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("lookup_expr", "gte")
        super().__init__(*args, **kwargs)


class ApiFilterSet(django_filters.FilterSet):
    updated_since = SinceFilter(
        field_name="updated_at",
        label=_("Changed at or after this moment (ISO 8601, e.g. 2026-03-01T00:00:00Z)."),
    )


class ExternalRefFilterMixin(django_filters.FilterSet):
    external_ref = django_filters.CharFilter(label=_("The integration's own reference."))
