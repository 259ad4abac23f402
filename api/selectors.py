"""Querysets of the API resources, with the joins their serializers need, so that a list costs
the same number of queries at any page size. The directory's own selectors are reused where
they exist; these can move to ``members.selectors`` when that module is next changed."""

from django.db.models import Prefetch, QuerySet

from api.models import Tombstone
from members import selectors as member_selectors
from members.models import Affiliation, Contact, Organization


def organization_list() -> QuerySet[Organization]:
    return member_selectors.organization_list()


def contact_list() -> QuerySet[Contact]:
    return Contact.objects.prefetch_related(
        Prefetch(
            "affiliations",
            queryset=Affiliation.objects.select_related("organization").order_by(
                "organization__name", "role", "id"
            ),
        )
    )


def affiliation_list() -> QuerySet[Affiliation]:
    return Affiliation.objects.select_related("contact", "organization")


def tombstone_list() -> QuerySet[Tombstone]:
    return Tombstone.objects.all()
