"""Filters of consultations and follow-ups."""

import django_filters
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from api.filters import ApiFilterSet, ChoicesFilter, IdFilter
from meetings.models import Consultation, FollowUp
from members.models import FocusArea


class ConsultationFilter(ApiFilterSet):
    kind = django_filters.ChoiceFilter(choices=Consultation.Kind.choices)
    channel = ChoicesFilter(choices=Consultation.Channel.choices)
    organization = IdFilter(method="filter_organization", label=_("With this organisation (id)."))
    contact = IdFilter(method="filter_contact", label=_("With this contact taking part (id)."))
    topic = django_filters.ChoiceFilter(
        choices=FocusArea.Code.choices, method="filter_topic", label=_("On this focus area.")
    )
    label = django_filters.CharFilter(label=_("Survey or campaign."))
    confidentiality = django_filters.ChoiceFilter(choices=Consultation.Confidentiality.choices)
    held_on = django_filters.DateFromToRangeFilter(
        label=_("Held between `held_on_after` and `held_on_before` (dates, inclusive).")
    )

    class Meta:
        model = Consultation
        fields = ["kind", "channel", "organization", "contact", "topic", "label"]

    # Subqueries rather than joins: no duplicate rows, no DISTINCT.
    def filter_organization(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        through = Consultation.organizations.through.objects.filter(organization_id=value)
        return queryset.filter(pk__in=through.values("consultation_id"))

    def filter_contact(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        through = Consultation.contacts.through.objects.filter(contact_id=value)
        return queryset.filter(pk__in=through.values("consultation_id"))

    def filter_topic(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        through = Consultation.topics.through.objects.filter(focusarea__code=value)
        return queryset.filter(pk__in=through.values("consultation_id"))


class FollowUpFilter(ApiFilterSet):
    status = ChoicesFilter(choices=FollowUp.Status.choices)
    source = django_filters.ChoiceFilter(choices=FollowUp.Source.choices)
    owner = IdFilter(field_name="owner_user_id", label=_("Office member responsible (id)."))
    owner_contact = IdFilter(field_name="owner_contact_id")
    organization = IdFilter(field_name="organization_id")
    gathering = IdFilter(field_name="gathering_id", label=_("From this meeting or event (id)."))
    consultation = IdFilter(field_name="consultation_id")
    due_date = django_filters.DateFromToRangeFilter(
        label=_("Due between `due_date_after` and `due_date_before` (dates, inclusive).")
    )
    overdue = django_filters.BooleanFilter(
        method="filter_overdue", label=_("true: open and past the due date; false: the others.")
    )

    class Meta:
        model = FollowUp
        fields = ["status", "source", "owner", "organization", "gathering", "consultation"]

    def filter_overdue(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        overdue = {"status": FollowUp.Status.OPEN, "due_date__lt": timezone.localdate()}
        return queryset.filter(**overdue) if value else queryset.exclude(**overdue)
