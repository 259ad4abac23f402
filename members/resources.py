"""CSV / Excel import and export of the directory (django-import-export).

Imports are previewed first; a row that breaks a rule is reported with its line number and the
reason, and the whole file is refused while any row is bad. Exports neutralise cells that a
spreadsheet would run as a formula.
"""

from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _
from import_export import fields, resources, widgets

from crm.exceptions import ApplicationError
from members.models import Affiliation, Contact, FocusArea, MembershipChange, Organization
from members.services import (
    ALLOWED_TRANSITIONS,
    _check_organization_name,
    affiliation_create,
    normalize_email,
    organization_change_status,
)

# OWASP "CSV injection": a cell starting with one of these is run as a formula by spreadsheets.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralize(value):
    # A value that itself starts with a quote gets one more, so that import can undo exactly.
    if isinstance(value, str) and value.startswith((*FORMULA_TRIGGERS, "'")):
        return "'" + value
    return value


def unneutralize(value):
    """Undo :func:`neutralize`, so that an exported file imports back unchanged."""
    if (
        isinstance(value, str)
        and value.startswith("'")
        and value[1:].startswith((*FORMULA_TRIGGERS, "'"))
    ):
        return value[1:]
    return value


class SafeResource(resources.ModelResource):
    def import_data(self, dataset, **kwargs):
        # A file with any bad row saves nothing, also at the confirm step.
        kwargs["rollback_on_validation_errors"] = True
        return super().import_data(dataset, **kwargs)

    def export_field(self, field, instance, **kwargs):
        return neutralize(super().export_field(field, instance, **kwargs))

    def before_import_row(self, row, **kwargs):
        for key, value in list(row.items()):
            row[key] = unneutralize(value.strip() if isinstance(value, str) else value)


class ChoiceWidget(widgets.Widget):
    """Accepts a choice by its code or by its English label; exports the code."""

    def __init__(self, choices, **kwargs):
        super().__init__(**kwargs)
        self.by_key = {str(k).lower(): k for k, _label in choices}
        self.by_key.update({str(label).lower(): k for k, label in choices})
        self.codes = [k for k, _label in choices]

    def clean(self, value, row=None, **kwargs):
        if value in (None, ""):
            return ""
        try:
            return self.by_key[str(value).strip().lower()]
        except KeyError:
            raise ValueError(
                _("“%(value)s” is not one of: %(codes)s")
                % {"value": value, "codes": ", ".join(self.codes)}
            ) from None


class FocusAreasWidget(widgets.ManyToManyWidget):
    def __init__(self, **kwargs):
        super().__init__(FocusArea, field="code", separator=",", **kwargs)

    def clean(self, value, row=None, **kwargs):
        codes = [c.strip() for c in str(value or "").split(",") if c.strip()]
        found = list(FocusArea.objects.filter(code__in=codes))
        unknown = set(codes) - {f.code for f in found}
        if unknown:
            raise ValueError(_("Unknown focus areas: %s") % ", ".join(sorted(unknown)))
        return found


class OrganizationResource(SafeResource):
    kind = fields.Field(
        "kind", "kind", widget=ChoiceWidget(Organization.Kind.choices), saves_null_values=False
    )
    status = fields.Field(
        "status",
        "status",
        widget=ChoiceWidget(Organization.Status.choices),
        saves_null_values=False,
    )
    focus_areas = fields.Field("focus_areas", "focus_areas", widget=FocusAreasWidget())

    class Meta:
        model = Organization
        import_id_fields = ("name",)
        fields = (
            "name",
            "acronym",
            "kind",
            "country",
            "website",
            "description",
            "focus_areas",
            "takes_part_in_aect",
            "status",
            "member_since",
            "left_on",
        )
        export_order = fields
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True

    def get_queryset(self):
        return Organization.objects.prefetch_related("focus_areas")

    def import_instance(self, instance, row, **kwargs):
        errors = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        if "focus_areas" in row:
            try:
                self.fields["focus_areas"].widget.clean(row["focus_areas"])
            except ValueError as exc:
                errors["focus_areas"] = [str(exc)]
        if errors:
            raise ValidationError(errors)

    def skip_row(self, instance, original, row, import_validation_errors=None):
        wanted = getattr(instance, "_imported_status", None)
        if instance.pk and wanted and wanted != instance.status:
            return False
        return super().skip_row(instance, original, row, import_validation_errors)

    def get_instance(self, instance_loader, row):
        name = (row.get("name") or "").strip()
        return Organization.objects.filter(name__iexact=name).first() if name else None

    def import_field(self, field, instance, row, is_m2m=False, **kwargs):
        if field.attribute == "status":
            # The status is not written directly: save_instance moves it through the service.
            wanted = field.clean(row, **kwargs)
            if not wanted and instance.pk is not None:
                return  # a blank cell leaves an existing organisation's status alone
            instance._imported_status = wanted or Organization.Status.PROSPECTIVE
            if instance.pk is None:
                instance.status = instance._imported_status
            return
        if field.attribute in ("member_since", "left_on"):
            return  # derived from the membership history
        super().import_field(field, instance, row, is_m2m=is_m2m, **kwargs)

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        errors = dict(import_validation_errors or {})
        if instance.pk:
            # Rows match names ignoring case; a row must not rename an organisation by the way.
            stored = Organization.objects.values_list("name", flat=True).get(pk=instance.pk)
            if stored != instance.name:
                errors["name"] = [
                    _(
                        "An organisation named “%(name)s” already exists; "
                        "use its exact name to update it."
                    )
                    % {"name": stored}
                ]
        wanted = getattr(instance, "_imported_status", None)
        if instance.pk and wanted and wanted != instance.status:
            current = Organization.objects.values_list("status", flat=True).get(pk=instance.pk)
            if wanted != current and wanted not in ALLOWED_TRANSITIONS[current]:
                errors["status"] = [
                    _("cannot go from %(from)s to %(to)s") % {"from": current, "to": wanted}
                ]
            instance.status = current
        if "name" not in errors:
            try:
                _check_organization_name(instance)
            except ApplicationError as exc:
                errors["name"] = [str(exc)]
        super().validate_instance(instance, errors, validate_unique)

    def save_instance(self, instance, is_create, row, **kwargs):
        wanted = getattr(instance, "_imported_status", None)
        user = kwargs.get("user")
        instance._history_user = user
        today = timezone.localdate()
        if is_create and instance.status == Organization.Status.ACTIVE:
            instance.member_since = today
        super().save_instance(instance, is_create, row, **kwargs)
        if is_create:
            MembershipChange.objects.create(
                organization=instance,
                from_status="",
                to_status=instance.status,
                effective_date=today,
                reason=_("Imported"),
                changed_by=user if getattr(user, "pk", None) else None,
            )
        elif wanted and wanted != instance.status:
            organization_change_status(
                organization=instance,
                to_status=wanted,
                reason=_("Imported"),
                acting_user=user,
            )


