from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import models

from crm.exceptions import ApplicationError


def as_application_error(exc: ValidationError) -> ApplicationError:
    if hasattr(exc, "error_dict"):
        field, errors = next(iter(exc.error_dict.items()))
        message = " ".join(str(m) for e in errors for m in e.messages)
        return ApplicationError(message, field=None if field == "__all__" else field)
    return ApplicationError(" ".join(exc.messages))


def save(
    instance: models.Model,
    acting_user: AbstractBaseUser | None,
    *,
    reason: str = "",
    update_fields: list[str] | None = None,
) -> None:
    """Validate and save, recording who did it (and why) in the history."""
    try:
        instance.full_clean()
    except ValidationError as exc:
        raise as_application_error(exc) from exc
    instance._history_user = acting_user if getattr(acting_user, "pk", None) else None
    if reason:
        instance._change_reason = reason
    if update_fields is not None:
        update_fields = [*update_fields, "updated_at"]
    instance.save(update_fields=update_fields)
