"""Consultations and follow-ups: what was said and agreed with partners, and who does what
next."""

import datetime
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from api.webhooks.services import webhook_emit
from crm.exceptions import ApplicationError
from meetings.models import Consultation, FollowUp
from meetings.services.common import save
from members.models import Contact, FocusArea, Organization


def _check_partners(kind: str, organizations: list[Organization]) -> None:
    if not organizations:
        raise ApplicationError(
            _("Name the partner organisations that took part."), field="organizations"
        )
    if kind == Consultation.Kind.BILATERAL and len(organizations) != 1:
        raise ApplicationError(
            _(
                "A bilateral consultation is with exactly one partner organisation; "
                "%(n)s were given. Choose one, or record it as multi-stakeholder."
            )
            % {"n": len(organizations)},
            field="organizations",
        )


@transaction.atomic
def consultation_create(
    *,
    acting_user: AbstractBaseUser | None,
    organizations: Iterable[Organization],
    contacts: Iterable[Contact] = (),
    staff: Iterable[AbstractBaseUser] = (),
    topics: Iterable[FocusArea] = (),
    **fields: Any,
) -> Consultation:
    organizations = list(dict.fromkeys(organizations))
    _check_partners(fields.get("kind", ""), organizations)
    consultation = Consultation(**fields)
    if getattr(acting_user, "pk", None):
        consultation.created_by = acting_user
    save(consultation, acting_user)
    consultation.organizations.set(organizations)
    consultation.contacts.set(list(contacts))
    consultation.staff.set(list(staff))
    consultation.topics.set(list(topics))
    webhook_emit("consultation.created", consultation)
    return consultation


@transaction.atomic
def consultation_update(
    *,
    consultation: Consultation,
    acting_user: AbstractBaseUser | None,
    organizations: Iterable[Organization] | None = None,
    contacts: Iterable[Contact] | None = None,
    staff: Iterable[AbstractBaseUser] | None = None,
    topics: Iterable[FocusArea] | None = None,
    **fields: Any,
) -> Consultation:
    for name, value in fields.items():
        setattr(consultation, name, value)
    partners = (
        list(dict.fromkeys(organizations))
        if organizations is not None
        else list(consultation.organizations.all())
    )
    _check_partners(consultation.kind, partners)
    save(consultation, acting_user)
    if organizations is not None:
        consultation.organizations.set(partners)
    if contacts is not None:
        consultation.contacts.set(list(contacts))
    if staff is not None:
        consultation.staff.set(list(staff))
    if topics is not None:
        consultation.topics.set(list(topics))
    return consultation


# --- Follow-ups ---------------------------------------------------------------------------


@transaction.atomic
def followup_create(*, acting_user: AbstractBaseUser | None, **fields: Any) -> FollowUp:
    """An action item. Owned by an office member, or by a partner contact with an office
    member responsible for it (``owner_user``)."""
    if fields.get("owner_contact") is not None and fields.get("owner_user") is None:
        raise ApplicationError(
            _("A follow-up owned by a partner needs an office member responsible for it."),
            field="owner_user",
        )
    consultation = fields.get("consultation")
    if consultation is not None:
        fields.setdefault("source", FollowUp.Source.CONSULTATION)
        if fields.get("organization") is None:
            partners = list(consultation.organizations.all()[:2])
            if len(partners) == 1:
                fields["organization"] = partners[0]
    followup = FollowUp(**fields)
    save(followup, acting_user)
    webhook_emit("follow_up.created", followup)
    return followup


@transaction.atomic
def followup_complete(
    *, followup: FollowUp, acting_user: AbstractBaseUser | None, on: datetime.date | None = None
) -> FollowUp:
    if followup.status != FollowUp.Status.OPEN:
        raise ApplicationError(
            _("This follow-up is already %(status)s.") % {"status": followup.get_status_display()}
        )
    followup.status = FollowUp.Status.DONE
    followup.done_on = on or timezone.localdate()
    save(followup, acting_user)
    webhook_emit("follow_up.done", followup)
    return followup


@transaction.atomic
def followup_cancel(
    *, followup: FollowUp, acting_user: AbstractBaseUser | None, reason: str = ""
) -> FollowUp:
    if followup.status != FollowUp.Status.OPEN:
        raise ApplicationError(
            _("This follow-up is already %(status)s.") % {"status": followup.get_status_display()}
        )
    followup.status = FollowUp.Status.CANCELLED
    if reason:
        followup.notes = f"{followup.notes}\n{reason}".strip()
    save(followup, acting_user, reason="Cancelled")
    webhook_emit("follow_up.updated", followup)
    return followup


@transaction.atomic
def followup_reopen(*, followup: FollowUp, acting_user: AbstractBaseUser | None) -> FollowUp:
    followup.status = FollowUp.Status.OPEN
    followup.done_on = None
    save(followup, acting_user, reason="Reopened")
    webhook_emit("follow_up.updated", followup)
    return followup
