import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view

from api import selectors
from api.filters import SinceFilter
from api.models import Tombstone
from api.serializers.deletions import TombstoneSerializer
from api.signals import TRACKED
from api.views.base import ApiViewSet, ListMixin
from members.models import Contact


class TombstoneFilter(django_filters.FilterSet):
    since = SinceFilter(
        field_name="deleted_at", label=_("Deleted at or after this moment (ISO 8601).")
    )
    # The same filter under the name every other list uses.
    updated_since = SinceFilter(field_name="deleted_at")
    object_type = django_filters.ChoiceFilter(
        choices=[(name, name) for name in sorted(set(TRACKED.values()))]
    )

    class Meta:
        model = Tombstone
        fields = ["since", "updated_since", "object_type"]


@extend_schema_view(list=extend_schema(summary="List deleted, erased and merged-away rows"))
class DeletionViewSet(ListMixin, ApiViewSet):
    """The deletion feed: one entry per organisation, contact or affiliation that was deleted,
    erased on request or merged into another (``replaced_by_id``), oldest first. Sync mode
    (``?sync=1``) pages by ``(deleted_at, id)``."""

    # Whoever may read the directory may read what left it.
    permission_model = Contact
    filterset_class = TombstoneFilter
    ordering_fields = ["deleted_at"]
    ordering = ["deleted_at", "id"]
    output_serializer_class = TombstoneSerializer
    sync_field = "deleted_at"

    def get_queryset(self):
        return selectors.tombstone_list()
