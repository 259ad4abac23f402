"""The pages only events have: the board's waiting list, capacity and balance; capacity
override and offering freed places; guests from outside the directory; check-in on the day.

Reads go through selectors, writes through services; a service's refusal is a message on the
page. The shared pages (board, invite, reminders, attendance, export) are
``meetings.admin.views``'."""

from django.contrib import messages
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_countries import countries

from crm.exceptions import ApplicationError
from events import selectors
from events import services as event_services
from events.admin.forms import GuestsForm
from events.models import Event
from meetings import services
from meetings.admin.views import (
    ADD_INVITATIONS,
    CHANGE_INVITATIONS,
    VIEW_BOARD,
    admin_url,
    board_url,
    context,
    gathering_or_404,
    post_only,
    require,
)
from meetings.models import Gathering, Invitation
from meetings.services.capacity import places_taken
from members.models import Organization

KIND_LABELS = dict(Organization.Kind.choices)


def _width(part: int, whole: int) -> str:
    # A string with a dot whatever the locale, since it goes into CSS.
    return f"{min(100.0, 100 * part / whole) if whole else 0:.1f}"


def _balance_bars(rows: list[tuple[str, int]], label) -> list[dict]:
    total = sum(n for _key, n in rows)
    return [
        {"key": key, "label": label(key), "count": n, "width": _width(n, total)} for key, n in rows
    ]


def _kind_label(key: str) -> str:
    return str(KIND_LABELS.get(key, key)) if key else _("No organisation")


def _country_label(code: str) -> str:
    return (countries.name(code) or code) if code else _("Not given")


def _capacity(event: Event, counts: dict) -> dict | None:
    """How much of the capacity is taken: accepted people and their plus-ones, and places
    held by running offers (the rule of ``meetings.services.capacity``)."""
    if event.capacity is None:
        return None
    taken = places_taken(event)
    return {
        "capacity": event.capacity,
        "taken": taken,
        "free": counts["places_left"],
        "over": max(taken - event.capacity, 0),
        "width": _width(taken, event.capacity),
    }


def board_context(request: HttpRequest, event: Event) -> dict:
    counts = selectors.event_counts(event)
    balance = selectors.balance(event)
    return {
        "event_counts": counts,
        "capacity_use": _capacity(event, counts),
        "waiting": list(selectors.waiting_list(event)),
        "balance_kind": _balance_bars(balance["kind"], _kind_label),
        "balance_country": _balance_bars(balance["country"], _country_label),
        "can_offer": event.status == Gathering.Status.OPEN and event.waiting_list,
        "admit_url": admin_url(event, "admit"),
        "offer_url": admin_url(event, "offer"),
        "tz": event.tz,
    }


def admit_view(model_admin, request: HttpRequest, object_id) -> HttpResponse:
    """Admit someone beyond the capacity: a coordinator's decision, recorded with the reason."""
    require(request, VIEW_BOARD, CHANGE_INVITATIONS)
    event = gathering_or_404(model_admin, object_id)
    if redirect := post_only(request, event):
        return redirect
    invitation_id = request.POST.get("invitation", "")
    if not invitation_id.isdigit():
        raise Http404
    invitation = get_object_or_404(event.invitations.select_related("contact"), pk=invitation_id)
    try:
        services.invitation_admit_over_capacity(
            invitation=invitation,
            acting_user=request.user,
            reason=request.POST.get("reason", "")[:200],
        )
    except ApplicationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("%(name)s is admitted over the capacity; the reason is recorded.")
            % {"name": invitation.contact.full_name},
        )
    return HttpResponseRedirect(board_url(event) + "#waiting")


def offer_view(model_admin, request: HttpRequest, object_id) -> HttpResponse:
    """Offer the places free now to the waiting list, in order."""
    require(request, VIEW_BOARD, CHANGE_INVITATIONS)
    event = gathering_or_404(model_admin, object_id)
    if redirect := post_only(request, event):
        return redirect
    with transaction.atomic():
        # waitlist_fill decides one gathering at a time under its row lock (its contract),
        # as every answer does: the places offered here cannot be taken twice.
        locked = Event.objects.select_for_update().get(pk=event.pk)
        offered = services.waitlist_fill(locked)
    if offered:
        messages.success(
            request,
            ngettext(
                "%(n)d person on the waiting list is offered a place.",
                "%(n)d people on the waiting list are offered places.",
                len(offered),
            )
            % {"n": len(offered)},
        )
    else:
        messages.warning(
            request,
            _(
                "Nobody was offered a place: no place is free for anyone waiting, or the "
                "event is not open."
            ),
        )
    return HttpResponseRedirect(board_url(event) + "#waiting")


