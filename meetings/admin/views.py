"""The coordinator's pages around one gathering — an AECT meeting or an event: the response
board (with reminders, attendance, new links and the participant export) and the "Invite…"
page with its preview.

The views take the model admin they serve (``GatheringAdmin``), which names the model, the
board template, the invite form, the export columns and the texts that differ between a
meeting and an event. Each view reads through selectors and writes through services; a refusal
from a service is shown as a message on the page, never as an error page.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from crm.audit import access_log_export
from crm.exceptions import ApplicationError
from meetings import selectors, services
from meetings.admin.exports import FORMATS
from meetings.models import Gathering, Invitation

Status = Invitation.Status

VIEW_BOARD = "meetings.view_invitation"
CHANGE_INVITATIONS = "meetings.change_invitation"
ADD_INVITATIONS = "meetings.add_invitation"

# (key in answer_counts, label, colour of the bar)
BARS = (
    ("in_person", gettext_lazy("Accepted, in person"), "#16a34a"),
    ("online", gettext_lazy("Accepted, online"), "#4ade80"),
    ("declined", gettext_lazy("Declined"), "#dc2626"),
    ("replaced", gettext_lazy("Replaced by a colleague"), "#d97706"),
    ("pending", gettext_lazy("Not answered"), "#9ca3af"),
    ("attended", gettext_lazy("Attended"), "#2563eb"),
)


def require(request: HttpRequest, *perms: str) -> None:
    if not request.user.has_perms(perms):
        raise PermissionDenied


def gathering_or_404(model_admin, object_id) -> Gathering:
    """The meeting or event the admin serves; 404 for an id of another kind of gathering."""
    try:
        return get_object_or_404(model_admin.model, pk=int(object_id))
    except (TypeError, ValueError):
        raise Http404 from None


def admin_url(gathering: Gathering, name: str, *args) -> str:
    """``admin:<app>_<model>_<name>`` of the gathering's own admin (meeting or event)."""
    opts = gathering._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{name}", args=[gathering.pk, *args])


def board_url(gathering: Gathering) -> str:
    return admin_url(gathering, "board")


def context(model_admin, request: HttpRequest, gathering: Gathering, title: str, **extra) -> dict:
    """What every page around one gathering shows (the admin's chrome, links back)."""
    return {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "subtitle": model_admin.subtitle(gathering),
        "gathering": gathering,
        "texts": model_admin.texts,
        "opts": model_admin.model._meta,
        "original": gathering,
        "change_url": admin_url(gathering, "change"),
        "board_url": board_url(gathering),
        "invite_url": admin_url(gathering, "invite"),
        "links": model_admin.page_links(request, gathering),
        **extra,
    }


def _bars(counts: dict[str, int]) -> list[dict]:
    total = counts["total"] or 1
    return [
        {
            "label": label,
            "count": counts[key],
            # A string with a dot whatever the locale, since it goes into CSS.
            "width": f"{100 * counts[key] / total:.1f}",
            "colour": colour,
        }
        for key, label, colour in BARS
    ]


def _by_organisation(invitations: list[Invitation]) -> list[dict]:
    groups: dict[int | None, dict] = {}
    for invitation in invitations:
        group = groups.setdefault(
            invitation.organization_id,
            {"organization": invitation.organization, "answered": [], "pending": []},
        )
        key = "pending" if invitation.status == Status.PENDING else "answered"
        group[key].append(invitation)
    return list(groups.values())


def board_view(model_admin, request: HttpRequest, object_id) -> HttpResponse:
    require(request, VIEW_BOARD)
    gathering = gathering_or_404(model_admin, object_id)
    invitations = list(selectors.invitations_for_board(gathering))
    counts = selectors.answer_counts(gathering)
    started = gathering.starts_at <= timezone.now()
    page = context(
        model_admin,
        request,
        gathering,
        _("Responses: %(title)s") % {"title": gathering.title},
        counts=counts,
        bars=_bars(counts),
        invitations=invitations,
        organisations=_by_organisation(invitations),
        pending=[i for i in invitations if i.status == Status.PENDING],
        needs=[i for i in invitations if i.needs or i.note],
        started=started,
        can_remind=gathering.status == Gathering.Status.OPEN,
        can_change=request.user.has_perm(CHANGE_INVITATIONS),
        attendance_choices=Invitation.Attendance.choices,
        remind_url=admin_url(gathering, "remind"),
        attendance_url=admin_url(gathering, "attendance"),
        new_link_url=admin_url(gathering, "new_link"),
        export_urls={fmt: admin_url(gathering, "export", fmt) for fmt in FORMATS},
        shared_export_urls={fmt: admin_url(gathering, "export_shared", fmt) for fmt in FORMATS},
        local_start=timezone.localtime(gathering.starts_at, gathering.tz),
        local_deadline=timezone.localtime(gathering.rsvp_deadline, gathering.tz),
        **model_admin.board_context(request, gathering),
    )
    return TemplateResponse(request, model_admin.board_template, page)


def post_only(request: HttpRequest, gathering: Gathering) -> HttpResponseRedirect | None:
    if request.method != "POST":
        return HttpResponseRedirect(board_url(gathering))
    return None


