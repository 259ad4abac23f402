"""The history of every domain model: django-simple-history, attributed (see
:class:`crm.models.HistoricalAttribution` and :func:`crm.audit.acting_as`)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import connections, router
from django.db.models import Model
from django.utils import timezone
from simple_history.models import HistoricalRecords
from simple_history.signals import pre_create_historical_record
from simple_history.utils import get_change_reason_from_object

from crm.models import HistoricalAttribution

# Ids per INSERT … SELECT of history_bulk_create (SQLite allows 32,766 parameters).
HISTORY_COPY_CHUNK = 5000


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


def history_bulk_create(instances: list[Model], *, update: bool = False) -> int:
    """The history rows that ``save()`` writes, for rows just written with ``bulk_create`` or
    ``bulk_update`` (which send no signals): one ``+`` row (``~`` with ``update``) per
    instance, with the user of ``instance._history_user`` (else the request's) and the change
    reason of ``instance._change_reason``, as a save records them. Returns how many.

    The rows are copied by the database (``INSERT … SELECT`` from the saved rows, one
    statement per user and reason) rather than built in Python — for an import of thousands
    of contacts, building them cost as much as saving the contacts. Who acted besides the user
    (the API client, invitation or task of :func:`crm.audit.acting_as`) is the same for every
    row written at once, so the ``pre_create_historical_record`` receivers are asked once per
    statement, with its first instance; ``post_create_historical_record`` is not sent (nothing
    listens to it here)."""
    if not instances or not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        return 0
    model = type(instances[0])
    history_model = model.history.model
    if getattr(history_model, "_history_m2m_fields", None):
        raise ValueError(f"{model.__name__} keeps a history of many-to-many fields; save it")
    now = timezone.now()
    groups: dict[tuple, list[Model]] = {}
    for instance in instances:
        user = _history_user(instance)
        key = (
            getattr(user, "pk", None),
            get_change_reason_from_object(instance) or "",
            getattr(instance, "_history_date", now),
        )
        groups.setdefault(key, []).append(instance)
    for (_user_pk, reason, date), members in groups.items():
        template = history_model(
            history_date=date,
            history_type="~" if update else "+",
            history_user=_history_user(members[0]),
            history_change_reason=reason,
        )
        pre_create_historical_record.send(
            sender=history_model,
            instance=members[0],
            history_date=date,
            history_user=template.history_user,
            history_change_reason=reason,
            history_instance=template,
            using=None,
        )
        _copy_into_history(model, history_model, template, [m.pk for m in members])
    return len(instances)


def _copy_into_history(model, history_model, template, pks: list) -> None:
    connection = connections[router.db_for_write(history_model)]
    quote = connection.ops.quote_name
    tracked = {f.name for f in history_model.tracked_fields}
    columns, selected, params = [], [], []
    for field in history_model._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(quote(field.column))
        if field.name in tracked:
            selected.append(f"src.{quote(model._meta.get_field(field.name).column)}")
        else:  # history_date, _type, _user, _change_reason and the attribution
            selected.append("%s")
            params.append(field.get_db_prep_save(getattr(template, field.attname), connection))
    pk = quote(model._meta.pk.column)
    # Only the models' own quoted names are formatted in; every value is a parameter.
    insert = (
        f"INSERT INTO {quote(history_model._meta.db_table)} ({', '.join(columns)}) "  # noqa: S608
        f"SELECT {', '.join(selected)} FROM {quote(model._meta.db_table)} src WHERE src.{pk} IN "
    )
    with connection.cursor() as cursor:
        for start in range(0, len(pks), HISTORY_COPY_CHUNK):
            chunk = pks[start : start + HISTORY_COPY_CHUNK]
            placeholders = ", ".join(["%s"] * len(chunk))
            cursor.execute(f"{insert}({placeholders}) ORDER BY src.{pk}", [*params, *chunk])


def _history_user(instance: Model) -> AbstractBaseUser | None:
    # As simple-history's HistoricalRecords.get_history_user: the instance's, else the request's.
    try:
        return instance._history_user
    except AttributeError:
        return history_user_of(getattr(HistoricalRecords.context, "request", None))
