"""The sections of the subject-access export held by the directory, meetings, events and the
outbox. Each reads one or two queries, whatever the number of rows (the history section one
per historical model)."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.db import models
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from crm.mail.models import AddressHold, DeliveryEvent, OutgoingMessage
from meetings.models import Consultation, FocalPointSuccession, FollowUp, Invitation, PlusOne
from members.models import Affiliation, ConsentRecord, Contact, ContactMerge
from members.privacy.selectors import consent_history
from members.subject_access.registry import ExportContext, Section, register

PLAIN = (str, int, float, bool, datetime.date, datetime.datetime, type(None))
# Never exported: the personal link's secret (it would let the reader answer as the person).
SECRET_FIELDS = {"token"}


def plain(value: Any) -> Any:
    """A JSON-friendly value: dates stay dates (written as ISO), the rest becomes text."""
    if isinstance(value, PLAIN):
        return value
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, models.fields.files.FieldFile):
        return value.name or None
    return str(value)


def values(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    return {name: plain(getattr(obj, name)) for name in fields}


def _email_q(contact: Contact, lookup: str) -> Q:
    """Rows naming the contact's address (an empty address names nobody)."""
    return Q(**{f"{lookup}__iexact": contact.email}) if contact.email else Q(pk__in=[])


def person_q(contact: Contact, field: str) -> Q:
    """Rows whose ``field`` names the contact or a duplicate merged into it (the merged
    duplicate's old rows, in history, are about the same person)."""
    merged = ContactMerge.objects.filter(target=contact).values("source_id_value")
    return Q(**{field: contact.pk}) | Q(**{f"{field}__in": merged})


# --- Directory --------------------------------------------------------------------------------

CONTACT_FIELDS = (
    "id",
    "salutation",
    "given_name",
    "family_name",
    "email",
    "phone",
    "preferred_language",
    "time_zone",
    "notes",
    "mail_opt_out_at",
    "needs_review",
    "erased_at",
    "external_ref",
    "created_at",
    "updated_at",
)


def contact_section(contact: Contact, context: ExportContext) -> list[dict]:
    return [values(contact, CONTACT_FIELDS)]


def affiliations_section(contact: Contact, context: ExportContext) -> list[dict]:
    rows = (
        Affiliation.objects.filter(contact=contact)
        .select_related("organization")
        .order_by("start_date", "id")
    )
    return [
        {
            **values(row, ("id", "organization_id")),
            "organization": row.organization.name,
            **values(row, ("role", "job_title", "start_date", "end_date", "created_at")),
        }
        for row in rows
    ]


def consent_section(contact: Contact, context: ExportContext) -> list[dict]:
    """Every consent statement, newest first; ``current`` marks the one in force per purpose
    (a purpose with no statement follows the default in docs/consent.md)."""
    seen: set[str] = set()
    records = []
    for row in consent_history(contact.pk).order_by("-recorded_at", "-id"):
        records.append(
            {
                **values(row, ("id", "purpose", "given", "recorded_at", "method")),
                "current": row.purpose not in seen,
                "text_version": row.text.version if row.text else None,
                "text": row.text.text_for(row.language or contact.preferred_language)
                if row.text
                else "",
                "recorded_by": row.recorded_by.get_username() if row.recorded_by else None,
                "invitation_id": row.invitation_id,
                "api_client": row.api_client.name if row.api_client else None,
                "note": row.note,
            }
        )
        seen.add(row.purpose)
    return records


def merges_section(contact: Contact, context: ExportContext) -> list[dict]:
    rows = (
        ContactMerge.objects.filter(Q(target=contact) | _email_q(contact, "source_email"))
        .select_related("merged_by")
        .order_by("merged_at", "id")
    )
    return [
        {
            **values(row, ("id", "target_id", "source_id_value", "source_name", "source_email")),
            "moved": plain(row.moved),
            "merged_by": row.merged_by.get_username() if row.merged_by else None,
            "merged_at": row.merged_at,
        }
        for row in rows
    ]


# --- Meetings and events ----------------------------------------------------------------------

INVITATION_FIELDS = (
    "status",
    "mode",
    "dietary",
    "accessibility",
    "other_needs",
    "note",
    "answered_at",
    "answer_count",
    "sent_at",
    "waiting_since",
    "offer_expires_at",
    "checked_in_at",
    "attendance",
    "affiliation_label",
    "invited_via_id",
    "replaced_by_id",
    "created_at",
)


def _gathering_kind(gathering) -> str:
    specific = gathering.specific
    return specific._meta.model_name if specific is not gathering else "gathering"


def invitations_section(contact: Contact, context: ExportContext) -> list[dict]:
    rows = (
        Invitation.objects.filter(contact=contact)
        .select_related("gathering__meeting", "gathering__event", "organization")
        .prefetch_related("plus_ones")
        .order_by("gathering__starts_at", "id")
    )
    return [
        {
            "id": row.pk,
            "gathering_id": row.gathering_id,
            "gathering": row.gathering.title,
            "gathering_kind": _gathering_kind(row.gathering),
            "gathering_starts_at": row.gathering.starts_at,
            "organization": row.organization.name if row.organization else None,
            **values(row, INVITATION_FIELDS),
            "plus_ones": [
                values(guest, ("id", "name", "email", "created_at"))
                for guest in row.plus_ones.all()
            ],
        }
        for row in rows
    ]


