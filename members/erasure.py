"""Erasure of a contact's personal data on request (issue 8 §3), in place and everywhere.

The contact row stays, as a placeholder ("Erased contact #123"), so that everything that
counts people — attendees per organisation, invitations, consultations' participants — keeps
its numbers. What goes is what identifies the person:

1. **Known fields** are cleared or replaced: the contact row and every history row of it (and
   of duplicates merged into it), affiliations' job titles, invitations' needs and notes,
   plus-ones of their invitations, mail to them (address, bodies, attachments), delivery
   events and address holds for their addresses, merge records naming them.
2. **Rows about them** (linked by a key: their invitations, the follow-ups they own, the
   consultations they took part in and those consultations' follow-ups and attachments, the
   gatherings they were invited to with their agenda, sessions and documents, mail to them,
   webhook deliveries about them, admin log entries of them, history rows of all of these)
   have every text column searched for their given name and family name as whole words, and
   for the strings below.
3. **Every text column of every table** (history tables included) is searched for their
   e-mail addresses, full names and phone numbers, and each occurrence is replaced.

Not touched: the contents of uploaded files (only their names and titles), backups, and
copies outside the database (see docs/privacy.md). An erasure cannot be undone.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.db import models, transaction
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.exceptions import ApplicationError
from members.models import Affiliation, Contact, ContactMerge

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

logger = logging.getLogger(__name__)

ERASED_GIVEN_NAME = "Erased"
NAME_PLACEHOLDER = "[erased]"
EMAIL_PLACEHOLDER = "[erased e-mail]"
PHONE_PLACEHOLDER = "[erased phone]"
HISTORY_REASON = "Personal data erased on request"
# Apps whose tables are not scanned: Django's own bookkeeping and the staff accounts (a staff
# member is not erased as a contact).
SKIPPED_APPS = frozenset({"contenttypes", "sessions", "auth"})
# A name shorter than this is not searched for on its own (it would match inside ordinary text).
MIN_TOKEN = 2
MIN_FULL_NAME = 5
# Not a letter or digit: "Quixwell" is found in "notes_Quixwell.pdf" but not in "Quixwells".
_BEFORE = r"(?<![^\W_])"
_AFTER = r"(?![^\W_])"
# An address is not part of a longer one: "anna@x.org" is not found in "joanna@x.org.uk".
_EMAIL_BEFORE = r"(?<![\w.+-])"
_EMAIL_AFTER = r"(?![\w-]|\.[^\W_])"
_PHONE_BEFORE = r"(?<![\d+])"
_PHONE_AFTER = r"(?!\d)"


def placeholder_family_name(pk: int) -> str:
    return f"contact #{pk}"


@dataclass
class Needles:
    """What identifies the person, gathered from the contact, its history and its merges."""

    ids: set[int] = field(default_factory=set)
    emails: set[str] = field(default_factory=set)
    full_names: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)
    tokens: set[str] = field(default_factory=set)  # given and family names on their own

    def everywhere(self) -> list[tuple[str, str]]:
        """(needle, replacement), longest first so that a full name goes before its parts."""
        pairs = [(e, EMAIL_PLACEHOLDER) for e in self.emails]
        pairs += [(n, NAME_PLACEHOLDER) for n in self.full_names]
        pairs += [(p, PHONE_PLACEHOLDER) for p in self.phones]
        return sorted(pairs, key=lambda pair: -len(pair[0]))

    def patterns(self, *, linked: bool) -> list[tuple[re.Pattern, str]]:
        """Regular expressions for the needles, each bounded so that it does not match
        inside a longer name, address or number of somebody else."""
        bounds = {
            EMAIL_PLACEHOLDER: (_EMAIL_BEFORE, _EMAIL_AFTER),
            NAME_PLACEHOLDER: (_BEFORE, _AFTER),
            PHONE_PLACEHOLDER: (_PHONE_BEFORE, _PHONE_AFTER),
        }
        compiled = []
        for needle, replacement in self.everywhere():
            before, after = bounds[replacement]
            regex = re.compile(before + re.escape(needle) + after, re.IGNORECASE)
            compiled.append((regex, replacement))
        if linked:
            for token in sorted(self.tokens, key=len, reverse=True):
                regex = re.compile(_BEFORE + re.escape(token) + _AFTER, re.IGNORECASE)
                compiled.append((regex, NAME_PLACEHOLDER))
        return compiled


def _collect(contact: Contact) -> Needles:
    needles = Needles(ids={contact.pk})
    merges = ContactMerge.objects.filter(target=contact)
    needles.ids.update(merges.values_list("source_id_value", flat=True))
    people = [contact, *Contact.history.filter(id__in=needles.ids)]
    for person in people:
        given, family = person.given_name.strip(), person.family_name.strip()
        needles.full_names.update(
            n for n in (f"{given} {family}", f"{family} {given}", f"{family}, {given}") if n
        )
        if person.salutation and family:
            needles.full_names.add(f"{person.salutation.strip()} {family}")
        needles.tokens.update(t for t in (given, family) if t)
        if person.email:
            needles.emails.add(person.email.strip().lower())
        if person.phone:
            needles.phones.add(str(person.phone))
    for merge in merges:
        needles.full_names.add(merge.source_name.strip())
        if merge.source_email:
            needles.emails.add(merge.source_email.strip().lower())
    # The guests they brought are named in their answers: erased with them.
    plus_one_model = apps.get_model("meetings", "PlusOne")
    invitation_ids = _invitation_ids(needles)
    guests = [
        *plus_one_model.objects.filter(invitation_id__in=invitation_ids),
        *plus_one_model.history.filter(invitation_id__in=invitation_ids),
    ]
    for guest in guests:
        needles.full_names.add(guest.name.strip())
        needles.tokens.update(guest.name.split())
        if guest.email:
            needles.emails.add(guest.email.strip().lower())
    needles.full_names = {n for n in needles.full_names if len(n) >= MIN_FULL_NAME}
    needles.tokens = {t for t in needles.tokens if len(t) >= MIN_TOKEN}
    needles.emails.discard("")
    return needles


def _invitation_ids(needles: Needles) -> list[int]:
    invitation = apps.get_model("meetings", "Invitation")
    return list(invitation.objects.filter(contact_id__in=needles.ids).values_list("pk", flat=True))


# --- Scrubbing values ---------------------------------------------------------------------


def _scrub(value: Any, patterns: list[tuple[re.Pattern, str]], needles: Needles) -> Any:
    if isinstance(value, str):
        for regex, replacement in patterns:
            value = regex.sub(replacement, value)
        return value
    if isinstance(value, list):
        return [_scrub(item, patterns, needles) for item in value]
    if isinstance(value, dict):
        about_them = value.get("id") in needles.ids or (
            isinstance(value.get("email"), str) and value["email"].lower() in needles.emails
        )
        # A serialised contact ({"id": 12, "given_name": …}): its name fields go whole.
        inner = patterns if not about_them else needles.patterns(linked=True)
        return {
            _scrub(key, patterns, needles): _scrub(item, inner, needles)
            for key, item in value.items()
        }
    return value


def _text_fields(model: type[models.Model]) -> list[models.Field]:
    return [
        f
        for f in model._meta.local_concrete_fields
        if isinstance(f, models.CharField | models.TextField | models.JSONField | models.FileField)
        and not f.primary_key
    ]


def _fit(field: models.Field, value: Any) -> Any:
    if isinstance(value, str) and getattr(field, "max_length", None):
        return value[: field.max_length]
    return value


def _move_file(field: models.FileField, old: str, new: str) -> str:
    """Copy the stored file to its new name (the database then points to the copy); the old
    file is deleted once the erasure commits. The contents are not read for names."""
    storage = field.storage
    if not old or not storage.exists(old):
        return new
    with storage.open(old, "rb") as handle:
        saved = storage.save(new, ContentFile(handle.read()))
    transaction.on_commit(lambda: storage.delete(old))
    return saved


def _apply(
    model: type[models.Model],
    rows: Iterable[tuple[Any, dict[str, Any]]],
    patterns: list[tuple[re.Pattern, str]],
    needles: Needles,
) -> int:
    """Scrub the given (pk, {field: value}) rows; returns how many rows changed."""
    fields = {f.attname: f for f in _text_fields(model)}
    changed_rows = 0
    for pk, values in rows:
        changes = {}
        for name, value in values.items():
            if value is None:
                continue
            new = _scrub(value, patterns, needles)
            if new == value:
                continue
            model_field = fields[name]
            if isinstance(model_field, models.FileField):
                new = new.replace(EMAIL_PLACEHOLDER, "erased").replace(NAME_PLACEHOLDER, "erased")
                new = _move_file(model_field, value, new)
            changes[name] = _fit(model_field, new)
        if changes:
            model._base_manager.filter(pk=pk).update(**changes)
            changed_rows += 1
    return changed_rows


def _scrub_linked(model: type[models.Model], pks: Iterable[Any], needles: Needles) -> int:
    """Rows known to be about the person, and the history rows of those objects."""
    pks = list(pks)
    if not pks:
        return 0
    patterns = needles.patterns(linked=True)
    total = 0
    targets = [(model, model._meta.pk.attname)]
    history = getattr(model, "history", None)
    if history is not None and hasattr(history, "model"):
        targets.append((history.model, model._meta.pk.attname))
    for target, key in targets:
        names = [f.attname for f in _text_fields(target)]
        if not names:
            continue
        queryset = target._base_manager.filter(**{f"{key}__in": pks})
        rows = (
            (row[0], dict(zip(names, row[1:], strict=True)))
            for row in queryset.values_list("pk", *names)
        )
        total += _apply(target, list(rows), patterns, needles)
    return total


def _json_forms(needle: str) -> set[str]:
    """How a string appears inside stored JSON (escaped non-ASCII on SQLite)."""
    return {needle, json.dumps(needle)[1:-1]}


def _scrub_everywhere(needles: Needles) -> dict[str, int]:
    """Every text column of every table for the full names, e-mail addresses and phones."""
    pairs = needles.everywhere()
    if not pairs:
        return {}
    patterns = needles.patterns(linked=False)
    hits: dict[str, int] = {}
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.proxy or not meta.managed or meta.app_label in SKIPPED_APPS:
            continue
        for model_field in _text_fields(model):
            name = model_field.attname
            # Compared as text: the fields' own lookups would parse the needle (phone
            # numbers, countries, JSON).
            queryset = model._base_manager.annotate(_erasure_text=Cast(name, TextField()))
            condition = Q()
            for needle, _replacement in pairs:
                for form in _json_forms(needle):
                    condition |= Q(_erasure_text__icontains=form)
            rows = [
                (pk, {name: value})
                for pk, value in queryset.filter(condition).values_list("pk", name)
            ]
            if rows and _apply(model, rows, patterns, needles):
                hits[f"{meta.db_table}.{model_field.column}"] = len(rows)
    return hits


# --- The service --------------------------------------------------------------------------


def _clear_known_fields(contact: Contact, needles: Needles) -> list[int]:
    """Clear the fields that hold personal data by definition. Returns the message ids."""
    from crm.mail.models import AddressHold, DeliveryEvent, OutgoingMessage
    from meetings.models import Invitation, PlusOne
    from meetings.models.invitations import new_token

    ids = needles.ids
    placeholder = {
        "salutation": "",
        "given_name": ERASED_GIVEN_NAME,
        "family_name": placeholder_family_name(contact.pk),
        "email": "",
        "phone": "",
        "notes": "",
    }
    Contact.history.filter(id__in=ids).update(**placeholder, history_change_reason=None)
    Affiliation.objects.filter(contact=contact).update(job_title="")
    Affiliation.history.filter(contact_id__in=ids).update(job_title="")
    free_text = {"dietary": "", "accessibility": "", "other_needs": "", "note": ""}
    Invitation.objects.filter(contact=contact).update(**free_text)
    # The personal links in old mail stop working: nobody answers for an erased person.
    for pk in Invitation.objects.filter(contact=contact).values_list("pk", flat=True):
        Invitation.objects.filter(pk=pk).update(token=new_token(), token_issued_at=timezone.now())
    Invitation.history.filter(contact_id__in=ids).update(**free_text)
    invitation_ids = _invitation_ids(needles)
    guest = {"name": _("Guest"), "email": ""}
    PlusOne.objects.filter(invitation_id__in=invitation_ids).update(**guest)
    PlusOne.history.filter(invitation_id__in=invitation_ids).update(**guest)
    ContactMerge.objects.filter(target=contact).update(
        source_name=NAME_PLACEHOLDER, source_email=""
    )

    messages = OutgoingMessage.objects.filter(Q(contact=contact) | Q(to_email__in=needles.emails))
    message_ids = list(messages.values_list("pk", flat=True))
    pending = [OutgoingMessage.Status.QUEUED, OutgoingMessage.Status.RETRY]
    OutgoingMessage.objects.filter(pk__in=message_ids, status__in=pending).update(
        status=OutgoingMessage.Status.SUPPRESSED, next_attempt_at=None
    )
    OutgoingMessage.objects.filter(pk__in=message_ids).update(
        to_email="", body_text="", body_html="", attachments=[], last_error=""
    )
    DeliveryEvent.objects.filter(
        Q(message_id__in=message_ids) | Q(recipient__in=needles.emails)
    ).update(recipient="", description="", mta_response="", raw={})
    # A released hold with no address: nothing left to match, and no active-hold clash.
    now = timezone.now()
    holds = AddressHold.objects.filter(Q(contact=contact) | Q(email__in=needles.emails))
    holds.filter(released_at__isnull=True).update(released_at=now)
    holds.update(email="", detail="")
    return message_ids


def _linked_rows(contact: Contact, needles: Needles, message_ids: list[int]):
    """(model, pks) of rows about the person, whose text is searched for their names."""
    from api.models_webhooks import WebhookAttempt, WebhookDelivery
    from crm.mail.models import OutgoingMessage
    from crm.models import AccessLogEntry
    from meetings.models import (
        AgendaItem,
        Consultation,
        ConsultationAttachment,
        FollowUp,
        Gathering,
        GatheringDocument,
        Invitation,
    )

    ids = needles.ids
    contact_type = ContentType.objects.get_for_model(Contact)
    invitations = Invitation.objects.filter(contact_id__in=ids)
    consultations = list(
        Consultation.objects.filter(contacts__id__in=ids).values_list("pk", flat=True).distinct()
    )
    gatherings = list(invitations.values_list("gathering_id", flat=True).distinct())
    followups = FollowUp.objects.filter(
        Q(owner_contact_id__in=ids) | Q(consultation_id__in=consultations)
    )
    deliveries = WebhookDelivery.objects.filter(object_type="contact", object_id__in=ids)
    yield Contact, [contact.pk]
    yield Invitation, invitations.values_list("pk", flat=True)
    yield Consultation, consultations
    yield (
        ConsultationAttachment,
        ConsultationAttachment.objects.filter(consultation_id__in=consultations).values_list(
            "pk", flat=True
        ),
    )
    yield FollowUp, followups.values_list("pk", flat=True)
    yield Gathering, gatherings
    yield (
        AgendaItem,
        AgendaItem.objects.filter(gathering_id__in=gatherings).values_list("pk", flat=True),
    )
    yield (
        GatheringDocument,
        GatheringDocument.objects.filter(gathering_id__in=gatherings).values_list("pk", flat=True),
    )
    if apps.is_installed("events"):
        from events.models import Event, EventSession

        yield Event, Event.objects.filter(pk__in=gatherings).values_list("pk", flat=True)
        yield (
            EventSession,
            EventSession.objects.filter(event_id__in=gatherings).values_list("pk", flat=True),
        )
    meeting = apps.get_model("meetings", "Meeting")
    yield meeting, meeting.objects.filter(pk__in=gatherings).values_list("pk", flat=True)
    yield OutgoingMessage, message_ids
    yield WebhookDelivery, deliveries.values_list("pk", flat=True)
    yield (
        WebhookAttempt,
        WebhookAttempt.objects.filter(delivery__in=deliveries).values_list("pk", flat=True),
    )
    yield ContactMerge, ContactMerge.objects.filter(target=contact).values_list("pk", flat=True)
    yield (
        LogEntry,
        LogEntry.objects.filter(
            content_type=contact_type, object_id__in=[str(i) for i in ids]
        ).values_list("pk", flat=True),
    )
    yield (
        AccessLogEntry,
        AccessLogEntry.objects.filter(
            content_type=contact_type, object_id__in=[str(i) for i in ids]
        ).values_list("pk", flat=True),
    )


@transaction.atomic
def contact_erase(
    *, contact: Contact, acting_user: AbstractBaseUser | None, reason: str
) -> Contact:
    """Erase the person's personal data everywhere, keeping the contact as a placeholder.

    One transaction: either everything is erased or nothing is. Cannot be undone. Records an
    access-log entry and a ``contact.erased`` webhook; ``reason`` (why, e.g. "request by
    e-mail of 3 December") goes to the access log with any of the person's names removed."""
    from api.webhooks.services import webhook_emit
    from crm.audit import access_log_record
    from crm.models import AccessLogEntry

    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    if contact.is_erased:
        raise ApplicationError(_("This contact's personal data has already been erased."))
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(_("Say why the personal data is erased."), field="reason")
    needles = _collect(contact)
    reason = _scrub(reason, needles.patterns(linked=True), needles)

    message_ids = _clear_known_fields(contact, needles)
    contact.salutation = ""
    contact.given_name = ERASED_GIVEN_NAME
    contact.family_name = placeholder_family_name(contact.pk)
    contact.email = ""
    contact.phone = ""
    contact.notes = ""
    contact.needs_review = False
    contact.erased_at = timezone.now()
    contact.full_clean()
    contact._history_user = acting_user
    contact._change_reason = HISTORY_REASON
    contact.save()

    for model, pks in _linked_rows(contact, needles, message_ids):
        _scrub_linked(model, pks, needles)
    hits = _scrub_everywhere(needles)
    if hits:
        # Column names only: which tables held free text naming the person.
        logger.info("Erasure of contact %s replaced text in %s", contact.pk, sorted(hits))

    access_log_record(
        action=AccessLogEntry.Action.ERASURE,
        description=_("Erasure of contact #%(id)s: %(reason)s")
        % {"id": contact.pk, "reason": reason},
        acting_user=acting_user,
        obj=contact,
    )
    webhook_emit("contact.erased", contact)
    return contact


def contact_erasure_preview(contact: Contact) -> list[tuple[str, int]]:
    """What an erasure of ``contact`` will touch, as (what, how many) for the confirmation
    page. Counts only, no content."""
    from api.models_webhooks import WebhookDelivery
    from crm.mail.models import AddressHold, DeliveryEvent, OutgoingMessage
    from meetings.models import Consultation, FollowUp, Invitation, PlusOne

    needles = _collect(contact)
    messages = OutgoingMessage.objects.filter(Q(contact=contact) | Q(to_email__in=needles.emails))
    rows = [
        (_("history entries of the contact"), Contact.history.filter(id__in=needles.ids).count()),
        (_("roles (kept, job titles cleared)"), contact.affiliations.count()),
        (
            _("invitations (kept, needs and notes cleared)"),
            Invitation.objects.filter(contact=contact).count(),
        ),
        (
            _("guests they registered (names and addresses cleared)"),
            PlusOne.objects.filter(invitation__contact=contact).count(),
        ),
        (
            _("consultations they took part in (kept, their names removed from the text)"),
            Consultation.objects.filter(contacts=contact).count(),
        ),
        (
            _("follow-ups they own (kept, their names removed)"),
            FollowUp.objects.filter(owner_contact=contact).count(),
        ),
        (_("e-mails to them (address, text and attachments cleared)"), messages.count()),
        (
            _("delivery reports for their address"),
            DeliveryEvent.objects.filter(
                Q(message__in=messages) | Q(recipient__in=needles.emails)
            ).count(),
        ),
        (
            _("address holds (released, address cleared)"),
            AddressHold.objects.filter(Q(contact=contact) | Q(email__in=needles.emails)).count(),
        ),
        (
            _("webhook deliveries about them (responses cleaned)"),
            WebhookDelivery.objects.filter(
                object_type="contact", object_id__in=needles.ids
            ).count(),
        ),
        (_("merged duplicates"), len(needles.ids) - 1),
    ]
    return [(label, count) for label, count in rows if count]
