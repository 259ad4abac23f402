"""The member directory: organisations, the people who work there and their roles."""

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_countries.fields import CountryField
from phonenumber_field.modelfields import PhoneNumberField
from timezone_field import TimeZoneField

from crm.history import AuditedHistory
from crm.models import TimeStampedModel


class FocusArea(models.Model):
    """One of the 4 Ps or a form of trafficking; the rows are created by a data migration."""

    class Group(models.TextChoices):
        P = "p", _("The 4 Ps")
        FORM = "form", _("Form of trafficking")

    class Code(models.TextChoices):
        PREVENTION = "prevention", _("Prevention")
        PROSECUTION = "prosecution", _("Prosecution")
        PROTECTION = "protection", _("Protection")
        PARTNERSHIPS = "partnerships", _("Partnerships")
        SEXUAL_EXPLOITATION = "sexual_exploitation", _("Sexual exploitation")
        LABOUR_EXPLOITATION = "labour_exploitation", _("Labour exploitation")
        DOMESTIC_SERVITUDE = "domestic_servitude", _("Domestic servitude")
        CHILD_TRAFFICKING = "child_trafficking", _("Child trafficking")
        FORCED_CRIMINALITY = "forced_criminality", _("Forced criminality")
        ORGAN_REMOVAL = "organ_removal", _("Organ removal")
        SUPPLY_CHAINS = "supply_chains", _("Supply chains")

    code = models.CharField(_("code"), max_length=40, unique=True, choices=Code.choices)
    group = models.CharField(_("group"), max_length=10, choices=Group.choices)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position"]
        verbose_name = _("focus area")
        verbose_name_plural = _("focus areas")

    def __str__(self) -> str:
        return str(self.get_code_display())


class Organization(TimeStampedModel):
    class Kind(models.TextChoices):
        INTERNATIONAL_ORGANIZATION = "international", _("International organisation")
        NGO = "ngo", _("NGO")
        STATE_AUTHORITY = "state_authority", _("Participating State authority")
        PARTNER_AUTHORITY = "partner_authority", _("Partner for Co-operation authority")
        ACADEMIA = "academia", _("Academia")
        PRIVATE_SECTOR = "private_sector", _("Private sector")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        PROSPECTIVE = "prospective", _("Prospective")
        INVITED = "invited", _("Invited")
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    name = models.CharField(_("name"), max_length=200)
    acronym = models.CharField(_("acronym"), max_length=30, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, db_index=True)
    country = CountryField(_("country"), blank=True, db_index=True)
    website = models.URLField(_("website"), blank=True)
    description = models.TextField(_("description"), blank=True)
    focus_areas = models.ManyToManyField(
        FocusArea, verbose_name=_("focus areas"), blank=True, related_name="organizations"
    )
    takes_part_in_aect = models.BooleanField(
        _("AECT partner"),
        default=False,
        help_text=_("Takes part in the Alliance Expert Co-ordination Team."),
    )
    coordinator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="organizations_in_charge",
        verbose_name=_("coordinator in charge"),
        help_text=_("The office member who looks after this partner; gets its follow-ups."),
    )
    # Changed only by members.services.organization_change_status, which keeps the record.
    status = models.CharField(
        _("membership status"),
        max_length=20,
        choices=Status.choices,
        default=Status.PROSPECTIVE,
        db_index=True,
    )
    member_since = models.DateField(_("member since"), null=True, blank=True, editable=False)
    left_on = models.DateField(_("left on"), null=True, blank=True, editable=False)
    # An integration's own id for this row (set through the API), so it can upsert by it.
    external_ref = models.CharField(
        _("external reference"), max_length=100, null=True, blank=True, unique=True
    )

    history = AuditedHistory(excluded_fields=["updated_at"], m2m_fields=[focus_areas])

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="members_organization_name_ci_unique",
                violation_error_message=_("An organisation with this name already exists."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.acronym})" if self.acronym else self.name


class MembershipChange(models.Model):
    """One step of an organisation's membership lifecycle; the history is never edited."""

    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="membership_changes",
        verbose_name=_("organisation"),
    )
    from_status = models.CharField(
        pgettext_lazy("membership status", "from"),
        max_length=20,
        choices=Organization.Status.choices,
        blank=True,
    )
    to_status = models.CharField(
        pgettext_lazy("membership status", "to"), max_length=20, choices=Organization.Status.choices
    )
    effective_date = models.DateField(_("effective date"))
    reason = models.TextField(_("reason"), blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("changed by"),
    )
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        ordering = ["effective_date", "created_at", "id"]
        verbose_name = _("membership change")
        verbose_name_plural = _("membership changes")

    def __str__(self) -> str:
        return f"{self.organization}: {self.from_status or '—'} → {self.to_status}"