def consultations_of(contact: Contact, context: ExportContext) -> QuerySet[Consultation]:
    rows = Consultation.objects.filter(contacts=contact)
    if not context.include_restricted:
        rows = rows.exclude(confidentiality=Consultation.Confidentiality.RESTRICTED)
    return rows


def consultations_section(contact: Contact, context: ExportContext) -> list[dict]:
    rows = (
        consultations_of(contact, context)
        .prefetch_related("organizations")
        .order_by("held_on", "id")
    )
    return [
        {
            **values(row, ("id", "title", "kind", "channel", "held_on", "confidentiality")),
            "organizations": [org.name for org in row.organizations.all()],
            **values(row, ("label", "summary", "outcomes", "created_at")),
        }
        for row in rows
    ]


def followups_of(contact: Contact, context: ExportContext) -> QuerySet[FollowUp]:
    """Assigned to them, agreed in a consultation they took part in, or about their bounced
    address (those name the address in their title)."""
    concerning = Q(owner_contact=contact) | Q(
        consultation__in=consultations_of(contact, context).values("pk")
    )
    if contact.email:
        concerning |= Q(source=FollowUp.Source.BOUNCE, title__icontains=contact.email)
    rows = FollowUp.objects.filter(concerning)
    if not context.include_restricted:
        rows = rows.exclude(consultation__confidentiality=Consultation.Confidentiality.RESTRICTED)
    return rows


def followups_section(contact: Contact, context: ExportContext) -> list[dict]:
    rows = (
        followups_of(contact, context).select_related("organization").order_by("created_at", "id")
    )
    return [
        {
            **values(row, ("id", "title")),
            "assigned_to_them": row.owner_contact_id == contact.pk,
            **values(row, ("status", "source", "due_date", "done_on", "notes")),
            "organization": row.organization.name if row.organization else None,
            **values(row, ("consultation_id", "gathering_id", "created_at")),
        }
        for row in rows
    ]


def successions_section(contact: Contact, context: ExportContext) -> list[dict]:
    rows = (
        FocalPointSuccession.objects.filter(Q(departing=contact) | Q(successor=contact))
        .select_related("organization")
        .order_by("created_at", "id")
    )
    return [
        {
            "id": row.pk,
            "organization": row.organization.name,
            "their_part": "departing" if row.departing_id == contact.pk else "successor",
            **values(row, ("departing_id", "successor_id", "end_date", "notes", "created_at")),
            "moved": plain(row.moved),
        }
        for row in rows
    ]


# --- Mail -------------------------------------------------------------------------------------

MESSAGE_FIELDS = (
    "id",
    "purpose",
    "essential",
    "status",
    "to_email",
    "language",
    "subject",
    "body_text",
    "body_html",
    "created_at",
    "sent_at",
)


def messages_section(contact: Contact, context: ExportContext) -> list[dict]:
    rows = OutgoingMessage.objects.filter(
        Q(contact=contact) | (Q(contact__isnull=True) & _email_q(contact, "to_email"))
    ).order_by("created_at", "id")
    return [
        {
            **values(row, MESSAGE_FIELDS),
            "attachments": [a.get("filename", "") for a in row.attachments or []],
        }
        for row in rows
    ]


def delivery_events_section(contact: Contact, context: ExportContext) -> list[dict]:
    rows = DeliveryEvent.objects.filter(
        Q(message__contact=contact) | _email_q(contact, "recipient")
    ).order_by("occurred_at", "id")
    fields = (
        "id",
        "message_id",
        "event_type",
        "recipient",
        "esp",
        "reject_reason",
        "description",
        "mta_response",
        "occurred_at",
    )
    return [values(row, fields) for row in rows]


def address_holds_section(contact: Contact, context: ExportContext) -> list[dict]:
    rows = AddressHold.objects.filter(Q(contact=contact) | _email_q(contact, "email")).order_by(
        "held_since", "id"
    )
    fields = ("id", "email", "reason", "detail", "bounce_count", "held_since", "released_at")
    return [values(row, fields) for row in rows]


# --- History ----------------------------------------------------------------------------------

HISTORY_TYPES = {"+": "created", "~": "changed", "-": "deleted"}


def _history_sources(contact: Contact, context: ExportContext) -> list[tuple[type, Q]]:
    """Each historical model with the rows of it that are about the contact."""
    return [
        (Contact, person_q(contact, "id")),
        (Affiliation, person_q(contact, "contact_id")),
        (Invitation, person_q(contact, "contact_id")),
        (PlusOne, Q(invitation_id__in=Invitation.objects.filter(contact=contact).values("pk"))),
        (Consultation, Q(id__in=consultations_of(contact, context).values("pk"))),
        (FollowUp, Q(id__in=followups_of(contact, context).values("pk"))),
    ]


def history_fields(historical: type[models.Model]) -> list[models.Field]:
    return [
        field
        for field in historical._meta.concrete_fields
        if not field.name.startswith("history_") and field.attname not in SECRET_FIELDS
    ]


