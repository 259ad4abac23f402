"""Producing a subject-access export for someone, and recording that it was produced."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction

from crm.audit import access_log_record
from crm.models import AccessLogEntry
from members.models import Contact
from members.subject_access.page import page_language, subject_access_html
from members.subject_access.registry import subject_access_export, subject_access_json

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    from api.models import ApiClient

JSON = "json"
HTML = "html"
OUTPUTS = (JSON, HTML)


@transaction.atomic
def subject_access_produce(
    *,
    contact: Contact,
    output: str,
    channel: str,
    include_restricted: bool,
    acting_user: AbstractBaseUser | AnonymousUser | None = None,
    api_client: ApiClient | None = None,
    language: str | None = None,
) -> str:
    """The export of ``contact`` as the JSON file or the HTML page (in ``language``, else the
    contact's own), with an access-log entry naming who asked (a user or an API client) and
    the contact by reference only. ``channel`` says where it was asked ("back office",
    "API") in the log's words; it must not contain personal data."""
    if output not in OUTPUTS:
        raise ValueError(f"Unknown subject-access output {output!r}")
    export = subject_access_export(contact, include_restricted=include_restricted)
    if output == JSON:
        content = subject_access_json(export)
    else:
        content = subject_access_html(export, contact, page_language(contact, language))
    access_log_record(
        action=AccessLogEntry.Action.SUBJECT_ACCESS,
        description=f"Subject-access export ({output.upper()}, {channel})",
        acting_user=acting_user,
        api_client=api_client,
        obj=contact,
        row_count=sum(section["count"] for section in export["sections"].values()),
    )
    return content
