"""Invitations in the back office. They are written only by the services: the list is for
finding people, and the buttons record an answer given by phone or send a new personal link."""

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.admin import SimpleHistoryAdmin
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import ChoicesDropdownFilter, RelatedDropdownFilter
from unfold.decorators import action, display

from crm.exceptions import ApplicationError
from meetings import services
from meetings.admin.forms import PhoneAnswerForm
from meetings.models import Invitation

STATUS_COLOURS = {
    Invitation.Status.PENDING: "",
    Invitation.Status.ACCEPTED: "success",
    Invitation.Status.DECLINED: "danger",
    Invitation.Status.REPLACED: "warning",
}


@admin.register(Invitation)
class InvitationAdmin(SimpleHistoryAdmin, ModelAdmin):
    list_display = (
        "display_contact",
        "organization",
        "gathering",
        "display_status",
        "mode",
        "attendance",
        "answered_at",
        "sent_at",
    )
    list_filter = (
        ("gathering", RelatedDropdownFilter),
        ("status", ChoicesDropdownFilter),
        ("mode", ChoicesDropdownFilter),
        ("attendance", ChoicesDropdownFilter),
        ("organization", RelatedDropdownFilter),
    )
    list_filter_submit = True
    list_select_related = ("contact", "organization", "gathering")
    search_fields = ("contact__given_name", "contact__family_name", "contact__email")
    search_help_text = gettext_lazy("Name or e-mail of the person invited.")
    list_per_page = 50
    fieldsets = (
        (None, {"fields": ("gathering", "contact", "organization", "invited_by", "invited_via")}),
        (
            gettext_lazy("Answer"),
            {
                "fields": (
                    "status",
                    "mode",
                    "answered_at",
                    "answer_count",
                    "replaced_by",
                    "dietary",
                    "accessibility",
                    "other_needs",
                    "note",
                    "attendance",
                )
            },
        ),
        (
            gettext_lazy("Personal link"),
            {"fields": ("sent_at", "token", "token_issued_at", "rsvp_link")},
        ),
    )
    actions_detail = ["record_answer", "new_link"]
    history_list_display = ["status", "attendance"]

    def get_readonly_fields(self, request, obj=None):
        # Every field: answers, attendance and links change only through the services.
        return [name for fieldset in self.fieldsets for name in fieldset[1]["fields"]]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @display(description=gettext_lazy("contact"), ordering="contact__family_name")
    def display_contact(self, obj):
        return (
            f"{obj.contact.full_name} <{obj.contact.email}>" if obj.contact.email else obj.contact
        )

    @display(description=gettext_lazy("answer"), ordering="status", label=STATUS_COLOURS)
    def display_status(self, obj):
        return obj.status, obj.get_status_display()

    @display(description=gettext_lazy("RSVP page"))
    def rsvp_link(self, obj):
        if not obj.pk:
            return "—"
        return format_html(
            '<a href="{}" target="_blank" rel="noopener noreferrer">{}</a>',
            obj.rsvp_path,
            _("Open the invitee's page"),
        )

    def _invitation_or_404(self, object_id) -> Invitation:
        return get_object_or_404(
            Invitation.objects.select_related("contact", "organization", "gathering"),
            pk=int(object_id) if str(object_id).isdigit() else None,
        )

    @action(
        description=gettext_lazy("Record an answer…"),
        url_path="answer",
        icon="call",
        permissions=["change"],
    )
    def record_answer(self, request, object_id):
        """An answer given by phone or e-mail, recorded by a coordinator (also after the
        deadline); the invitee gets the usual confirmation."""
        invitation = self._invitation_or_404(object_id)
        gathering = invitation.gathering.specific
        change_url = reverse("admin:meetings_invitation_change", args=[invitation.pk])
        if request.method == "POST":
            form = PhoneAnswerForm(request.POST, gathering=gathering)
            if form.is_valid():
                try:
                    services.invitation_respond(
                        invitation=invitation,
                        acting_user=request.user,
                        by_coordinator=True,
                        **form.cleaned_data,
                    )
                except ApplicationError as exc:
                    messages.error(request, str(exc))
                else:
                    messages.success(
                        request,
                        _("The answer of %(name)s is recorded; a confirmation is on its way.")
                        % {"name": invitation.contact.full_name},
                    )
                    return HttpResponseRedirect(change_url)
        else:
            mode = invitation.mode if invitation.status == Invitation.Status.ACCEPTED else ""
            declined = invitation.status == Invitation.Status.DECLINED
            form = PhoneAnswerForm(
                gathering=gathering,
                initial={
                    "answer": "decline" if declined else mode,
                    "dietary": invitation.dietary,
                    "accessibility": invitation.accessibility,
                    "other_needs": invitation.other_needs,
                    "note": invitation.note,
                },
            )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Record the answer of %(name)s") % {"name": invitation.contact.full_name},
            "subtitle": str(gathering),
            "intro": _(
                "For an answer given by phone or e-mail. It can be recorded after the deadline; "
                "the invitee is sent the usual confirmation."
            ),
            "form": form,
            "submit": _("Record the answer"),
            "cancel_url": change_url,
            "opts": self.model._meta,
            "original": invitation,
        }
        return TemplateResponse(request, "meetings/admin/form.html", context)

    @action(
        description=gettext_lazy("Send a new link…"),
        url_path="new-link",
        icon="link",
        permissions=["change"],
    )
    def new_link(self, request, object_id):
        """Revoke the personal link and mail a new one (a forwarded or leaked e-mail)."""
        invitation = self._invitation_or_404(object_id)
        change_url = reverse("admin:meetings_invitation_change", args=[invitation.pk])
        if request.method == "POST":
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
            return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Send a new link to %(name)s") % {"name": invitation.contact.full_name},
            "subtitle": str(invitation.gathering),
            "intro": _(
                "The current personal link stops working and a new one is e-mailed to %(email)s."
            )
            % {"email": invitation.contact.email or "—"},
            "form": None,
            "submit": _("Send a new link"),
            "cancel_url": change_url,
            "opts": self.model._meta,
            "original": invitation,
        }
        return TemplateResponse(request, "meetings/admin/form.html", context)
