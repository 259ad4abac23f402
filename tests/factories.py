import datetime
import zoneinfo

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone
from factory.django import DjangoModelFactory

from events.models import Event
from meetings.models import Invitation, Meeting
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


def _in_days(days: int, hour: int = 10) -> datetime.datetime:
    base = timezone.now().astimezone(zoneinfo.ZoneInfo("Europe/Vienna"))
    moment = base.replace(hour=hour, minute=0, second=0, microsecond=0)
    return moment + datetime.timedelta(days=days)


class MeetingFactory(DjangoModelFactory):
    """An open AECT meeting 30 days ahead, answers due in 20 days; no reminder rules (the
    service creates those; tests that want them call ``reminder_rules_create_defaults``)."""

    class Meta:
        model = Meeting

    title = factory.Sequence(lambda n: f"AECT {40 + n}")
    series = "AECT"
    number = factory.Sequence(lambda n: 40 + n)
    starts_at = factory.LazyFunction(lambda: _in_days(30, 10))
    ends_at = factory.LazyAttribute(lambda m: m.starts_at + datetime.timedelta(hours=7))
    rsvp_deadline = factory.LazyFunction(lambda: _in_days(20, 18))
    format = Meeting.Format.HYBRID
    venue = "Hofburg, Vienna"
    address = "Heldenplatz 1, 1010 Vienna"
    online_link = "https://meet.example.org/aect"
    status = Meeting.Status.OPEN


class InvitationFactory(DjangoModelFactory):
    class Meta:
        model = Invitation

    gathering = factory.SubFactory(MeetingFactory)
    contact = factory.SubFactory(ContactFactory)
    organization = factory.SubFactory(OrganizationFactory)
    sent_at = factory.LazyFunction(timezone.now)


class EventFactory(MeetingFactory):
    """The Alliance conference: open, in person, 3 places with a waiting list."""

    class Meta:
        model = Event

    title = factory.Sequence(lambda n: f"Alliance Conference {2026 + n}")
    kind = Event.Kind.CONFERENCE
    format = Event.Format.IN_PERSON
    capacity = 3
    waiting_list = True
    max_plus_ones = 1
    series = None
    number = None
    seats_per_org = None

    @classmethod
    def _adjust_kwargs(cls, **kwargs):
        for name in ("series", "number", "seats_per_org"):
            kwargs.pop(name, None)
        return kwargs
