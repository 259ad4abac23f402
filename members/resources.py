"""CSV / Excel import and export of the directory (django-import-export).

Imports are previewed first; a row that breaks a rule is reported with its line number and the
reason, and the whole file is refused while any row is bad. Exports neutralise cells that a
spreadsheet would run as a formula.
"""

import copy

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import Prefetch, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.translation import gettext as _
from import_export import fields, resources, widgets

from crm.exceptions import ApplicationError
from members.models import Affiliation, Contact, FocusArea, MembershipChange, Organization
from members.services import (
    ALLOWED_TRANSITIONS,
    _check_organization_name,
    contact_import_save,
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
            row[key] = clean_cell(value)


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
    contact does not hold that role there yet.

    A file is imported in bulk. Before the first row, the contacts the file names (by e-mail,
    with their current roles), its organisations and their current focal points are read in a
    few queries; each row is then matched and validated in Python against them and against the
    rows before it — the e-mail's uniqueness, the focal-point rule — and the whole file is
    written at the end by :func:`members.services.contact_import_save` (bulk inserts, history
    rows, webhooks). Nothing is written row by row, so no savepoint per row is needed: a bad
    row is reported by its line and refuses the file as before."""

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
        # No savepoint per row; the rows are saved by bulk_create() below, in batches of this.
        use_bulk = True
        batch_size = 1000

    role_widget = ChoiceWidget(Affiliation.Role.choices)
    # Look-ups of many values at once are split in chunks of this many (PostgreSQL reads the
    # unique e-mail index for a thousand; for five thousand it scanned the whole table).
    LOOKUP_CHUNK = 1000

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

    # --- Before the first row: what the file refers to, read at once -------------------------

    def import_data_inner(
        self, dataset, dry_run, raise_errors, using_transactions, collect_failed_rows, **kwargs
    ):
        # As django-import-export's own bulk mode: a dry run writes (to be rolled back) only
        # inside a transaction.
        self._writes = bool(using_transactions or not dry_run)
        self._acting_user = kwargs.get("user")
        # The diff of each row is shown by the preview (a dry run) only; an import that saves
        # (the confirm step) reports counts. This resource's own copy of the options, since
        # Meta's is shared by every instance.
        self._meta = copy.copy(type(self)._meta)
        self._meta.skip_diff = not dry_run
        self._row_fields = None  # see import_instance
        return super().import_data_inner(
            dataset, dry_run, raise_errors, using_transactions, collect_failed_rows, **kwargs
        )

    def before_import(self, dataset, **kwargs):
        super().before_import(dataset, **kwargs)
        self._contacts: dict[str, Contact] = {}  # by e-mail: known, or named by an earlier row
        self._held: dict[str, set[tuple[int, str]]] = {}  # e-mail → current (organisation, role)
        self._focal_points: dict[int, Contact | None] = {}  # organisation → its focal point
        self._organizations: dict[str, Organization | None] = {}  # by lower-cased name/acronym
        self._created: list[Contact] = []
        self._updated: list[Contact] = []
        self._new_roles: list[Affiliation] = []
        self._queued: set[str] = set()  # e-mails of the contacts in the three lists above
        headers = dataset.headers or []
        column = {name: i for i, name in enumerate(headers)}
        # A field the file has no column for holds the model's default (a new contact) or the
        # stored value (an existing one): not validated again, unless it is required.
        imported = {f.attribute for f in self.get_import_fields() if f.column_name in column}
        self._not_validated = [
            f.name
            for f in Contact._meta.concrete_fields
            if f.name not in imported and (f.blank or f.has_default())
        ]

        def cells(name):
            if name not in column:
                return []
            return [clean_cell(row[column[name]]) for row in dataset]

        self._load_contacts({normalize_email(v) for v in cells("email")} - {""})
        self._load_organizations({str(v or "").strip() for v in cells("organization")} - {""})

    def _chunks(self, values):
        values = sorted(values)
        for start in range(0, len(values), self.LOOKUP_CHUNK):
            yield values[start : start + self.LOOKUP_CHUNK]

    def _load_contacts(self, emails: set[str]) -> None:
        for chunk in self._chunks(emails):
            # Matches the unique index on LOWER(email) (which leaves out blank addresses).
            contacts = (
                Contact.objects.alias(email_lower=Lower("email"))
                .filter(email_lower__in=chunk)
                .exclude(email="")
                .order_by()
            )
            by_pk = {contact.pk: contact for contact in contacts}
            for contact in by_pk.values():
                self._contacts[contact.email.lower()] = contact
            if not by_pk:
                continue
            held = (
                Affiliation.objects.current()
                .filter(contact_id__in=list(by_pk))
                .values_list("contact_id", "organization_id", "role")
            )
            for contact_id, organization_id, role in held:
                email = by_pk[contact_id].email.lower()
                self._held.setdefault(email, set()).add((organization_id, role))

    def _load_organizations(self, names: set[str]) -> None:
        keys = {name.lower() for name in names}
        by_acronym: dict[str, Organization] = {}
        found = []
        for chunk in self._chunks(keys):
            found += Organization.objects.alias(
                name_lower=Lower("name"), acronym_lower=Lower("acronym")
            ).filter(Q(name_lower__in=chunk) | Q(acronym_lower__in=chunk))
        # As the look-up one row at a time: by name first, then by acronym (the first by name).
        for organization in sorted(found, key=lambda o: o.name):
            self._organizations[organization.name.lower()] = organization
            if organization.acronym:
                by_acronym.setdefault(organization.acronym.lower(), organization)
        for key, organization in by_acronym.items():
            self._organizations.setdefault(key, organization)
        self._load_focal_points([o.pk for o in found])

    def _load_focal_points(self, organization_ids: list[int]) -> None:
        if not organization_ids:
            return
        for organization_id in organization_ids:
            self._focal_points.setdefault(organization_id, None)
        holders = (
            Affiliation.objects.current()
            .filter(role=Affiliation.Role.FOCAL_POINT, organization_id__in=organization_ids)
            .select_related("contact")
            .order_by("pk")
        )
        for affiliation in holders:
            if self._focal_points[affiliation.organization_id] is None:
                self._focal_points[affiliation.organization_id] = affiliation.contact

    def _organization(self, name: str) -> Organization | None:
        key = name.lower()
        if key not in self._organizations:
            # Not found by Python's lower-casing: ask the database as a row alone would (once).
            organization = Organization.objects.filter(name__iexact=name).first()
            if organization is None:
                organization = Organization.objects.filter(acronym__iexact=name).first()
            self._organizations[key] = organization
            if organization is not None and organization.pk not in self._focal_points:
                self._load_focal_points([organization.pk])
        return self._organizations[key]

    # --- Each row: matched and validated in Python --------------------------------------------

    def get_instance(self, instance_loader, row):
        email = normalize_email(row.get("email"))
        if not email:
            return None
        if email in self._queued:
            # The file names this person again: save what came before, so that this row
            # updates the contact as it stands after the earlier row (one history row each).
            self._flush()
        return self._contacts.get(email)

    def before_import_row(self, row, **kwargs):
        super().before_import_row(row, **kwargs)
        row["email"] = normalize_email(row.get("email"))

    def import_instance(self, instance, row, **kwargs):
        instance._import_affiliation = None  # the instance may be an earlier row's
        # Resource.import_instance, with the fields it would import from this file's columns
        # worked out once per file rather than for every row.
        if self._row_fields is None:
            self._row_fields = [
                f
                for f in self.get_import_fields()
                if f.attribute
                and f.column_name in row
                and f.column_name not in ("organization", "role", "job_title")
                and not isinstance(f.widget, widgets.ManyToManyWidget)
            ]
        errors = {}
        for field in self._row_fields:
            try:
                field.save(instance, row, False, **kwargs)
            except ValueError as exc:
                errors[field.attribute] = ValidationError(force_str(exc), code="invalid")
        if errors:
            raise ValidationError(errors)
        org_name = (row.get("organization") or "").strip()
        role = row.get("role") or ""
        if org_name:
            organization = self._organization(org_name)
            if organization is None:
                raise ValidationError({"organization": _("Unknown organisation “%s”.") % org_name})
            try:
                role = self.role_widget.clean(role) or Affiliation.Role.OTHER
            except ValueError as exc:
                raise ValidationError({"role": str(exc)}) from None
            # The role to add (if the contact does not hold it there yet), validated below.
            instance._import_affiliation = Affiliation(
                organization=organization, role=role, job_title=row.get("job_title") or ""
            )

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        errors = dict(import_validation_errors or {})
        if not instance.email:
            errors.setdefault("email", []).append(_("An e-mail address is required to import."))
        else:
            # The model's unique e-mail (ignoring case), checked against the contacts read
            # before the first row and those of earlier rows instead of a query per row. The
            # other unique field, external_ref, is not imported.
            owner = self._contacts.get(instance.email.lower())
            if owner is not None and not _same_contact(owner, instance):
                errors.setdefault(NON_FIELD_ERRORS, []).append(
                    _("A contact with this e-mail address already exists.")
                )
        affiliation = getattr(instance, "_import_affiliation", None)
        if affiliation is not None:
            holder = self._focal_points.get(affiliation.organization_id)
            if (
                affiliation.role == Affiliation.Role.FOCAL_POINT
                and holder is not None
                and not _same_contact(holder, instance)
            ):
                errors.setdefault("role", []).append(
                    _("%(org)s already has a current focal point: %(name)s.")
                    % {"org": affiliation.organization, "name": holder.full_name}
                )
            try:
                affiliation.full_clean(
                    exclude=["contact", "organization", *errors],
                    validate_unique=False,
                    validate_constraints=False,
                )
            except ValidationError as exc:
                errors = exc.update_error_dict(errors)
        if self._meta.clean_model_instances:
            try:
                # Uniqueness and constraints are checked above, without a query per row.
                instance.full_clean(
                    exclude=[*errors, *self._not_validated],
                    validate_unique=False,
                    validate_constraints=False,
                )
            except ValidationError as exc:
                errors = exc.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def save_instance(self, instance, is_create, row, **kwargs):
        # Queued: written by bulk_create() at the end of the file (or before a row naming the
        # same person again).
        email = instance.email.lower()
        self._contacts[email] = instance
        (self._created if is_create else self._updated).append(instance)
        self._queued.add(email)
        affiliation = getattr(instance, "_import_affiliation", None)
        if affiliation is None:
            return
        held = self._held.setdefault(email, set())
        if (affiliation.organization_id, affiliation.role) in held:
            return  # already holds that role there
        held.add((affiliation.organization_id, affiliation.role))
        affiliation.contact = instance
        self._new_roles.append(affiliation)
        if affiliation.role == Affiliation.Role.FOCAL_POINT:
            self._focal_points[affiliation.organization_id] = instance

    # --- After the last row: the file written at once ----------------------------------------

    def bulk_create(self, using_transactions, dry_run, raise_errors, batch_size=None, result=None):
        try:
            self._flush()
        except Exception as exc:
            self.handle_import_error(result, exc, raise_errors)

    def bulk_update(self, using_transactions, dry_run, raise_errors, batch_size=None, result=None):
        """Nothing: the updates are saved with the new contacts by :meth:`bulk_create`."""

    def _flush(self) -> None:
        created, updated, new_roles = self._created, self._updated, self._new_roles
        self._created, self._updated, self._new_roles = [], [], []
        self._queued = set()
        if self._writes and (created or updated or new_roles):
            contact_import_save(
                created=created,
                updated=updated,
                affiliations=new_roles,
                acting_user=self._acting_user,
                batch_size=self._meta.batch_size,
            )


def clean_cell(value):
    """A cell as an import reads it: stripped, and without the prefix an export added."""
    return unneutralize(value.strip() if isinstance(value, str) else value)


def _same_contact(a: Contact, b: Contact) -> bool:
    return a is b or (a.pk is not None and a.pk == b.pk)
