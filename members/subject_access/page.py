"""The readable page of a subject-access export: the same records as the JSON file, with
labels, choices and dates in the reader's language."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import models
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from members.models import Contact
from members.subject_access.registry import SECTIONS


def page_language(contact: Contact, requested: str | None = None) -> str:
    """The language asked for, else the contact's own, among those the CRM is translated
    into (``MAIL_LANGUAGES``); English otherwise."""
    available = list(getattr(settings, "MAIL_LANGUAGES", ["en"]))
    for language in (requested, contact.preferred_language):
        if language in available:
            return language
    return available[0] if available else "en"


def _fields_of(model: type[models.Model] | None) -> dict[str, models.Field]:
    if model is None:
        return {}
    fields: dict[str, models.Field] = {}
    for field in model._meta.get_fields():
        if getattr(field, "concrete", False) or isinstance(field, models.ManyToManyField):
            fields[field.name] = field
            fields[getattr(field, "attname", field.name)] = field
    return fields


def _model_named(label: Any) -> type[models.Model] | None:
    try:
        return apps.get_model(str(label))
    except (LookupError, ValueError):
        return None


def _text(value: Any, field: models.Field | None) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, datetime.datetime):
        return date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")
    if isinstance(value, datetime.date):
        return date_format(value, "SHORT_DATE_FORMAT")
    if field is not None and field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _label(key: str, field: models.Field | None, labels: Mapping[str, Any]) -> str:
    if key in labels:
        return str(labels[key])
    if field is not None and getattr(field, "verbose_name", None):
        return str(field.verbose_name)
    return key.replace("_", " ")


def _cells(
    record: Mapping[str, Any],
    model: type[models.Model] | None,
    labels: Mapping[str, Any],
    nested: Mapping[str, type[models.Model]],
) -> list[dict[str, Any]]:
    """One record as (label, text) cells; lists of records and dicts become sub-records."""
    fields = _fields_of(model)
    # A history record names its model: its values are labelled by that model's fields.
    about = _model_named(record["model"]) if "model" in record else None
    about_fields = _fields_of(about)
    cells = []
    for key, value in record.items():
        field = fields.get(key)
        label = _label(key, field, labels)
        if key in nested:
            rows = [_cells(row, nested[key], {}, {}) for row in value]
            cells.append({"label": label, "nested": True, "records": rows})
        elif isinstance(value, dict):
            cells.append(
                {"label": label, "nested": True, "records": [_cells(value, about, {}, {})]}
            )
        elif key == "model" and about is not None:
            cells.append({"label": label, "text": str(about._meta.verbose_name)})
        elif key == "changed_fields" and about is not None:
            names = [_label(name, about_fields.get(name), {}) for name in value]
            cells.append({"label": label, "text": ", ".join(names) or "—"})
        else:
            cells.append({"label": label, "text": _text(value, field)})
    return cells


def subject_access_page_sections(export: Mapping[str, Any]) -> list[dict[str, Any]]:
    sections = []
    for name, data in export["sections"].items():
        section = SECTIONS.get(name)
        model = section.model if section else None
        labels = section.labels if section else {}
        nested = section.nested if section else {}
        sections.append(
            {
                "name": name,
                "title": str(section.title) if section else data["title"],
                "description": str(section.description) if section else "",
                "count": data["count"],
                "records": [_cells(record, model, labels, nested) for record in data["records"]],
            }
        )
    return sections


def subject_access_html(export: Mapping[str, Any], contact: Contact, language: str) -> str:
    """The whole page, a standalone printable HTML document in ``language``."""
    with translation.override(language):
        return render_to_string(
            "members/subject_access/page.html",
            {
                "export": export,
                "contact": contact,
                "language": language,
                "sections": subject_access_page_sections(export),
            },
        )