def history_section(contact: Contact, context: ExportContext) -> list[dict]:
    """Every recorded version of the rows above (django-simple-history), oldest first per
    row, with the fields that changed from the version before."""
    records: list[dict] = []
    for model, condition in _history_sources(contact, context):
        historical = model.history.model
        fields = history_fields(historical)
        rows = (
            historical.objects.filter(condition)
            .select_related("history_user", "history_api_client")
            .order_by("id", "history_date", "history_id")
        )
        previous: dict[Any, dict] = {}
        label = f"{model._meta.app_label}.{model._meta.model_name}"
        for row in rows:
            snapshot = {field.attname: plain(getattr(row, field.attname)) for field in fields}
            before = previous.get(row.id)
            changed = (
                [key for key, value in snapshot.items() if before.get(key) != value]
                if before is not None
                else []
            )
            previous[row.id] = snapshot
            records.append(
                {
                    "model": label,
                    "object_id": row.id,
                    "history_id": row.history_id,
                    "history_date": row.history_date,
                    "history_type": HISTORY_TYPES.get(row.history_type, row.history_type),
                    "history_user": row.history_user.get_username() if row.history_user else None,
                    "history_api_client": row.history_api_client.name
                    if row.history_api_client_id
                    else None,
                    "history_invitation_id": row.history_invitation_id,
                    "history_change_reason": row.history_change_reason or "",
                    "changed_fields": changed,
                    "values": snapshot,
                }
            )
    return records


# --- The registry, in the order of the page ---------------------------------------------------

register(
    Section(
        name="contact",
        title=_("Directory data"),
        model=Contact,
        build=contact_section,
        description=_("The contact's entry in the member directory."),
    )
)
register(
    Section(
        name="affiliations",
        title=_("Organisations and roles"),
        model=Affiliation,
        build=affiliations_section,
        labels={"organization_id": _("organisation id")},
    )
)
register(
    Section(
        name="consent",
        title=_("Consent"),
        model=ConsentRecord,
        build=consent_section,
        description=_(
            "What they agreed to or withdrew, when and how, with the wording of the text "
            "version; the newest statement per purpose is the one in force."
        ),
        labels={
            "current": _("in force"),
            "text_version": _("text version"),
            "text": _("text agreed to"),
            "recorded_by": _("recorded by"),
            "invitation_id": _("invitation id"),
            "api_client": _("API client"),
        },
    )
)
register(
    Section(
        name="invitations",
        title=_("Invitations, answers and attendance"),
        model=Invitation,
        build=invitations_section,
        description=_("Meetings and events they were invited to, their answers and check-in."),
        labels={
            "gathering_id": _("meeting or event id"),
            "gathering": _("meeting or event"),
            "gathering_kind": _("kind"),
            "gathering_starts_at": _("starts"),
            "organization": _("representing"),
            "plus_ones": _("plus-ones"),
        },
        nested={"plus_ones": PlusOne},
    )
)
register(
    Section(
        name="consultations",
        title=_("Consultations they took part in"),
        model=Consultation,
        build=consultations_section,
    )
)
register(
    Section(
        name="follow_ups",
        title=_("Follow-ups concerning them"),
        model=FollowUp,
        build=followups_section,
        description=_(
            "Assigned to them, agreed in a consultation they took part in, or about their "
            "e-mail address."
        ),
        labels={
            "assigned_to_them": _("assigned to them"),
            "consultation_id": _("consultation id"),
            "gathering_id": _("meeting id"),
        },
    )
)
register(
    Section(
        name="messages",
        title=_("E-mail sent to them"),
        model=OutgoingMessage,
        build=messages_section,
    )
)
register(
    Section(
        name="delivery_events",
        title=_("Delivery reports"),
        model=DeliveryEvent,
        build=delivery_events_section,
        description=_("What mail providers reported about mail to them (bounces, complaints)."),
        labels={"message_id": _("outgoing message id")},
    )
)
register(
    Section(
        name="address_holds",
        title=_("Addresses on hold"),
        model=AddressHold,
        build=address_holds_section,
    )
)
register(
    Section(
        name="merges",
        title=_("Merged duplicates"),
        model=ContactMerge,
        build=merges_section,
        description=_("Duplicate entries of this person merged into this one."),
    )
)
register(
    Section(
        name="focal_point_successions",
        title=_("Focal-point hand-overs"),
        model=FocalPointSuccession,
        build=successions_section,
        labels={"their_part": _("their part")},
    )
)
register(
    Section(
        name="history",
        title=_("History of changes"),
        model=None,
        build=history_section,
        description=_("Every recorded version of the records above: who changed what, when."),
        labels={
            "model": _("record"),
            "object_id": _("record id"),
            "history_id": _("version"),
            "history_date": _("when"),
            "history_type": _("change"),
            "history_user": _("by"),
            "history_api_client": _("through the API client"),
            "history_invitation_id": _("through the invitation (RSVP page)"),
            "history_change_reason": _("reason"),
            "changed_fields": _("fields changed"),
            "values": _("values"),
        },
    )
)
