"""Recording access to personal data (the access log). Writes only; reads are plain querysets."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.contenttypes.models import ContentType
from django.db import models

from crm.models import AccessLogEntry

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    from api.models import ApiClient


def access_log_record(
    *,
    action: str,
    description: str,
    acting_user: AbstractBaseUser | AnonymousUser | None = None,
    api_client: ApiClient | None = None,
    obj: models.Model | None = None,
    model: type[models.Model] | None = None,
    row_count: int | None = None,
) -> AccessLogEntry:
    """Append one entry. ``obj`` names the one object concerned (a contact for a
    subject-access export); ``model`` the kind of rows of a list export. ``description`` must
    not contain personal data (see :class:`AccessLogEntry`)."""
    user = acting_user if acting_user is not None and acting_user.is_authenticated else None
    content_type = None
    object_id = ""
    if obj is not None:
        content_type = ContentType.objects.get_for_model(obj, for_concrete_model=False)
        object_id = str(obj.pk)
    elif model is not None:
        content_type = ContentType.objects.get_for_model(model, for_concrete_model=False)
    entry = AccessLogEntry(
        action=action,
        description=description[:300],
        user=user,
        api_client=api_client,
        content_type=content_type,
        object_id=object_id,
        row_count=row_count,
    )
    entry.full_clean()
    entry.save()
    return entry
