"""The coordinator's pages around one meeting: the response board (with reminders, attendance,
new links and the participant export) and the "Invite…" page with its preview.

Each view reads through selectors and writes through services; a refusal from a service is
shown as a message on the page, never as an error page.
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

from crm.exceptions import ApplicationError
from meetings import selectors, services
from meetings.admin.exports import FORMATS, participants_response
from meetings.admin.forms import InviteForm
from meetings.models import Invitation, Meeting

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


def meeting_or_404(object_id) -> Meeting:
    try:
        return get_object_or_404(Meeting, pk=int(object_id))
    except (TypeError, ValueError):
        raise Http404 from None


def board_url(meeting: Meeting) -> str:
    return reverse("admin:meetings_meeting_board", args=[meeting.pk])


def _context(model_admin, request: HttpRequest, meeting: Meeting, title: str, **extra) -> dict:
    return {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "subtitle": meeting.label,
        "meeting": meeting,
        "opts": model_admin.model._meta,
        "original": meeting,
        "change_url": reverse("admin:meetings_meeting_change", args=[meeting.pk]),
        "board_url": board_url(meeting),
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
    meeting = meeting_or_404(object_id)
    invitations = list(selectors.invitations_for_board(meeting))
    counts = selectors.answer_counts(meeting)
    started = meeting.starts_at <= timezone.now()
    context = _context(
        model_admin,
        request,
        meeting,
        _("Responses: %(title)s") % {"title": meeting.title},
        counts=counts,
        bars=_bars(counts),
        invitations=invitations,
        organisations=_by_organisation(invitations),
        pending=[i for i in invitations if i.status == Status.PENDING],
        needs=[i for i in invitations if i.needs or i.note],
        started=started,
        can_remind=meeting.status == Meeting.Status.OPEN,
        can_change=request.user.has_perm(CHANGE_INVITATIONS),
        attendance_choices=Invitation.Attendance.choices,
        export_urls={
            fmt: reverse("admin:meetings_meeting_export", args=[meeting.pk, fmt]) for fmt in FORMATS
        },
        local_start=timezone.localtime(meeting.starts_at, meeting.tz),
        local_deadline=timezone.localtime(meeting.rsvp_deadline, meeting.tz),
    )
    return TemplateResponse(request, "meetings/admin/board.html", context)


def _post_only(request: HttpRequest, meeting: Meeting) -> HttpResponseRedirect | None:
    if request.method != "POST":
        return HttpResponseRedirect(board_url(meeting))
    return None


def remind_view(model_admin, request: HttpRequest, object_id) -> HttpResponse:
    require(request, VIEW_BOARD, CHANGE_INVITATIONS)
    meeting = meeting_or_404(object_id)
    if redirect := _post_only(request, meeting):
        return redirect
    if meeting.status != Meeting.Status.OPEN:
        messages.error(request, _("Reminders can be sent only while the meeting takes answers."))
        return HttpResponseRedirect(board_url(meeting))
    ids = [i for i in request.POST.getlist("invitation") if i.isdigit()]
    chosen = meeting.invitations.filter(pk__in=ids, status=Status.PENDING).select_related("contact")
    if not ids:
        messages.warning(request, _("Choose at least one person to remind."))
        return HttpResponseRedirect(board_url(meeting))
    try:
        count = services.invitations_remind(
            gathering=meeting, invitations=chosen, acting_user=request.user
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
    return HttpResponseRedirect(board_url(meeting))


def attendance_view(model_admin, request: HttpRequest, object_id) -> HttpResponse:
    require(request, VIEW_BOARD, CHANGE_INVITATIONS)
    meeting = meeting_or_404(object_id)
    if redirect := _post_only(request, meeting):
        return redirect
    attendance = {}
    for key, value in request.POST.items():
        if key.startswith("attendance-") and key[len("attendance-") :].isdigit():
            attendance[int(key[len("attendance-") :])] = value
    try:
        changed = services.invitations_record_attendance(
            gathering=meeting, attendance=attendance, acting_user=request.user
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
    return HttpResponseRedirect(board_url(meeting) + "#attendance")


def new_link_view(model_admin, request: HttpRequest, object_id) -> HttpResponse:
    require(request, VIEW_BOARD, CHANGE_INVITATIONS)
    meeting = meeting_or_404(object_id)
    if redirect := _post_only(request, meeting):
        return redirect
    invitation_id = request.POST.get("invitation", "")
    if not invitation_id.isdigit():
        raise Http404
    invitation = get_object_or_404(meeting.invitations.select_related("contact"), pk=invitation_id)
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
    return HttpResponseRedirect(board_url(meeting) + "#invitations")


def export_view(model_admin, request: HttpRequest, object_id, fmt: str) -> HttpResponse:
    require(request, VIEW_BOARD)
    meeting = meeting_or_404(object_id)
    if fmt not in FORMATS:
        raise Http404
    return participants_response(meeting, fmt)


def invite_view(model_admin, request: HttpRequest, object_id) -> HttpResponse:
    """Choose whom to invite, see the list, confirm. The preview is computed again on confirm,
    so what is created is what the selection names at that moment."""
    require(request, VIEW_BOARD, ADD_INVITATIONS)
    meeting = meeting_or_404(object_id)
    preview = None
    if request.method == "POST":
        form = InviteForm(request.POST)
        if form.is_valid():
            preview = services.invitees_preview(gathering=meeting, **form.criteria())
            if "confirm" in request.POST:
                return _invite(request, meeting, preview)
    else:
        form = InviteForm()
    context = _context(
        model_admin,
        request,
        meeting,
        _("Invite to %(title)s") % {"title": meeting.title},
        form=form,
        preview=preview,
        media=model_admin.media + form.media,
    )
    return TemplateResponse(request, "meetings/admin/invite.html", context)


def _invite(request: HttpRequest, meeting: Meeting, preview) -> HttpResponse:
    try:
        created = services.invitations_create(
            gathering=meeting, invitees=preview.to_invite, acting_user=request.user
        )
    except ApplicationError as exc:
        messages.error(request, str(exc))
        return HttpResponseRedirect(reverse("admin:meetings_meeting_invite", args=[meeting.pk]))
    n = len(created)
    if meeting.status == Meeting.Status.OPEN:
        text = ngettext(
            "%(n)d person invited; the invitation is on its way.",
            "%(n)d people invited; the invitations are on their way.",
            n,
        )
    else:
        text = ngettext(
            "%(n)d person invited; the invitation will be sent when you open the meeting.",
            "%(n)d people invited; the invitations will be sent when you open the meeting.",
            n,
        )
    messages.success(request, text % {"n": n})
    return HttpResponseRedirect(board_url(meeting))
