import factory
from django.contrib.auth import get_user_model
from factory.django import DjangoModelFactory

from members.models import Affiliation, Contact, Organization


class UserFactory(DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("correct horse battery")


class OrganizationFactory(DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Demo Network {n}")
    acronym = factory.Sequence(lambda n: f"DN{n}")
    kind = Organization.Kind.NGO
    country = "AT"
    status = Organization.Status.ACTIVE


class ContactFactory(DjangoModelFactory):
    class Meta:
        model = Contact

    given_name = factory.Faker("first_name")
    family_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"person{n}@example.org")
    preferred_language = "en"


class AffiliationFactory(DjangoModelFactory):
    class Meta:
        model = Affiliation

    contact = factory.SubFactory(ContactFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = Affiliation.Role.EXPERT