class Contact(TimeStampedModel):
    class Language(models.TextChoices):
        ENGLISH = "en", _("English")
        FRENCH = "fr", _("French")
        GERMAN = "de", _("German")
        ITALIAN = "it", _("Italian")
        RUSSIAN = "ru", _("Russian")
        SPANISH = "es", _("Spanish")

    salutation = models.CharField(_("salutation"), max_length=40, blank=True)
    given_name = models.CharField(_("given name"), max_length=100)
    family_name = models.CharField(_("family name"), max_length=100, db_index=True)
    # Stored lower-cased and stripped by the services; blank for a person without an address.
    email = models.EmailField(_("e-mail"), max_length=254, blank=True)
    phone = PhoneNumberField(_("phone"), blank=True)
    preferred_language = models.CharField(
        _("preferred language"), max_length=2, choices=Language.choices, default=Language.ENGLISH
    )
    time_zone = TimeZoneField(_("time zone"), default="Europe/Vienna")
    notes = models.TextField(_("notes"), blank=True)
    mail_opt_out_at = models.DateTimeField(
        _("opted out of non-essential mail on"), null=True, blank=True
    )
    needs_review = models.BooleanField(
        _("needs review"),
        default=False,
        db_index=True,
        help_text=_("Entered by an invitee (a colleague or substitute); a coordinator checks it."),
    )
    # An integration's own id for this row (set through the API), so it can upsert by it.
    external_ref = models.CharField(
        _("external reference"), max_length=100, null=True, blank=True, unique=True
    )
    # Set by members.erasure.contact_erase: the row is a placeholder kept for the counts.
    erased_at = models.DateTimeField(
        _("personal data erased on"), null=True, blank=True, editable=False, db_index=True
    )

    history = AuditedHistory(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["family_name", "given_name", "id"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        permissions = [
            (
                "export_subject_access",
                _("Can export everything held about a contact (subject access)"),
            ),
            ("erase_contact", _("Can erase a contact's personal data")),
        ]
        # The directory's orderings and sync feed read a page off these (docs/performance.md);
        # the trigram indexes of the name and e-mail search are in migration 0006 (PostgreSQL).
        indexes = [
            models.Index(
                fields=["family_name", "given_name", "id"], name="members_contact_name_order"
            ),
            models.Index(fields=["given_name", "id"], name="members_contact_given_order"),
            models.Index(fields=["updated_at", "id"], name="members_contact_sync_order"),
            models.Index(fields=["created_at", "id"], name="members_contact_created_order"),
            models.Index(fields=["preferred_language"], name="members_contact_language"),
        ]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                condition=~Q(email=""),
                name="members_contact_email_ci_unique",
                violation_error_message=_("A contact with this e-mail address already exists."),
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}".strip()

    @property
    def has_opted_out(self) -> bool:
        return self.mail_opt_out_at is not None

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None


class AffiliationQuerySet(models.QuerySet):
    def current(self, on: datetime.date | None = None) -> "AffiliationQuerySet":
        on = on or timezone.localdate()
        return self.filter(
            Q(start_date__isnull=True) | Q(start_date__lte=on),
            Q(end_date__isnull=True) | Q(end_date__gt=on),
        )


class Affiliation(TimeStampedModel):
    class Role(models.TextChoices):
        HEAD = "head", _("Head")
        FOCAL_POINT = "focal_point", _("Focal point")
        ALTERNATE_FOCAL_POINT = "alternate_focal_point", _("Alternate focal point")
        EXPERT = "expert", _("Expert")
        COMMUNICATIONS = "communications", _("Communications")
        OTHER = "other", _("Other")

    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="affiliations", verbose_name=_("contact")
    )
    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="affiliations",
        verbose_name=_("organisation"),
    )
    role = models.CharField(_("role"), max_length=30, choices=Role.choices, db_index=True)
    job_title = models.CharField(_("job title"), max_length=200, blank=True)
    start_date = models.DateField(_("start date"), null=True, blank=True)
    end_date = models.DateField(
        _("end date"), null=True, blank=True, help_text=_("Leave empty while the role is held.")
    )

    objects = AffiliationQuerySet.as_manager()
    history = AuditedHistory(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["organization__name", "role", "id"]
        verbose_name = _("affiliation")
        verbose_name_plural = _("affiliations")
        constraints = [
            # The database backs the service's rule for open-ended focal points; a focal point
            # whose end date lies in the future is checked by the service.
            models.UniqueConstraint(
                fields=["organization"],
                condition=Q(role="focal_point", end_date__isnull=True),
                name="members_affiliation_one_open_focal_point",
                violation_error_message=_("This organisation already has a current focal point."),
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True)
                | Q(start_date__isnull=True)
                | Q(end_date__gte=models.F("start_date")),
                name="members_affiliation_end_after_start",
                violation_error_message=_("The end date cannot be before the start date."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contact} — {self.get_role_display()}, {self.organization}"

    def is_current(self, on: datetime.date | None = None) -> bool:
        on = on or timezone.localdate()
        started = self.start_date is None or self.start_date <= on
        return started and (self.end_date is None or self.end_date > on)


class ContactMerge(models.Model):
    """Record of a merge: what the removed duplicate was and what moved to the kept contact."""

    target = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="merges", verbose_name=_("kept contact")
    )
    source_id_value = models.BigIntegerField(_("removed contact id"))
    source_name = models.CharField(_("removed contact"), max_length=210)
    source_email = models.EmailField(_("removed e-mail"), blank=True)
    moved = models.JSONField(_("moved"), default=dict)
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("merged by"),
    )
    merged_at = models.DateTimeField(_("merged at"), auto_now_add=True)

    class Meta:
        ordering = ["-merged_at"]
        verbose_name = _("contact merge")
        verbose_name_plural = _("contact merges")

    def __str__(self) -> str:
        return f"{self.source_name} → {self.target}"


# Consent texts and records live in their own module; imported here so they belong to the app.
from members.privacy.models import ConsentPurpose, ConsentRecord, ConsentText  # noqa: E402, F401
