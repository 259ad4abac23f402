"""Back office for coordinators: the member directory (Django admin with the Unfold theme)."""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import AutocompleteSelect
from django.db.models import Count, Prefetch
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from import_export.admin import ImportExportModelAdmin
from simple_history.admin import SimpleHistoryAdmin
from unfold.admin import ModelAdmin, TabularInline
from unfold.contrib.filters.admin import (
    ChoicesDropdownFilter,
    RelatedDropdownFilter,
)
from unfold.contrib.import_export.forms import ExportForm, ImportForm
from unfold.decorators import action, display
from unfold.widgets import UnfoldAdminSingleDateWidget, UnfoldAdminTextareaWidget

from crm.admin import AccessLoggedExportMixin, ReadOnlyAdminMixin
from crm.exceptions import ApplicationError
from meetings.models import FocalPointSuccession
from meetings.services import succession as succession_services
from members import services
from members import timeline as timeline_selectors
from members.erasure import contact_erase, contact_erasure_preview
from members.forms import ContactAdminForm, EraseForm, MergeForm, StatusChangeForm
from members.models import Affiliation, Contact, ContactMerge, MembershipChange, Organization
from members.privacy.admin import consent_history_panel, consent_summary, record_consent_view
from members.resources import ContactResource, OrganizationResource
from members.selectors import (
    contact_erasure_candidates,
    contact_possible_duplicates,
    current_focal_point,
)
from members.subject_access import subject_access_filename
from members.subject_access.page import page_language
from members.subject_access.services import HTML, JSON, subject_access_produce

TIMELINE_PAGE = timeline_selectors.DEFAULT_LIMIT

STATUS_COLOURS = {
    Organization.Status.PROSPECTIVE: "info",
    Organization.Status.INVITED: "warning",
    Organization.Status.ACTIVE: "success",
    Organization.Status.SUSPENDED: "danger",
    Organization.Status.WITHDRAWN: "",
}


def _adopt(obj, saved) -> None:
    """Make the admin's unsaved instance the object a service created, so that the rest of the
    admin's flow (related objects, the log, the redirect) uses the saved row."""
    obj.__dict__.update(saved.__dict__)


class AffiliationInlineFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        today = timezone.localdate()
        focal_points = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE"):
                continue
            end = data.get("end_date")
            start = data.get("start_date")
            current = (start is None or start <= today) and (end is None or end > today)
            role = data.get("role")
            owner = data.get("organization") or data.get("contact")
            if role == Affiliation.Role.FOCAL_POINT and current:
                focal_points.append((owner, form))
        seen = {}
        for owner, form in focal_points:
            key = getattr(owner, "pk", owner)
            if isinstance(self.instance, Organization) and key in seen:
                form.add_error("role", _("Only one current focal point per organisation."))
            seen[key] = form
        # Compare with focal points held outside this formset (another contact's row).
        for owner, form in focal_points:
            organization = owner if isinstance(owner, Organization) else self.instance
            if not isinstance(organization, Organization):
                continue
            others = Affiliation.objects.current().filter(
                organization=organization, role=Affiliation.Role.FOCAL_POINT
            )
            in_formset = [f.instance.pk for f in self.forms if f.instance.pk]
            clash = others.exclude(pk__in=in_formset).select_related("contact").first()
            if clash:
                form.add_error(
                    "role",
                    _("%(org)s already has a current focal point: %(name)s. End that role first.")
                    % {"org": organization, "name": clash.contact.full_name},
                )


class AffiliationInline(TabularInline):
    model = Affiliation
    formset = AffiliationInlineFormSet
    extra = 0
    autocomplete_fields = ["contact"]
    fields = ("contact", "role", "job_title", "start_date", "end_date")
    ordering = ["end_date", "role"]
    tab = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("contact", "organization")


class ContactAffiliationInline(AffiliationInline):
    autocomplete_fields = ["organization"]
    fields = ("organization", "role", "job_title", "start_date", "end_date")


class MembershipChangeInline(TabularInline):
    model = MembershipChange
    extra = 0
    can_delete = False
    fields = ("effective_date", "from_status", "to_status", "reason", "changed_by", "created_at")
    readonly_fields = fields
    verbose_name_plural = _("Membership history")
    tab = True

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("changed_by")


