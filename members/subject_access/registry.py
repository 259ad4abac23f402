"""The subject-access export as a list of sections, and the builder that runs them.

A section is a name (the stable key in the JSON file), a title (the heading of the page, in
the reader's language), the model its records come from (for the page's labels) and a
function ``(contact, context) -> list[dict]`` that reads its records in a fixed number of
queries. Another part of the CRM adds its data with one call::

    from members.subject_access import Section, register

    register(Section(name="consent", title=_("Consent"), model=ConsentRecord,
                     build=lambda contact, context: [...]))

Records are plain dicts of plain values (str, int, bool, None, date, datetime, lists and
dicts of those); :func:`subject_access_json` writes them as ISO dates.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone, translation
from django.utils.functional import Promise

from members.models import Contact

SCHEMA_VERSION = 1


@dataclasses.dataclass(frozen=True)
class ExportContext:
    """What a section may need besides the contact: whether restricted consultations (and
    the follow-ups agreed in them) may be included for this requester."""

    include_restricted: bool = True


@dataclasses.dataclass(frozen=True)
class Section:
    name: str
    title: str | Promise
    build: Callable[[Contact, ExportContext], list[dict[str, Any]]]
    model: type[models.Model] | None = None
    description: str | Promise = ""
    # Labels of keys that are not fields of ``model`` (computed values, nested lists).
    labels: Mapping[str, str | Promise] = dataclasses.field(default_factory=dict)
    # Keys holding lists of records of another model (e.g. an invitation's plus-ones).
    nested: Mapping[str, type[models.Model]] = dataclasses.field(default_factory=dict)


SECTIONS: dict[str, Section] = {}


def register(section: Section) -> Section:
    """Add (or replace, by name) a section; sections appear in the order registered."""
    SECTIONS[section.name] = section
    return section


def subject_access_export(contact: Contact, *, include_restricted: bool = True) -> dict[str, Any]:
    """Everything held about ``contact``, section by section, as plain values.

    Each section runs a fixed number of queries, so the export's cost does not grow with
    the number of invitations, messages or history rows."""
    context = ExportContext(include_restricted=include_restricted)
    sections: dict[str, Any] = {}
    for section in SECTIONS.values():
        records = section.build(contact, context)
        with translation.override("en"):
            title = str(section.title)
        sections[section.name] = {"title": title, "count": len(records), "records": records}
    return {
        "schema_version": SCHEMA_VERSION,
        "generated_at": timezone.now(),
        "subject": {"type": "contact", "id": contact.pk},
        "restricted_included": include_restricted,
        "sections": sections,
    }


def subject_access_json(export: Mapping[str, Any]) -> str:
    return json.dumps(export, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)


def subject_access_filename(contact: Contact, extension: str) -> str:
    """A file name with the contact's id, not their name (it ends up in download folders)."""
    day = timezone.localdate().isoformat()
    return f"subject-access-contact-{contact.pk}-{day}.{extension}"
