"""Writes to the member directory. Every function records who acted (django-simple-history)."""

import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from api.webhooks.services import webhook_emit, webhook_emit_many
from crm.exceptions import ApplicationError
from crm.history import history_bulk_create
from members.models import (
    Affiliation,
    Contact,
    ContactMerge,
    FocusArea,
    MembershipChange,
    Organization,
)
from members.privacy.models import ConsentPurpose, ConsentRecord
from members.privacy.selectors import consent_current
from members.privacy.services import consent_record
from members.selectors import contact_with_email, current_focal_point

Status = Organization.Status

# Allowed membership transitions: prospective → invited → active → suspended / withdrawn.
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    Status.PROSPECTIVE: frozenset({Status.INVITED, Status.ACTIVE, Status.WITHDRAWN}),
    Status.INVITED: frozenset({Status.ACTIVE, Status.PROSPECTIVE, Status.WITHDRAWN}),
    Status.ACTIVE: frozenset({Status.SUSPENDED, Status.WITHDRAWN}),
    Status.SUSPENDED: frozenset({Status.ACTIVE, Status.WITHDRAWN}),
    Status.WITHDRAWN: frozenset({Status.PROSPECTIVE, Status.INVITED}),
}
# Leaving or being suspended is never recorded without saying why.
REASON_REQUIRED = frozenset({Status.SUSPENDED, Status.WITHDRAWN})

ORGANIZATION_FIELDS = (
    "name",
    "acronym",
    "kind",
    "country",
    "website",
    "description",
    "takes_part_in_aect",
)
CONTACT_FIELDS = (
    "salutation",
    "given_name",
    "family_name",
    "email",
    "phone",
    "preferred_language",
    "time_zone",
    "notes",
)


def normalize_email(email: str | None) -> str:
    return (email or "").strip().lower()


def _save(instance: models.Model, acting_user: AbstractBaseUser | None) -> None:
    """Validate, then save with the acting user attached to the history entry."""
    try:
        instance.full_clean()
    except ValidationError as exc:
        raise _as_application_error(exc) from exc
    instance._history_user = acting_user
    instance.save()


def _as_application_error(exc: ValidationError) -> ApplicationError:
    if hasattr(exc, "error_dict"):
        field, errors = next(iter(exc.error_dict.items()))
        message = " ".join(str(m) for e in errors for m in e.messages)
        return ApplicationError(
            message,
            field=None if field == "__all__" else field,
            extra={"errors": exc.message_dict},
        )
    return ApplicationError(" ".join(exc.messages))


# --- Organisations ------------------------------------------------------------------------


@transaction.atomic
def organization_create(
    *,
    name: str,
    kind: str,
    acting_user: AbstractBaseUser | None,
    status: str = Status.PROSPECTIVE,
    status_date: datetime.date | None = None,
    focus_areas: list[str] | None = None,
    **fields: Any,
) -> Organization:
    """Create an organisation; its first status is recorded as the start of its history."""
    organization = Organization(name=name.strip(), kind=kind, **fields)
    _check_organization_name(organization)
    _save(organization, acting_user)
    if focus_areas is not None:
        _set_focus_areas(organization, focus_areas)
    if status not in Status.values:
        raise ApplicationError(_("Unknown membership status “%s”.") % status, field="status")
    _record_status(
        organization=organization,
        from_status="",
        to_status=status,
        effective_date=status_date or timezone.localdate(),
        reason=_("Added to the directory"),
        acting_user=acting_user,
    )
    webhook_emit("organization.created", organization)
    return organization


@transaction.atomic
def organization_update(
    *,
    organization: Organization,
    acting_user: AbstractBaseUser | None,
    focus_areas: list[str] | None = None,
    **fields: Any,
) -> Organization:
    """Update the descriptive fields; the membership status changes only through its service."""
    unknown = set(fields) - set(ORGANIZATION_FIELDS)
    if unknown:
        raise ApplicationError(_("These fields cannot be changed here: %s") % ", ".join(unknown))
    for field, value in fields.items():
        setattr(organization, field, value)
    organization.name = organization.name.strip()
    _check_organization_name(organization)
    _save(organization, acting_user)
    if focus_areas is not None:
        _set_focus_areas(organization, focus_areas)
    webhook_emit("organization.updated", organization)
    return organization


@transaction.atomic
def organization_set_focus_areas(*, organization: Organization, codes: list[str]) -> None:
    _set_focus_areas(organization, codes)
    webhook_emit("organization.updated", organization)


def _set_focus_areas(organization: Organization, codes: list[str]) -> None:
    areas = list(FocusArea.objects.filter(code__in=codes))
    unknown = set(codes) - {a.code for a in areas}
    if unknown:
        raise ApplicationError(
            _("Unknown focus areas: %s") % ", ".join(sorted(unknown)), field="focus_areas"
        )
    organization.focus_areas.set(areas)