class AffiliationSaveMixin:
    """Inline affiliations are saved through the services, so the focal-point rule and the
    history entry are the same as everywhere else."""

    def save_formset(self, request, form, formset, change):
        if formset.model is not Affiliation:
            return super().save_formset(request, form, formset, change)
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            obj._history_user = request.user
            obj.delete()
        for obj in instances:
            values = {
                "role": obj.role,
                "job_title": obj.job_title,
                "start_date": obj.start_date,
                "end_date": obj.end_date,
            }
            try:
                if obj.pk:
                    services.affiliation_update(affiliation=obj, acting_user=request.user, **values)
                else:
                    services.affiliation_create(
                        contact=obj.contact,
                        organization=obj.organization,
                        acting_user=request.user,
                        **values,
                    )
            except ApplicationError as exc:
                messages.error(request, str(exc))
        formset.save_m2m()


class SuccessionForm(forms.Form):
    successor = forms.ModelChoiceField(
        label=_("Successor"),
        queryset=Contact.objects.all(),
        widget=AutocompleteSelect(FocalPointSuccession._meta.get_field("successor"), admin.site),
        help_text=_("Any contact in the directory, whether or not they work there yet."),
    )
    end_date = forms.DateField(
        label=_("Hand-over date"),
        initial=timezone.localdate,
        widget=UnfoldAdminSingleDateWidget,
        help_text=_("The departing focal point's role ends and the successor's begins that day."),
    )
    notes = forms.CharField(
        label=_("Notes"),
        required=False,
        widget=UnfoldAdminTextareaWidget(attrs={"rows": 3}),
    )


