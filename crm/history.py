"""The history of every domain model: django-simple-history, attributed (see
:class:`crm.models.HistoricalAttribution` and :func:`crm.audit.acting_as`)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from simple_history.models import HistoricalRecords

from crm.models import HistoricalAttribution


def history_user_of(request=None, **_kwargs) -> AbstractBaseUser | None:
    """The member of staff behind a request, for ``history_user``.

    Under the API with a token, DRF puts the :class:`api.models.ApiClient` on the Django
    request too; simple-history would then try to store it as a user and fail. The client is
    recorded in ``history_api_client`` instead."""
    user = getattr(request, "user", None)
    if isinstance(user, AbstractBaseUser) and user.is_authenticated:
        return user
    return None


class AuditedHistory(HistoricalRecords):
    """``HistoricalRecords`` whose rows also name the API client or invitation acting."""

    def __init__(self, *args, bases=(), get_user=history_user_of, **kwargs):
        super().__init__(*args, bases=[HistoricalAttribution, *bases], get_user=get_user, **kwargs)