def _check_organization_name(organization: Organization) -> None:
    clash = (
        Organization.objects.filter(name__iexact=organization.name)
        .exclude(pk=organization.pk)
        .first()
    )
    if clash:
        raise ApplicationError(
            _("An organisation named “%(name)s” already exists.") % {"name": clash.name},
            field="name",
        )


@transaction.atomic
def organization_change_status(
    *,
    organization: Organization,
    to_status: str,
    acting_user: AbstractBaseUser | None,
    reason: str = "",
    effective_date: datetime.date | None = None,
) -> Organization:
    """Move an organisation along its membership lifecycle and record the step."""
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    current = organization.status
    if to_status not in Status.values:
        raise ApplicationError(_("Unknown membership status “%s”.") % to_status, field="to_status")
    if to_status == current:
        raise ApplicationError(
            _("%(org)s is already %(status)s.")
            % {"org": organization, "status": Status(current).label.lower()},
            field="to_status",
        )
    if to_status not in ALLOWED_TRANSITIONS[current]:
        allowed = ", ".join(
            str(Status(s).label).lower() for s in Status.values if s in ALLOWED_TRANSITIONS[current]
        )
        raise ApplicationError(
            _(
                "%(org)s cannot go from %(from)s to %(to)s; "
                "from %(from)s it can become: %(allowed)s."
            )
            % {
                "org": organization,
                "from": Status(current).label.lower(),
                "to": Status(to_status).label.lower(),
                "allowed": allowed,
            },
            field="to_status",
        )
    if to_status in REASON_REQUIRED and not reason.strip():
        raise ApplicationError(
            _("Please give a reason for this change."),
            field="reason",
        )
    effective_date = effective_date or timezone.localdate()
    last = organization.membership_changes.order_by("-effective_date", "-id").first()
    if last and effective_date < last.effective_date:
        raise ApplicationError(
            _("The date cannot be before the last recorded change (%s).")
            % last.effective_date.isoformat(),
            field="effective_date",
        )
    _record_status(
        organization=organization,
        from_status=current,
        to_status=to_status,
        effective_date=effective_date,
        reason=reason.strip(),
        acting_user=acting_user,
    )
    webhook_emit("organization.status_changed", organization)
    return organization


def _record_status(
    *,
    organization: Organization,
    from_status: str,
    to_status: str,
    effective_date: datetime.date,
    reason: str,
    acting_user: AbstractBaseUser | None,
) -> None:
    MembershipChange.objects.create(
        organization=organization,
        from_status=from_status,
        to_status=to_status,
        effective_date=effective_date,
        reason=reason,
        changed_by=acting_user if getattr(acting_user, "pk", None) else None,
    )
    organization.status = to_status
    # "Member since" is the start of the current active period; "left on" the withdrawal.
    if to_status == Status.ACTIVE and from_status != Status.SUSPENDED:
        organization.member_since = effective_date
        organization.left_on = None
    elif to_status == Status.WITHDRAWN:
        organization.left_on = effective_date
    elif to_status in (Status.PROSPECTIVE, Status.INVITED):
        organization.member_since = None
        organization.left_on = None
    _save(organization, acting_user)


# --- Contacts -----------------------------------------------------------------------------


def _check_email_free(email: str, exclude_pk: int | None = None) -> None:
    if not email:
        return
    existing = contact_with_email(email)
    if existing and existing.pk != exclude_pk:
        raise ApplicationError(
            _("%(email)s already belongs to %(name)s (contact #%(id)s).")
            % {"email": email, "name": existing.full_name, "id": existing.pk},
            field="email",
            extra={"existing_contact_id": existing.pk},
        )


@transaction.atomic
def contact_create(
    *,
    given_name: str,
    family_name: str,
    acting_user: AbstractBaseUser | None,
    email: str = "",
    **fields: Any,
) -> Contact:
    """Create a contact; an e-mail address that is already known is refused, naming its owner."""
    email = normalize_email(email)
    _check_email_free(email)
    contact = Contact(
        given_name=given_name.strip(), family_name=family_name.strip(), email=email, **fields
    )
    _save(contact, acting_user)
    webhook_emit("contact.created", contact)
    return contact


@transaction.atomic
def contact_update(
    *, contact: Contact, acting_user: AbstractBaseUser | None, **fields: Any
) -> Contact:
    unknown = set(fields) - set(CONTACT_FIELDS)
    if unknown:
        raise ApplicationError(_("These fields cannot be changed here: %s") % ", ".join(unknown))
    if contact.is_erased:
        raise ApplicationError(_("An erased contact cannot be changed."))
    if "email" in fields:
        fields["email"] = normalize_email(fields["email"])
        _check_email_free(fields["email"], exclude_pk=contact.pk)
    for field, value in fields.items():
        setattr(contact, field, value)
    _save(contact, acting_user)
    webhook_emit("contact.updated", contact)
    return contact