@admin.register(Organization)
class OrganizationAdmin(
    AffiliationSaveMixin,
    SimpleHistoryAdmin,
    AccessLoggedExportMixin,
    ImportExportModelAdmin,
    ModelAdmin,
):
    resource_classes = [OrganizationResource]
    import_form_class = ImportForm
    export_form_class = ExportForm
    list_display = (
        "name",
        "acronym",
        "display_kind",
        "country",
        "display_status",
        "takes_part_in_aect",
        "display_focal_point",
        "member_since",
    )
    list_filter = (
        ("status", ChoicesDropdownFilter),
        ("kind", ChoicesDropdownFilter),
        "country",
        ("focus_areas", RelatedDropdownFilter),
        "takes_part_in_aect",
    )
    list_filter_submit = True
    search_fields = (
        "name",
        "acronym",
        "affiliations__contact__given_name",
        "affiliations__contact__family_name",
        "affiliations__contact__email",
    )
    search_help_text = _("Name, acronym, or the name or e-mail of someone who works there.")
    list_per_page = 50
    readonly_fields = ("status", "member_since", "left_on", "created_at", "updated_at")
    filter_horizontal = ("focus_areas",)
    fieldsets = (
        (None, {"fields": ("name", "acronym", "kind", "country", "website", "description")}),
        (_("Alliance"), {"fields": ("takes_part_in_aect", "focus_areas")}),
        (
            _("Membership"),
            {"fields": ("status", "member_since", "left_on", "created_at", "updated_at")},
        ),
    )
    inlines = [AffiliationInline, MembershipChangeInline]
    actions = ["change_status"]
    actions_detail = ["timeline", "hand_over"]
    history_list_display = ["status"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .prefetch_related(
                Prefetch(
                    "affiliations",
                    queryset=Affiliation.objects.current()
                    .filter(role=Affiliation.Role.FOCAL_POINT)
                    .select_related("contact"),
                    to_attr="current_focal_points",
                )
            )
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ("member_since", "left_on", "created_at", "updated_at")
        return self.readonly_fields

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return (
                self.fieldsets[0],
                self.fieldsets[1],
                (_("Membership"), {"fields": ("status",)}),
            )
        return self.fieldsets

    @display(description=_("kind"), ordering="kind")
    def display_kind(self, obj):
        return obj.get_kind_display()

    @display(description=_("status"), ordering="status", label=STATUS_COLOURS)
    def display_status(self, obj):
        return obj.status, obj.get_status_display()

    @display(description=_("focal point"))
    def display_focal_point(self, obj):
        people = getattr(obj, "current_focal_points", [])
        if not people:
            return "—"
        contact = people[0].contact
        url = reverse("admin:members_contact_change", args=[contact.pk])
        return format_html('<a href="{}">{}</a>', url, contact.full_name)

    def save_model(self, request, obj, form, change):
        data = {
            f: form.cleaned_data[f] for f in services.ORGANIZATION_FIELDS if f in form.cleaned_data
        }
        if change:
            services.organization_update(organization=obj, acting_user=request.user, **data)
        else:
            data.pop("name")
            data.pop("kind")
            created = services.organization_create(
                name=form.cleaned_data["name"],
                kind=form.cleaned_data["kind"],
                status=form.cleaned_data.get("status") or Organization.Status.PROSPECTIVE,
                acting_user=request.user,
                **data,
            )
            _adopt(obj, created)

    @admin.action(description=_("Change membership status…"), permissions=["change"])
    def change_status(self, request, queryset):
        if "apply" in request.POST:
            form = StatusChangeForm(request.POST)
            if form.is_valid():
                done = 0
                for organization in queryset:
                    try:
                        services.organization_change_status(
                            organization=organization,
                            to_status=form.cleaned_data["to_status"],
                            reason=form.cleaned_data["reason"],
                            effective_date=form.cleaned_data["effective_date"],
                            acting_user=request.user,
                        )
                        done += 1
                    except ApplicationError as exc:
                        messages.error(request, str(exc))
                if done:
                    messages.success(
                        request,
                        ngettext(
                            "Status changed for %d organisation.",
                            "Status changed for %d organisations.",
                            done,
                        )
                        % done,
                    )
                return None
        else:
            form = StatusChangeForm()
        context = {
            **self.admin_site.each_context(request),
            "title": _("Change membership status"),
            "form": form,
            "organizations": queryset,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "members/admin/change_status.html", context)

    # --- The organisation's own pages -------------------------------------------------------

    def _organization_or_404(self, request, object_id) -> Organization:
        organization = self.get_object(request, unquote(str(object_id)))
        if organization is None:
            raise Http404
        return organization

    def _page_context(self, request, organization: Organization, title: str, **extra) -> dict:
        return {
            **self.admin_site.each_context(request),
            "title": title,
            "subtitle": str(organization),
            "opts": self.model._meta,
            "original": organization,
            "organization": organization,
            "change_url": reverse("admin:members_organization_change", args=[organization.pk]),
            **extra,
        }

    @action(
        description=_("Timeline"),
        url_path="timeline",
        icon="timeline",
        permissions=["view"],
    )
    def timeline(self, request, object_id):
        """Everything that happened with the organisation, newest first, filtered by kind
        (``?kind=…`` repeated) and shown ``TIMELINE_PAGE`` more at a time (``?limit=…``)."""
        organization = self._organization_or_404(request, object_id)
        kinds = [k for k in request.GET.getlist("kind") if k in timeline_selectors.Kind.values]
        try:
            limit = int(request.GET.get("limit", TIMELINE_PAGE))
        except ValueError:
            limit = TIMELINE_PAGE
        limit = max(TIMELINE_PAGE, min(limit, timeline_selectors.MAX_LIMIT))
        # One more than shown tells whether there is more.
        entries = timeline_selectors.organization_timeline(
            organization, kinds=kinds, user=request.user, limit=limit + 1
        )
        has_more = len(entries) > limit and limit < timeline_selectors.MAX_LIMIT
        more_url = "?" + urlencode(
            [("kind", k) for k in kinds] + [("limit", limit + TIMELINE_PAGE)]
        )
        focal_points = getattr(organization, "current_focal_points", [])
        context = self._page_context(
            request,
            organization,
            _("Timeline: %(org)s") % {"org": organization},
            entries=entries[:limit],
            kinds=[
                (value, label, value in kinds) for value, label in timeline_selectors.Kind.choices
            ],
            filtered=bool(kinds),
            has_more=has_more,
            more_url=more_url,
            focal_point=focal_points[0] if focal_points else None,
        )
        return TemplateResponse(request, "members/admin/timeline.html", context)

    # Named permission methods, not dotted strings: Unfold's system check looks dotted ones up
    # in the database, which breaks ``migrate`` on a fresh one.
    def has_hand_over_permission(self, request, obj=None) -> bool:
        return self.has_change_permission(request, obj) and request.user.has_perms(
            [
                "members.add_affiliation",
                "members.change_affiliation",
                "meetings.change_invitation",
                "meetings.change_followup",
            ]
        )

    @action(
        description=_("Hand over the focal-point role…"),
        url_path="succession",
        icon="swap_horiz",
        permissions=["hand_over"],
    )
    def hand_over(self, request, object_id):
        """Name the successor of the departing focal point in one step
        (``meetings.services.succession.focal_point_succession``)."""
        organization = self._organization_or_404(request, object_id)
        departing = current_focal_point(organization)
        change_url = reverse("admin:members_organization_change", args=[organization.pk])
        if departing is None:
            messages.error(
                request,
                _(
                    "%(org)s has no current focal point to hand over from. "
                    "Name the focal point on the organisation's page instead."
                )
                % {"org": organization},
            )
            return HttpResponseRedirect(change_url)
        form = SuccessionForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                record = succession_services.focal_point_succession(
                    organization=organization,
                    successor=form.cleaned_data["successor"],
                    end_date=form.cleaned_data["end_date"],
                    notes=form.cleaned_data["notes"],
                    departing_affiliation=departing,
                    acting_user=request.user,
                )
            except ApplicationError as exc:
                field = exc.field if exc.field in form.fields else None
                form.add_error(field, str(exc))
            else:
                messages.success(
                    request,
                    _(
                        "%(successor)s is now the focal point of %(org)s. %(invitations)s, "
                        "%(followups)s."
                    )
                    % {
                        "successor": record.successor.full_name,
                        "org": organization,
                        "invitations": ngettext(
                            "%(n)d invitation moved",
                            "%(n)d invitations moved",
                            record.invitations_moved,
                        )
                        % {"n": record.invitations_moved},
                        "followups": ngettext(
                            "%(n)d follow-up moved",
                            "%(n)d follow-ups moved",
                            record.followups_moved,
                        )
                        % {"n": record.followups_moved},
                    },
                )
                for remark in record.remarks:
                    messages.warning(request, remark)
                return HttpResponseRedirect(
                    reverse("admin:members_organization_timeline", args=[organization.pk])
                )
        context = self._page_context(
            request,
            organization,
            _("Hand over the focal-point role: %(org)s") % {"org": organization},
            form=form,
            departing=departing,
            media=self.media + form.media,
        )
        return TemplateResponse(request, "members/admin/succession.html", context)


class ErasureFilter(admin.SimpleListFilter):
    """Retention: contacts without a current role and without activity for
    ``RETENTION_INACTIVE_CONTACT_YEARS``, for a coordinator to erase; and the erased ones."""

    title = _("erasure")
    parameter_name = "erasure"

    def lookups(self, request, model_admin):
        return [("candidates", _("Erasure candidates")), ("erased", _("Erased"))]

    def queryset(self, request, queryset):
        if self.value() == "candidates":
            return queryset.filter(pk__in=contact_erasure_candidates().values("pk"))
        if self.value() == "erased":
            return queryset.filter(erased_at__isnull=False)
        return queryset


@admin.register(Contact)
class ContactAdmin(
    AffiliationSaveMixin,
    SimpleHistoryAdmin,
    AccessLoggedExportMixin,
    ImportExportModelAdmin,
    ModelAdmin,
):
    form = ContactAdminForm

    def has_export_permission(self, request) -> bool:
        # People's names, addresses and phones leave the system: coordinators, not viewers.
        return request.user.has_perm("members.change_contact")

    resource_classes = [ContactResource]
    import_form_class = ImportForm
    export_form_class = ExportForm
    list_display = (
        "family_name",
        "given_name",
        "email",
        "display_organizations",
        "preferred_language",
        "display_opt_out",
        "display_erased",
    )
    list_display_links = ("family_name", "given_name")
    list_filter = (
        ("affiliations__role", ChoicesDropdownFilter),
        ("preferred_language", ChoicesDropdownFilter),
        ("affiliations__organization", RelatedDropdownFilter),
        ErasureFilter,
    )
    list_filter_submit = True
    search_fields = (
        "given_name",
        "family_name",
        "email",
        "affiliations__organization__name",
        "affiliations__organization__acronym",
    )
    search_help_text = _("Name, e-mail, or organisation name or acronym.")
    list_per_page = 50
    readonly_fields = (
        "mail_opt_out_at",
        "erased_at",
        "display_consent",
        "display_consent_history",
        "possible_duplicates",
        "created_at",
        "updated_at",
    )
    fieldsets = (
        (None, {"fields": ("salutation", "given_name", "family_name", "email", "phone")}),
        (
            _("Communication"),
            {"fields": ("preferred_language", "time_zone", "opted_out", "mail_opt_out_at")},
        ),
        (_("Consent"), {"fields": ("display_consent", "display_consent_history")}),
        (
            _("Notes"),
            {"fields": ("notes", "possible_duplicates", "erased_at", "created_at", "updated_at")},
        ),
    )
    inlines = [ContactAffiliationInline]
    actions = ["merge_contacts", "erase_personal_data"]
    actions_detail = ["subject_access", "record_consent"]

    def has_change_permission(self, request, obj=None):
        # An erased contact is a placeholder kept for the counts: nothing to edit.
        if obj is not None and obj.is_erased:
            return False
        return super().has_change_permission(request, obj)

    def has_erase_permission(self, request) -> bool:
        return request.user.has_perm("members.erase_contact")

    @display(description=_("current consent"))
    def display_consent(self, obj):
        return consent_summary(obj)

    @display(description=_("consent history"))
    def display_consent_history(self, obj):
        return consent_history_panel(obj)

    def has_record_consent_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("members.add_consentrecord")

    @action(
        description=_("Record consent…"),
        url_path="consent",
        icon="verified_user",
        permissions=["record_consent"],
    )
    def record_consent(self, request, object_id):
        """Record a consent given or withdrawn in person, by phone or by e-mail
        (``members.privacy.services.consent_record``)."""
        contact = self.get_object(request, unquote(str(object_id)))
        if contact is None:
            raise Http404
        return record_consent_view(self, request, contact)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .prefetch_related(
                Prefetch(
                    "affiliations",
                    queryset=Affiliation.objects.current().select_related("organization"),
                    to_attr="current_affiliations",
                )
            )
        )

    @display(description=_("organisations"))
    def display_organizations(self, obj):
        affiliations = getattr(obj, "current_affiliations", [])
        return (
            format_html_join(
                ", ",
                "{} ({})",
                (
                    (a.organization.acronym or a.organization.name, a.get_role_display())
                    for a in affiliations
                ),
            )
            or "—"
        )

    @display(description=_("opted out"), boolean=True)
    def display_opt_out(self, obj):
        return obj.has_opted_out

    @display(description=_("erased"), boolean=True)
    def display_erased(self, obj):
        return obj.is_erased

    @display(description=_("possible duplicates"))
    def possible_duplicates(self, obj):
        if not obj.pk:
            return "—"
        others = contact_possible_duplicates(
            given_name=obj.given_name,
            family_name=obj.family_name,
            organization_ids=list(obj.affiliations.values_list("organization_id", flat=True)),
            exclude_pk=obj.pk,
        )
        if not others:
            return _("None found")
        return format_html_join(
            ", ",
            '<a href="{}">{} &lt;{}&gt;</a>',
            (
                (reverse("admin:members_contact_change", args=[c.pk]), c.full_name, c.email)
                for c in others
            ),
        )

    def save_model(self, request, obj, form, change):
        data = {f: form.cleaned_data[f] for f in services.CONTACT_FIELDS if f in form.cleaned_data}
        if change:
            services.contact_update(contact=obj, acting_user=request.user, **data)
        else:
            created = services.contact_create(acting_user=request.user, **data)
            _adopt(obj, created)
        if form.cleaned_data.get("opted_out") != obj.has_opted_out:
            services.contact_set_mail_opt_out(
                contact=obj, opted_out=form.cleaned_data["opted_out"], acting_user=request.user
            )

    def response_change(self, request, obj):
        self._warn_duplicates(request, obj)
        return super().response_change(request, obj)

    def response_add(self, request, obj, post_url_continue=None):
        self._warn_duplicates(request, obj)
        return super().response_add(request, obj, post_url_continue)

    def _warn_duplicates(self, request, obj):
        others = contact_possible_duplicates(
            given_name=obj.given_name,
            family_name=obj.family_name,
            organization_ids=list(obj.affiliations.values_list("organization_id", flat=True)),
            exclude_pk=obj.pk,
        )
        if others:
            messages.warning(
                request,
                _("%(name)s may be the same person as: %(others)s. Merge them if so.")
                % {
                    "name": obj.full_name,
                    "others": ", ".join(f"{c.full_name} <{c.email}>" for c in others),
                },
            )

    # --- Subject-access export ------------------------------------------------------------

    def has_subject_access_permission(self, request, obj=None) -> bool:
        # Everything held about a person leaves the system: coordinators and administrators.
        return request.user.has_perm("members.export_subject_access")

    @action(
        description=_("Subject-access export"),
        url_path="subject-access",
        icon="person_search",
        permissions=["subject_access"],
    )
    def subject_access(self, request, object_id):
        """The page offering the export; ``?as=html`` shows the readable page (in
        ``?language=…``, else the contact's language), ``?as=json`` downloads the file.
        Each of the two is recorded in the access log."""
        contact = self.get_object(request, unquote(str(object_id)))
        if contact is None:
            raise Http404
        output = request.GET.get("as")
        if output in (HTML, JSON):
            content = subject_access_produce(
                contact=contact,
                output=output,
                channel="back office",
                include_restricted=request.user.has_perm(timeline_selectors.VIEW_RESTRICTED),
                acting_user=request.user,
                language=request.GET.get("language"),
            )
            if output == HTML:
                return HttpResponse(content, content_type="text/html; charset=utf-8")
            response = HttpResponse(content, content_type="application/json; charset=utf-8")
            filename = subject_access_filename(contact, "json")
            response["Content-Disposition"] = f'attachment; filename="{filename}"'
            return response
        base = reverse("admin:members_contact_subject_access", args=[contact.pk])
        context = {
            **self.admin_site.each_context(request),
            "title": _("Subject-access export"),
            "subtitle": str(contact),
            "opts": self.model._meta,
            "original": contact,
            "contact": contact,
            "change_url": reverse("admin:members_contact_change", args=[contact.pk]),
            "json_url": f"{base}?{urlencode({'as': JSON})}",
            "html_base": base,
            "default_language": page_language(contact),
            "languages": [
                (code, name) for code, name in settings.LANGUAGES if code in settings.MAIL_LANGUAGES
            ],
        }
        return TemplateResponse(request, "members/admin/subject_access.html", context)

    @admin.action(description=_("Merge two contacts…"), permissions=["change"])
    def merge_contacts(self, request, queryset):
        contacts = queryset.annotate(n_affiliations=Count("affiliations"))
        if contacts.count() != 2:
            messages.error(request, _("Select exactly two contacts to merge."))
            return None
        if "apply" in request.POST:
            form = MergeForm(request.POST, contacts=contacts)
            if form.is_valid():
                target = form.cleaned_data["keep"]
                source = contacts.exclude(pk=target.pk).get()
                try:
                    services.contact_merge(source=source, target=target, acting_user=request.user)
                except ApplicationError as exc:
                    messages.error(request, str(exc))
                else:
                    messages.success(
                        request,
                        _("%(source)s was merged into %(target)s.")
                        % {"source": source.full_name, "target": target.full_name},
                    )
                return None
        else:
            form = MergeForm(contacts=contacts)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Merge two contacts"),
            "form": form,
            "contacts": contacts,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "members/admin/merge_contacts.html", context)

    @admin.action(description=_("Erase personal data…"), permissions=["erase"])
    def erase_personal_data(self, request, queryset):
        """One contact at a time, after a confirmation page saying what goes; cannot be
        undone."""
        if queryset.count() != 1:
            messages.error(request, _("Select exactly one contact to erase."))
            return None
        contact = queryset.get()
        if contact.is_erased:
            messages.error(request, _("This contact's personal data has already been erased."))
            return None
        if "apply" in request.POST:
            form = EraseForm(request.POST, contact=contact)
            if form.is_valid():
                try:
                    contact_erase(
                        contact=contact,
                        acting_user=request.user,
                        reason=form.cleaned_data["reason"],
                    )
                except ApplicationError as exc:
                    messages.error(request, str(exc))
                else:
                    messages.success(
                        request,
                        _("The personal data of contact #%(id)s was erased.") % {"id": contact.pk},
                    )
                return None
        else:
            form = EraseForm(contact=contact)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Erase personal data"),
            "form": form,
            "contact": contact,
            "preview": contact_erasure_preview(contact),
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "members/admin/erase_contact.html", context)


@admin.register(ContactMerge)
class ContactMergeAdmin(ModelAdmin):
    list_display = ("source_name", "source_email", "target", "merged_by", "merged_at")
    search_fields = ("source_name", "source_email", "target__family_name")
    readonly_fields = (
        "target",
        "source_id_value",
        "source_name",
        "source_email",
        "moved",
        "merged_by",
        "merged_at",
    )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(MembershipChange)
class MembershipChangeAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = ("organization", "from_status", "to_status", "effective_date", "changed_by")
    list_filter = (("to_status", ChoicesDropdownFilter),)
    search_fields = ("organization__name", "organization__acronym", "reason")
    list_select_related = ("organization", "changed_by")
    date_hierarchy = "effective_date"
