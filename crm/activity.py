"""The activity of the whole back office: every history row of every domain model, newest first.

How the history tables are combined: one ``UNION ALL`` of a narrow query per historical model
(``history_date``, ``history_id`` and the model's label, each filtered alike), ordered and
sliced by the database, gives the rows of one page. Then, for each model that appears on the
page, one query loads those rows in full (with who acted) and one their previous versions (the
diff "old → new" of an update). So a page costs a count, the union and two queries per model
on it, whatever its size.

Who sees what: only the models the user may view (``view_<model>``); restricted consultations
and their follow-ups only with ``meetings.view_restricted_consultation``.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Page, Paginator
from django.db import models
from django.db.models import CharField, OuterRef, Q, Subquery, Value
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from crm.models import HistoricalAttribution

VIEW_RESTRICTED = "meetings.view_restricted_consultation"
RESTRICTED = "restricted"
# Models whose ``__str__`` follows foreign keys: loaded with them, once per page.
LABEL_RELATED = {
    "members.affiliation": ("contact", "organization"),
    "meetings.invitation": ("contact", "gathering"),
}
VALUE_LENGTH = 80
GATHERINGS = ("meetings.meeting", "events.event")


def history_models() -> dict[str, tuple[type[models.Model], type[models.Model]]]:
    """``{"app.model": (model, historical model)}`` of every model with attributed history."""
    found = {}
    for model in apps.get_models():
        attribute = getattr(model._meta, "simple_history_manager_attribute", None)
        if not attribute:
            continue
        history_model = getattr(model, attribute).model
        if issubclass(history_model, HistoricalAttribution):
            found[model._meta.label_lower] = (model, history_model)
    return found


def visible_history_models(user: AbstractBaseUser) -> dict[str, tuple[type, type]]:
    return {
        label: pair
        for label, pair in history_models().items()
        if user.has_perm(f"{pair[0]._meta.app_label}.view_{pair[0]._meta.model_name}")
    }


@dataclass(frozen=True)
class ActivityFilter:
    user_id: int | None = None
    api_client_id: int | None = None
    invitation_id: int | None = None
    model_label: str = ""
    object_id: int | None = None
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None


def _restricted(label: str, queryset: models.QuerySet) -> models.QuerySet:
    """Leave out the history of restricted consultations and of their follow-ups (by what
    they are now and by what the row says)."""
    from meetings.models import Consultation

    hidden = Consultation.objects.filter(confidentiality=RESTRICTED).values("pk")
    if label == "meetings.consultation":
        return queryset.exclude(confidentiality=RESTRICTED).exclude(id__in=hidden)
    if label == "meetings.followup":
        hidden_rows = Consultation.history.filter(confidentiality=RESTRICTED).values("id")
        return queryset.exclude(consultation_id__in=hidden).exclude(consultation_id__in=hidden_rows)
    return queryset


def _filtered(label: str, history_model, activity: ActivityFilter, user) -> models.QuerySet:
    queryset = history_model.objects.all()
    if activity.user_id is not None:
        queryset = queryset.filter(history_user_id=activity.user_id)
    if activity.api_client_id is not None:
        queryset = queryset.filter(history_api_client_id=activity.api_client_id)
    if activity.invitation_id is not None:
        queryset = queryset.filter(history_invitation_id=activity.invitation_id)
    if activity.object_id is not None:
        queryset = queryset.filter(id=activity.object_id)
    if activity.date_from is not None:
        queryset = queryset.filter(history_date__date__gte=activity.date_from)
    if activity.date_to is not None:
        queryset = queryset.filter(history_date__date__lte=activity.date_to)
    if not user.has_perm(VIEW_RESTRICTED):
        queryset = _restricted(label, queryset)
    return queryset


def activity_index(user: AbstractBaseUser, activity: ActivityFilter) -> models.QuerySet | None:
    """The narrow union of every visible history table: ``history_date``, ``history_id`` and
    ``label``, newest first; None when no table is concerned."""
    tables = visible_history_models(user)
    if activity.model_label:
        wanted = {activity.model_label}
        if activity.object_id is not None and activity.model_label in GATHERINGS:
            # Some changes to a meeting or an event are recorded on the gathering it is.
            wanted.add("meetings.gathering")
        tables = {k: v for k, v in tables.items() if k in wanted}
    parts = [
        _filtered(label, history_model, activity, user)
        .order_by()
        .annotate(activity_model=Value(label, output_field=CharField()))
        .values_list("history_date", "history_id", "activity_model")
        for label, (_model, history_model) in tables.items()
    ]
    if not parts:
        return None
    first, *rest = parts
    union = first.union(*rest, all=True) if rest else first
    return union.order_by("-history_date", "-history_id")


# --- One page, in full ---------------------------------------------------------------------


@dataclass
class Change:
    field: str
    old: str
    new: str


@dataclass
class ActivityRow:
    when: datetime.datetime
    label: str
    type_name: str
    object_id: Any
    object_label: str
    object_url: str
    history_type: str
    who: str
    who_kind: str  # "user", "api_client", "invitation" or "" (a task, a command)
    who_query: str  # the filter showing everything they did ("user=3")
    reason: str
    changes: list[Change] = field(default_factory=list)

    @property
    def symbol(self) -> str:
        return self.history_type


def _display(history_row, model_field) -> str:
    value = getattr(history_row, model_field.attname)
    if value is None or value == "":
        return "—"
    if model_field.choices:
        value = dict(model_field.flatchoices).get(value, value)
    elif model_field.is_relation:
        value = f"#{value}"
    text = str(value)
    return text if len(text) <= VALUE_LENGTH else text[: VALUE_LENGTH - 1] + "…"


def _changes(row, previous, model) -> list[Change]:
    changes = []
    for tracked in row.tracked_fields:
        if tracked.primary_key:
            continue
        if getattr(row, tracked.attname) == getattr(previous, tracked.attname):
            continue
        try:
            model_field = model._meta.get_field(tracked.name)
        except FieldDoesNotExist:  # a field of the history only
            model_field = tracked
        changes.append(
            Change(
                field=str(getattr(model_field, "verbose_name", tracked.name)),
                old=_display(previous, tracked),
                new=_display(row, tracked),
            )
        )
    return changes


def _who(row) -> tuple[str, str, str]:
    if row.history_user_id is not None:
        user = row.history_user
        name = user.get_full_name()
        label = f"{name} ({user.get_username()})" if name else user.get_username()
        return label, "user", f"user={user.pk}"
    if row.history_api_client_id is not None:
        client = row.history_api_client
        return (
            _("API client %(name)s") % {"name": client.name},
            "api_client",
            f"api_client={client.pk}",
        )
    if row.history_invitation_id is not None:
        invitation = row.history_invitation
        return (
            _("%(person)s (RSVP link, invitation #%(id)s)")
            % {"person": invitation.contact.full_name, "id": invitation.pk},
            "invitation",
            f"invitation={invitation.pk}",
        )
    return _("System (task or command)"), "", ""


def _admin_url(model, pk, label: str, events: set) -> str:
    target = model
    if label == "meetings.gathering":
        # A gathering is a meeting or an event; each has its own admin.
        target = apps.get_model("events.event" if pk in events else "meetings.meeting")
    try:
        return reverse(
            f"admin:{target._meta.app_label}_{target._meta.model_name}_change", args=[pk]
        )
    except NoReverseMatch:
        return ""


def activity_rows(page_index: list[tuple], user: AbstractBaseUser) -> list[ActivityRow]:
    """The page's rows in full: two queries per model on the page (rows, previous rows) and one
    per model for the objects' labels."""
    tables = history_models()
    by_label: dict[str, list[int]] = {}
    for _when, history_id, label in page_index:
        by_label.setdefault(label, []).append(history_id)

    loaded: dict[tuple[str, int], ActivityRow] = {}
    for label, history_ids in by_label.items():
        model, history_model = tables[label]
        # The version just before each row: earlier, or as early and written before it.
        previous_id = (
            history_model.objects.filter(id=OuterRef("id"))
            .filter(
                Q(history_date__lt=OuterRef("history_date"))
                | Q(history_date=OuterRef("history_date"), history_id__lt=OuterRef("history_id"))
            )
            .order_by("-history_date", "-history_id")
            .values("history_id")[:1]
        )
        rows = list(
            history_model.objects.filter(history_id__in=history_ids)
            .select_related("history_user", "history_api_client", "history_invitation__contact")
            .annotate(previous_id=Subquery(previous_id))
        )
        wanted = [r.previous_id for r in rows if r.history_type == "~" and r.previous_id]
        previous = {p.history_id: p for p in history_model.objects.filter(history_id__in=wanted)}
        object_ids = {r.id for r in rows}
        current = {
            o.pk: o
            for o in model._default_manager.filter(pk__in=object_ids).select_related(
                *LABEL_RELATED.get(label, ())
            )
        }
        events: set = set()
        if label == "meetings.gathering":
            events = set(
                apps.get_model("events.event")
                .objects.filter(pk__in=object_ids)
                .values_list("pk", flat=True)
            )
        for row in rows:
            obj = current.get(row.id)
            if obj is not None:
                object_label = str(obj)
            elif label in LABEL_RELATED:
                object_label = f"{model._meta.verbose_name} #{row.id}"
            else:
                object_label = str(row.instance)
            who, who_kind, who_query = _who(row)
            before = previous.get(row.previous_id) if row.history_type == "~" else None
            loaded[(label, row.history_id)] = ActivityRow(
                when=row.history_date,
                label=label,
                type_name=str(model._meta.verbose_name),
                object_id=row.id,
                object_label=object_label,
                object_url=_admin_url(model, row.id, label, events) if obj is not None else "",
                history_type=row.history_type,
                who=who,
                who_kind=who_kind,
                who_query=who_query,
                reason=row.history_change_reason or "",
                changes=_changes(row, before, model) if before is not None else [],
            )
    return [
        loaded[(label, history_id)]
        for _when, history_id, label in page_index
        if (label, history_id) in loaded
    ]


def activity_page(
    user: AbstractBaseUser, activity: ActivityFilter, *, page: int | str, per_page: int
) -> tuple[Page | None, list[ActivityRow]]:
    index = activity_index(user, activity)
    if index is None:
        return None, []
    paginated = Paginator(index, per_page).get_page(page)
    return paginated, activity_rows(list(paginated.object_list), user)