def contact_set_mail_opt_out(
    *,
    contact: Contact,
    opted_out: bool,
    acting_user: AbstractBaseUser | None,
    method: str = ConsentRecord.Method.BACK_OFFICE,
    **record: Any,
) -> Contact:
    """Opt out of (or back into) non-essential mail: a consent record for the mail purpose
    (see :func:`members.privacy.services.consent_record`, which keeps ``mail_opt_out_at``)."""
    consent_record(
        contact=contact,
        purpose=ConsentPurpose.MAIL,
        given=not opted_out,
        method=method,
        acting_user=acting_user,
        **record,
    )
    return contact


# --- Affiliations -------------------------------------------------------------------------


def _check_focal_point(affiliation: Affiliation) -> None:
    if affiliation.role != Affiliation.Role.FOCAL_POINT or not affiliation.is_current():
        return
    existing = current_focal_point(affiliation.organization, exclude_pk=affiliation.pk)
    if existing:
        raise ApplicationError(
            _(
                "%(org)s already has a current focal point: %(name)s. "
                "End that role first (set its end date), then name the new focal point."
            )
            % {"org": affiliation.organization, "name": existing.contact.full_name},
            field="role",
            extra={"existing_affiliation_id": existing.pk},
        )


@transaction.atomic
def affiliation_create(
    *,
    contact: Contact,
    organization: Organization,
    role: str,
    acting_user: AbstractBaseUser | None,
    job_title: str = "",
    start_date: datetime.date | None = None,
    end_date: datetime.date | None = None,
) -> Affiliation:
    # Lock the organisation so two coordinators cannot name two focal points at once.
    Organization.objects.select_for_update().filter(pk=organization.pk).first()
    affiliation = Affiliation(
        contact=contact,
        organization=organization,
        role=role,
        job_title=job_title,
        start_date=start_date,
        end_date=end_date,
    )
    _check_focal_point(affiliation)
    _save(affiliation, acting_user)
    webhook_emit("contact.updated", affiliation.contact)
    return affiliation


@transaction.atomic
def affiliation_update(
    *, affiliation: Affiliation, acting_user: AbstractBaseUser | None, **fields: Any
) -> Affiliation:
    Organization.objects.select_for_update().filter(pk=affiliation.organization_id).first()
    for field, value in fields.items():
        setattr(affiliation, field, value)
    _check_focal_point(affiliation)
    _save(affiliation, acting_user)
    webhook_emit("contact.updated", affiliation.contact)
    return affiliation


@transaction.atomic
def affiliation_end(
    *,
    affiliation: Affiliation,
    acting_user: AbstractBaseUser | None,
    end_date: datetime.date | None = None,
) -> Affiliation:
    end_date = end_date or timezone.localdate()
    if affiliation.end_date is not None and affiliation.end_date <= end_date:
        raise ApplicationError(_("This role has already ended."), field="end_date")
    affiliation.end_date = end_date
    _save(affiliation, acting_user)
    webhook_emit("contact.updated", affiliation.contact)
    return affiliation