class ContactResource(SafeResource):
    """One row per contact; ``organization`` and ``role`` add a current affiliation if the
    contact does not hold that role there yet."""

    email = fields.Field("email", "email")
    preferred_language = fields.Field(
        "preferred_language",
        "preferred_language",
        widget=ChoiceWidget(Contact.Language.choices),
        saves_null_values=False,
    )
    organization = fields.Field(column_name="organization", readonly=False)
    role = fields.Field(column_name="role", readonly=False)
    job_title = fields.Field(column_name="job_title", readonly=False)

    class Meta:
        model = Contact
        import_id_fields = ("email",)
        fields = (
            "salutation",
            "given_name",
            "family_name",
            "email",
            "phone",
            "preferred_language",
            "time_zone",
            "organization",
            "role",
            "job_title",
            "notes",
        )
        export_order = fields
        skip_unchanged = False
        clean_model_instances = True

    role_widget = ChoiceWidget(Affiliation.Role.choices)

    def get_queryset(self):
        return Contact.objects.prefetch_related(
            Prefetch(
                "affiliations",
                queryset=Affiliation.objects.current().select_related("organization"),
                to_attr="current_affiliations",
            )
        )

    def _first_affiliation(self, contact):
        current = getattr(contact, "current_affiliations", None)
        if current is None:
            current = list(contact.affiliations.current().select_related("organization"))
        return current[0] if current else None

    def dehydrate_organization(self, contact):
        affiliation = self._first_affiliation(contact)
        return affiliation.organization.name if affiliation else ""

    def dehydrate_role(self, contact):
        affiliation = self._first_affiliation(contact)
        return affiliation.role if affiliation else ""

    def dehydrate_job_title(self, contact):
        affiliation = self._first_affiliation(contact)
        return affiliation.job_title if affiliation else ""

    def get_instance(self, instance_loader, row):
        email = normalize_email(row.get("email"))
        return Contact.objects.filter(email__iexact=email).first() if email else None

    def before_import_row(self, row, **kwargs):
        super().before_import_row(row, **kwargs)
        row["email"] = normalize_email(row.get("email"))

    def import_field(self, field, instance, row, is_m2m=False, **kwargs):
        if field.column_name in ("organization", "role", "job_title"):
            return
        super().import_field(field, instance, row, is_m2m=is_m2m, **kwargs)

    def import_instance(self, instance, row, **kwargs):
        super().import_instance(instance, row, **kwargs)
        org_name = (row.get("organization") or "").strip()
        role = row.get("role") or ""
        instance._import_affiliation = None
        if org_name:
            organization = Organization.objects.filter(name__iexact=org_name).first()
            if organization is None:
                organization = Organization.objects.filter(acronym__iexact=org_name).first()
            if organization is None:
                raise ValidationError({"organization": _("Unknown organisation “%s”.") % org_name})
            try:
                role = self.role_widget.clean(role) or Affiliation.Role.OTHER
            except ValueError as exc:
                raise ValidationError({"role": str(exc)}) from None
            instance._import_affiliation = (organization, role, row.get("job_title") or "")

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        errors = dict(import_validation_errors or {})
        if not instance.email:
            errors.setdefault("email", []).append(_("An e-mail address is required to import."))
        wanted = getattr(instance, "_import_affiliation", None)
        if wanted and wanted[1] == Affiliation.Role.FOCAL_POINT:
            from members.selectors import current_focal_point

            existing = current_focal_point(wanted[0])
            if existing and existing.contact_id != instance.pk:
                errors.setdefault("role", []).append(
                    _("%(org)s already has a current focal point: %(name)s.")
                    % {"org": wanted[0], "name": existing.contact.full_name}
                )
        super().validate_instance(instance, errors, validate_unique)

    def save_instance(self, instance, is_create, row, **kwargs):
        instance._history_user = kwargs.get("user")
        super().save_instance(instance, is_create, row, **kwargs)
        wanted = getattr(instance, "_import_affiliation", None)
        if not wanted or instance.pk is None:
            return
        organization, role, job_title = wanted
        held = instance.affiliations.current().filter(organization=organization, role=role)
        if not held.exists():
            affiliation_create(
                contact=instance,
                organization=organization,
                role=role,
                job_title=job_title,
                acting_user=kwargs.get("user"),
            )
