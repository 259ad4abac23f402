"""Back office of consent: the versioned texts (administrators publish them; everyone with
the directory reads them), the history and current state on a contact's page, and the form a
coordinator uses to record a consent given or withdrawn in person or by phone."""

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin
from unfold.admin import ModelAdmin
from unfold.decorators import display
from unfold.widgets import UnfoldAdminSelectWidget, UnfoldAdminTextInputWidget

from crm.exceptions import ApplicationError
from members.privacy import services
from members.privacy.models import ConsentPurpose, ConsentRecord, ConsentText
from members.privacy.selectors import consent_current, consent_history

# What a coordinator records in the back office; RSVP, API and e-mail link record themselves.
BACK_OFFICE_METHODS = [
    (m.value, m.label)
    for m in (
        ConsentRecord.Method.IN_PERSON,
        ConsentRecord.Method.BACK_OFFICE,
        ConsentRecord.Method.EMAIL,
    )
]


@admin.register(ConsentText)
class ConsentTextAdmin(SimpleHistoryAdmin, ModelAdmin):
    list_display = ("purpose", "version", "published_at", "display_used")
    list_filter = ("purpose",)
    fields = ("purpose", "version", "text_en", "text_ru", "published_at")
    readonly_fields = ("version",)
    history_list_display = ["version"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("records")

    @display(description=_("agreed to"), boolean=True)
    def display_used(self, obj):
        return ConsentRecord.objects.filter(text=obj).exists()

    def _used(self, obj) -> bool:
        return obj is not None and ConsentRecord.objects.filter(text=obj).exists()

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            # The purpose of a version never changes; a used version not at all.
            if self._used(obj):
                return self.fields
            return ("purpose", "version")
        return self.readonly_fields

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not self._used(obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not self._used(obj)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            saved = services.consent_text_update(
                text=obj,
                acting_user=request.user,
                text_en=data["text_en"],
                text_ru=data["text_ru"],
                published_at=data["published_at"],
            )
        else:
            saved = services.consent_text_publish(
                purpose=data["purpose"],
                text_en=data["text_en"],
                text_ru=data["text_ru"],
                published_at=data["published_at"],
                acting_user=request.user,
            )
        obj.__dict__.update(saved.__dict__)


def consent_history_panel(contact) -> str:
    """Every record of the contact, newest first (a read-only panel: records are never
    edited, and a panel needs no formset data on the contact's own form)."""
    if contact is None or not contact.pk:
        return "—"
    rows = []
    for record in consent_history(contact.pk):
        if record.invitation_id:
            by = _("the invitee, via the invitation to %(gathering)s") % {
                "gathering": record.invitation.gathering.title
            }
        elif record.api_client_id:
            by = _("API client %(name)s") % {"name": record.api_client.name}
        elif record.recorded_by_id:
            by = str(record.recorded_by)
        else:
            by = _("the person themselves")
        rows.append(
            (
                date_format(record.recorded_at, "SHORT_DATETIME_FORMAT"),
                record.get_purpose_display(),
                _("given") if record.given else _("withdrawn"),
                record.get_method_display(),
                record.text.version if record.text_id else "—",
                by,
                record.note,
            )
        )
    if not rows:
        return _("Nothing recorded yet.")
    header = (_("When"), _("Purpose"), _("Consent"), _("How"), _("Text version"), _("By"), "")
    return format_html(
        '<table class="text-sm"><thead><tr>{}</tr></thead><tbody>{}</tbody></table>',
        format_html_join("", '<th class="pr-3 text-left">{}</th>', ((h,) for h in header)),
        format_html_join(
            "",
            "<tr>" + '<td class="pr-3">{}</td>' * 7 + "</tr>",
            rows,
        ),
    )


def consent_summary(contact) -> str:
    """The current consent per purpose, for the contact's page."""
    if contact is None or not contact.pk:
        return "—"
    rows = []
    for state in consent_current(contact.pk).values():
        if state.record is None:
            detail = _("nothing recorded (default)")
        else:
            detail = _("%(how)s, %(when)s") % {
                "how": state.record.get_method_display(),
                "when": date_format(state.record.recorded_at, "SHORT_DATETIME_FORMAT"),
            }
        rows.append((state.label, _("yes") if state.given else _("no"), detail))
    return format_html(
        "<ul>{}</ul>",
        format_html_join("", "<li><strong>{}</strong>: {} <small>({})</small></li>", rows),
    )


class RecordConsentForm(forms.Form):
    purpose = forms.ChoiceField(
        label=_("Purpose"), choices=ConsentPurpose.choices, widget=UnfoldAdminSelectWidget
    )
    given = forms.TypedChoiceField(
        label=_("Consent"),
        choices=[("yes", _("Given")), ("no", _("Withdrawn"))],
        coerce=lambda value: value == "yes",
        widget=UnfoldAdminSelectWidget,
    )
    method = forms.ChoiceField(
        label=_("How"), choices=BACK_OFFICE_METHODS, widget=UnfoldAdminSelectWidget
    )
    note = forms.CharField(
        label=_("Note"),
        max_length=300,
        required=False,
        widget=UnfoldAdminTextInputWidget,
        help_text=_("For example: “signed form at the AECT meeting”, “phone call”."),
    )


def record_consent_view(model_admin, request, contact):
    change_url = reverse("admin:members_contact_change", args=[contact.pk])
    form = RecordConsentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            record = services.consent_record(
                contact=contact,
                purpose=data["purpose"],
                given=data["given"],
                method=data["method"],
                note=data["note"],
                acting_user=request.user,
            )
        except ApplicationError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc))
        else:
            messages.success(
                request,
                _("Recorded for %(name)s: %(record)s.") % {"name": contact, "record": record},
            )
            return HttpResponseRedirect(change_url)
    context = {
        **model_admin.admin_site.each_context(request),
        "title": _("Record consent: %(name)s") % {"name": contact},
        "subtitle": str(contact),
        "opts": model_admin.model._meta,
        "original": contact,
        "contact": contact,
        "change_url": change_url,
        "form": form,
        "states": consent_current(contact.pk).values(),
        "media": model_admin.media + form.media,
    }
    return TemplateResponse(request, "members/admin/record_consent.html", context)
