from django.db import transaction
from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError

from api.services import external_ref_assign


class ExternalRefUpsertMixin:
    """``PUT /<resource>/by-ref/<external_ref>/``: create the row with this ``external_ref``
    (201) or update the one that has it (200), with the creation serializer's rules (required
    fields must be sent; optional fields left out keep their value). ``If-Match`` applies when
    the row exists. The reference in the URL wins over one in the body.

    Needs ``perform_create``/``perform_update`` and a model with a unique ``external_ref``;
    declare the schema in the view with ``extend_schema_view(upsert=...)``."""

    @action(detail=False, methods=["put"], url_path=r"by-ref/(?P<external_ref>[^/]+)")
    def upsert(self, request, external_ref: str, *args, **kwargs):
        external_ref = external_ref.strip()
        if not external_ref or len(external_ref) > 100:
            raise ValidationError({"external_ref": [_("1 to 100 characters.")]})
        data = self.validated_input(self.input_serializer_class)
        data["external_ref"] = external_ref
        with transaction.atomic():
            existing = (
                self.get_queryset()
                .select_for_update(of=("self",))
                .filter(external_ref=external_ref)
                .first()
            )
            if existing is None:
                instance = self.perform_create(data)
                code = status.HTTP_201_CREATED
            else:
                self.check_object_permissions(request, existing)
                self.check_precondition(existing)
                instance = self.perform_update(existing, self.updatable(data))
                code = status.HTTP_200_OK
        return self.object_response(instance, code)

    def update_with_ref(self, instance, data: dict, update):
        """Apply ``update(instance, **rest)`` for the domain fields, then the
        ``external_ref`` if the body has one: the members services do not change references,
        ``api.services.external_ref_assign`` does (validated, with history)."""
        has_ref = "external_ref" in data
        external_ref = data.pop("external_ref", None)
        if data:
            instance = update(instance, **data)
        if has_ref:
            external_ref_assign(
                instance=instance, external_ref=external_ref, acting_user=self.acting_user
            )
        return instance

    def updatable(self, data: dict) -> dict:
        """The fields of a creation body that an update may change (default: those of the
        update serializer)."""
        fields = (self.update_serializer_class or self.input_serializer_class)().fields
        return {k: v for k, v in data.items() if k in fields}