def guests_view(model_admin, request: HttpRequest, object_id) -> HttpResponse:
    """Invite people from outside the directory. Each pasted line is invited on its own, so a
    line the service skips is reported with its number; a refusal of the whole (the event is
    over) leaves nothing half-done."""
    require(request, VIEW_BOARD, ADD_INVITATIONS)
    event = gathering_or_404(model_admin, object_id)
    skipped: list[tuple[int, str, str]] = []
    created: list[Invitation] = []
    if request.method == "POST":
        form = GuestsForm(request.POST)
        if form.is_valid():
            guests, skipped = form.parse()
            try:
                with transaction.atomic():
                    for number, guest, raw in guests:
                        new, refused = event_services.invitations_create_guests(
                            gathering=event, guests=[guest], acting_user=request.user
                        )
                        created.extend(new)
                        skipped.extend((number, reason, raw) for reason in refused)
            except ApplicationError as exc:
                messages.error(request, str(exc))
                created, skipped = [], []
            else:
                skipped.sort()
                _report(request, event, len(created), len(skipped))
                if not skipped:
                    return HttpResponseRedirect(board_url(event))
                # The skipped lines go back into the box, to be corrected and sent again.
                form = GuestsForm(initial={"lines": "\n".join(raw for _n, _r, raw in skipped)})
    else:
        form = GuestsForm()
    page = context(
        model_admin,
        request,
        event,
        _("Invite guests to %(title)s") % {"title": event.title},
        form=form,
        skipped=skipped,
        created=created,
    )
    return TemplateResponse(request, "events/admin/guests.html", page)


def _report(request: HttpRequest, event: Event, created: int, skipped: int) -> None:
    if event.status == Gathering.Status.OPEN:
        text = ngettext(
            "%(n)d guest invited; the invitation is on its way.",
            "%(n)d guests invited; the invitations are on their way.",
            created,
        )
    else:
        text = ngettext(
            "%(n)d guest invited; the invitation will be sent when you open the event.",
            "%(n)d guests invited; the invitations will be sent when you open the event.",
            created,
        )
    messages.success(request, text % {"n": created})
    if skipped:
        messages.warning(
            request,
            ngettext(
                "%(n)d line was skipped; see below.",
                "%(n)d lines were skipped; see below.",
                skipped,
            )
            % {"n": skipped},
        )


def _search(invitations, query: str):
    for term in query.split()[:5]:
        invitations = invitations.filter(
            Q(contact__given_name__icontains=term)
            | Q(contact__family_name__icontains=term)
            | Q(contact__email__icontains=term)
            | Q(organization__name__icontains=term)
            | Q(organization__acronym__icontains=term)
            | Q(affiliation_label__icontains=term)
        )
    return invitations


def check_in_view(model_admin, request: HttpRequest, object_id) -> HttpResponse:
    """The list at the registration desk: everyone who accepted, searchable, with one big
    button each."""
    require(request, VIEW_BOARD)
    event = gathering_or_404(model_admin, object_id)
    query = request.GET.get("q", "").strip()[:100]
    people = _search(selectors.participants(event), query)
    page = context(
        model_admin,
        request,
        event,
        _("Check-in: %(title)s") % {"title": event.title},
        query=query,
        people=list(people),
        counts=selectors.event_counts(event),
        can_change=request.user.has_perm(CHANGE_INVITATIONS),
        check_in_url=admin_url(event, "check_in"),
        tz=event.tz,
    )
    return TemplateResponse(request, "events/admin/check_in.html", page)


def check_in_mark_view(model_admin, request: HttpRequest, object_id, invitation_id) -> HttpResponse:
    require(request, VIEW_BOARD, CHANGE_INVITATIONS)
    event = gathering_or_404(model_admin, object_id)
    back = admin_url(event, "check_in")
    query = request.POST.get("q", "").strip()[:100]
    if query:
        back += "?" + urlencode({"q": query})
    if request.method != "POST":
        return HttpResponseRedirect(back)
    invitation = get_object_or_404(event.invitations.select_related("contact"), pk=invitation_id)
    undo = "undo" in request.POST
    try:
        event_services.invitation_check_in(
            invitation=invitation, acting_user=request.user, undo=undo
        )
    except ApplicationError as exc:
        messages.error(request, str(exc))
    else:
        name = invitation.contact.full_name
        messages.success(
            request,
            (_("Check-in of %(name)s undone.") if undo else _("%(name)s has arrived."))
            % {"name": name},
        )
    return HttpResponseRedirect(f"{back}#invitation-{invitation.pk}")