@transaction.atomic
def contact_import_save(
    *,
    created: list[Contact],
    updated: list[Contact],
    affiliations: list[Affiliation],
    acting_user: AbstractBaseUser | None,
    batch_size: int | None = None,
) -> None:
    """Save a file's worth of contacts and new roles in bulk, with what the one-by-one
    services record: a history row for each contact and role attributed to ``acting_user``,
    and ``contact.updated`` for each contact given a role (as :func:`affiliation_create`).

    The rows were validated by the caller (:class:`members.resources.ContactResource`), field
    by field and against the directory it read beforehand; ``affiliations`` may point at
    contacts of ``created``. The focal-point rule is checked again here with the
    organisations locked, as :func:`affiliation_create` does, since another coordinator may
    have named one since the file was read."""
    now = timezone.now()
    for contact in (*created, *updated):
        contact._history_user = acting_user
    Contact.objects.bulk_create(created, batch_size=batch_size)
    history_bulk_create(created)
    for contact in updated:
        contact.updated_at = now  # bulk_update does not apply auto_now
    Contact.objects.bulk_update(updated, [*CONTACT_FIELDS, "updated_at"], batch_size=batch_size)
    history_bulk_create(updated, update=True)
    if not affiliations:
        return
    for affiliation in affiliations:
        # Assigned again now that a new contact has its id: sets contact_id, keeps the object.
        affiliation.contact = affiliation.contact
        affiliation._history_user = acting_user
    organization_ids = sorted({a.organization_id for a in affiliations})
    # Locked in one order, so that two imports cannot deadlock each other.
    list(
        Organization.objects.select_for_update()
        .filter(pk__in=organization_ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    _check_focal_points(affiliations)
    Affiliation.objects.bulk_create(affiliations, batch_size=batch_size)
    history_bulk_create(affiliations)
    given_a_role = list({a.contact_id: a.contact for a in affiliations}.values())
    webhook_emit_many("contact.updated", given_a_role, batch_size=batch_size)


def _check_focal_points(affiliations: list[Affiliation]) -> None:
    """:func:`_check_focal_point` for many new roles at once, also against each other."""
    new = [a for a in affiliations if a.role == Affiliation.Role.FOCAL_POINT and a.is_current()]
    if not new:
        return
    holders = {
        a.organization_id: a
        for a in Affiliation.objects.current()
        .filter(
            role=Affiliation.Role.FOCAL_POINT,
            organization_id__in={a.organization_id for a in new},
        )
        .select_related("contact")
    }
    for affiliation in new:
        existing = holders.setdefault(affiliation.organization_id, affiliation)
        if existing is not affiliation and existing.contact_id != affiliation.contact_id:
            raise ApplicationError(
                _("%(org)s already has a current focal point: %(name)s.")
                % {"org": affiliation.organization, "name": existing.contact.full_name},
                field="role",
            )


# --- Merge --------------------------------------------------------------------------------


@transaction.atomic
def contact_merge(
    *, source: Contact, target: Contact, acting_user: AbstractBaseUser | None
) -> Contact:
    """Move everything that refers to ``source`` onto ``target``, then delete ``source``.

    Empty fields of the target are filled from the source; an opt-out on either side is kept
    (the more protective choice). Every relation to Contact is moved, so models added later
    follow without changes here.
    """
    if source.pk == target.pk:
        raise ApplicationError(_("A contact cannot be merged into itself."))
    source = Contact.objects.select_for_update().get(pk=source.pk)
    target = Contact.objects.select_for_update().get(pk=target.pk)
    if source.is_erased or target.is_erased:
        raise ApplicationError(_("An erased contact cannot be merged."))
    moved: dict[str, int] = {}

    # Affiliations: a role the target already holds at the same organisation is not doubled.
    duplicates = 0
    for affiliation in list(source.affiliations.all()):
        same = target.affiliations.filter(
            organization_id=affiliation.organization_id,
            role=affiliation.role,
            end_date=affiliation.end_date,
        ).exists()
        if same:
            affiliation._history_user = acting_user
            affiliation.delete()
            duplicates += 1
        else:
            affiliation.contact = target
            affiliation._history_user = acting_user
            affiliation.save(update_fields=["contact", "updated_at"])
            moved["affiliations"] = moved.get("affiliations", 0) + 1
    if duplicates:
        moved["duplicate affiliations dropped"] = duplicates

    for relation in Contact._meta.related_objects:
        model = relation.related_model
        if model in (Affiliation, ContactMerge) or not relation.one_to_many:
            continue
        if model._meta.app_label == "members" and model.__name__.startswith("Historical"):
            continue
        count = model._default_manager.filter(**{relation.field.name: source}).update(
            **{relation.field.name: target}
        )
        if count:
            moved[model._meta.label] = count

    source_email = source.email
    fill = [f for f in CONTACT_FIELDS if f != "email" and not getattr(target, f)]
    for field in fill:
        setattr(target, field, getattr(source, field))
    if source.notes and target.notes and source.notes not in target.notes:
        target.notes = f"{target.notes}\n\n{source.notes}"
    if source.mail_opt_out_at and not target.mail_opt_out_at:
        target.mail_opt_out_at = source.mail_opt_out_at
    ContactMerge.objects.create(
        target=target,
        source_id_value=source.pk,
        source_name=source.full_name,
        source_email=source_email,
        moved=moved,
        merged_by=acting_user if getattr(acting_user, "pk", None) else None,
    )
    source._history_user = acting_user
    source.delete()
    if not target.email and source_email:
        target.email = source_email
    _save(target, acting_user)
    # The consent records moved with the rest; where the kept opt-out (the more protective
    # choice) disagrees with the latest mail record, a withdrawal says so in the history.
    if target.mail_opt_out_at and consent_current(target.pk)[ConsentPurpose.MAIL].given:
        consent_record(
            contact=target,
            purpose=ConsentPurpose.MAIL,
            given=False,
            method=ConsentRecord.Method.BACK_OFFICE,
            note=_("Kept from a merged duplicate that had opted out."),
            acting_user=acting_user,
        )
    webhook_emit("contact.updated", target)
    return target