def remind_view(model_admin, request: HttpRequest, object_id) -> HttpResponse:
    require(request, VIEW_BOARD, CHANGE_INVITATIONS)
    gathering = gathering_or_404(model_admin, object_id)
    if redirect := post_only(request, gathering):
        return redirect
    if gathering.status != Gathering.Status.OPEN:
        messages.error(request, model_admin.texts["remind_closed"])
        return HttpResponseRedirect(board_url(gathering))
    ids = [i for i in request.POST.getlist("invitation") if i.isdigit()]
    chosen = gathering.invitations.filter(pk__in=ids, status=Status.PENDING).select_related(
        "contact"
    )
    if not ids:
        messages.warning(request, _("Choose at least one person to remind."))
        return HttpResponseRedirect(board_url(gathering))
    try:
        count = services.invitations_remind(
            gathering=gathering, invitations=chosen, acting_user=request.user
        )
    except ApplicationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            ngettext(
                "A reminder is on its way to %(n)d person.",
                "Reminders are on their way to %(n)d people.",
                count,
            )
            % {"n": count},
        )
    return HttpResponseRedirect(board_url(gathering))


def attendance_view(model_admin, request: HttpRequest, object_id) -> HttpResponse:
    require(request, VIEW_BOARD, CHANGE_INVITATIONS)
    gathering = gathering_or_404(model_admin, object_id)
    if redirect := post_only(request, gathering):
        return redirect
    attendance = {}
    for key, value in request.POST.items():
        if key.startswith("attendance-") and key[len("attendance-") :].isdigit():
            attendance[int(key[len("attendance-") :])] = value
    try:
        changed = services.invitations_record_attendance(
            gathering=gathering, attendance=attendance, acting_user=request.user
        )
    except ApplicationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            ngettext(
                "Attendance recorded: %(n)d change.", "Attendance recorded: %(n)d changes.", changed
            )
            % {"n": changed},
        )
    return HttpResponseRedirect(board_url(gathering) + "#attendance")


def new_link_view(model_admin, request: HttpRequest, object_id) -> HttpResponse:
    require(request, VIEW_BOARD, CHANGE_INVITATIONS)
    gathering = gathering_or_404(model_admin, object_id)
    if redirect := post_only(request, gathering):
        return redirect
    invitation_id = request.POST.get("invitation", "")
    if not invitation_id.isdigit():
        raise Http404
    invitation = get_object_or_404(
        gathering.invitations.select_related("contact"), pk=invitation_id
    )
    try:
        services.invitation_reissue_token(invitation=invitation, acting_user=request.user)
    except ApplicationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("A new personal link was sent to %(name)s; the old one no longer works.")
            % {"name": invitation.contact.full_name},
        )
    return HttpResponseRedirect(board_url(gathering) + "#invitations")


def export_view(model_admin, request: HttpRequest, object_id, fmt: str) -> HttpResponse:
    # Names, e-mails and needs leave the system: coordinators only, not viewers.
    require(request, VIEW_BOARD, CHANGE_INVITATIONS)
    gathering = gathering_or_404(model_admin, object_id)
    if fmt not in FORMATS:
        raise Http404
    response = model_admin.participants_response(gathering, fmt)
    access_log_export(
        what=gettext_lazy("Participant list of %(title)s (#%(id)s)"),
        params={"title": gathering.title, "id": gathering.pk},
        file_format=fmt,
        acting_user=request.user,
        model=Invitation,
        row_count=getattr(response, "exported_rows", None),
    )
    return response


def export_shared_view(model_admin, request: HttpRequest, object_id, fmt: str) -> HttpResponse:
    # Only people who agreed are named, but the list still leaves the system: coordinators.
    require(request, VIEW_BOARD, CHANGE_INVITATIONS)
    gathering = gathering_or_404(model_admin, object_id)
    if fmt not in FORMATS:
        raise Http404
    return model_admin.shared_participants_response(gathering, fmt)


def invite_view(model_admin, request: HttpRequest, object_id) -> HttpResponse:
    """Choose whom to invite, see the list, confirm. The preview is computed again on confirm,
    so what is created is what the selection names at that moment."""
    require(request, VIEW_BOARD, ADD_INVITATIONS)
    gathering = gathering_or_404(model_admin, object_id)
    form_class = model_admin.invite_form_class
    preview = None
    if request.method == "POST":
        form = form_class(request.POST)
        if form.is_valid():
            preview = services.invitees_preview(gathering=gathering, **form.criteria())
            if "confirm" in request.POST:
                return _invite(model_admin, request, gathering, preview)
    else:
        form = form_class()
    page = context(
        model_admin,
        request,
        gathering,
        _("Invite to %(title)s") % {"title": gathering.title},
        form=form,
        preview=preview,
        media=model_admin.media + form.media,
    )
    return TemplateResponse(request, "meetings/admin/invite.html", page)


def _invite(model_admin, request: HttpRequest, gathering: Gathering, preview) -> HttpResponse:
    try:
        created = services.invitations_create(
            gathering=gathering, invitees=preview.to_invite, acting_user=request.user
        )
    except ApplicationError as exc:
        messages.error(request, str(exc))
        return HttpResponseRedirect(admin_url(gathering, "invite"))
    n = len(created)
    if gathering.status == Gathering.Status.OPEN:
        text = ngettext(
            "%(n)d person invited; the invitation is on its way.",
            "%(n)d people invited; the invitations are on their way.",
            n,
        )
    else:
        text = model_admin.texts["invited_later"]
    messages.success(request, text % {"n": n})
    return HttpResponseRedirect(board_url(gathering))
