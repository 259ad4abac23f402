"""Filters of the member directory resources."""

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from api.filters import ApiFilterSet, ChoicesFilter, ExternalRefFilterMixin, IdFilter
from members.models import Affiliation, Contact, FocusArea, Organization


class OrganizationFilter(ExternalRefFilterMixin, ApiFilterSet):
    status = ChoicesFilter(choices=Organization.Status.choices)
    kind = ChoicesFilter(choices=Organization.Kind.choices)
    country = django_filters.CharFilter(
        method="filter_country", label=_("ISO 3166-1 alpha-2 country code, e.g. AT.")
    )
    focus_area = django_filters.ChoiceFilter(
        field_name="focus_areas__code",
        choices=FocusArea.Code.choices,
        method="filter_focus_area",
        label=_("Organisations working on this focus area."),
    )
    takes_part_in_aect = django_filters.BooleanFilter()

    class Meta:
        model = Organization
        fields = ["status", "kind", "country", "focus_area", "takes_part_in_aect"]

    def filter_country(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(country=value.upper())

    def filter_focus_area(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # A subquery rather than a join: no duplicate rows, no DISTINCT.
        return queryset.filter(
            pk__in=Organization.focus_areas.through.objects.filter(focusarea__code=value).values(
                "organization_id"
            )
        )


class ContactFilter(ExternalRefFilterMixin, ApiFilterSet):
    organization = IdFilter(
        method="filter_affiliation",
        label=_("Contacts who currently hold a role at this organisation (id)."),
    )
    role = django_filters.ChoiceFilter(
        choices=Affiliation.Role.choices,
        method="filter_affiliation",
        label=_("Contacts who currently hold this role (at `organization`, if given)."),
    )
    language = django_filters.ChoiceFilter(
        field_name="preferred_language", choices=Contact.Language.choices
    )

    class Meta:
        model = Contact
        fields = ["organization", "role", "language"]

    def filter_affiliation(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # ``organization`` and ``role`` describe one current affiliation together, so both
        # are applied once, by whichever of the two comes first.
        if getattr(self, "_affiliation_filtered", False):
            return queryset
        self._affiliation_filtered = True
        affiliations = Affiliation.objects.current()
        organization = self.form.cleaned_data.get("organization")
        role = self.form.cleaned_data.get("role")
        if organization is not None:
            affiliations = affiliations.filter(organization_id=organization)
        if role:
            affiliations = affiliations.filter(role=role)
        return queryset.filter(pk__in=affiliations.values("contact_id"))


class AffiliationFilter(ApiFilterSet):
    organization = IdFilter(field_name="organization_id")
    contact = IdFilter(field_name="contact_id")
    role = ChoicesFilter(choices=Affiliation.Role.choices)
    current = django_filters.BooleanFilter(
        method="filter_current", label=_("true: roles held today; false: ended or future.")
    )

    class Meta:
        model = Affiliation
        fields = ["organization", "contact", "role", "current"]

    def filter_current(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        if value is None:
            return queryset
        current = Affiliation.objects.current().values("pk")
        return queryset.filter(pk__in=current) if value else queryset.exclude(pk__in=current)
