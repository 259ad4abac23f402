"""The back-office permission matrix (issue 8 §1): every admin page and action, by role, to the
expected answer, in one table.

Roles: anonymous, a staff account in no group, and one staff account in each group of
``crm.roles`` (Viewers, Coordinators, Administrators). The expectations follow the roles'
definitions, not what the code happens to do:

- anonymous: every back-office URL redirects to the admin login;
- staff in no group: the admin index answers 200 saying there is nothing they may see, every
  other page 403;
- Viewers: read the directory, meetings, events and the outbox (lists, read-only change pages,
  history, boards, timeline, dashboard); no restricted consultations (or their follow-ups); no
  additions, deletions or state-changing pages and actions; no exports of personal data; no
  users, groups, API clients, webhooks or periodic tasks; no activity view or access log (the
  audit trail is a coordinator's tool);
- Coordinators: everything in the domain apps (members, meetings, events, mail), restricted
  consultations included; periodic tasks read-only; the activity view and the access log
  (read-only); no users, groups, API clients or webhooks;
- Administrators: what coordinators have, plus users, groups, API clients, webhooks and the
  records of failed sign-ins (django-axes); they publish the consent texts (which the other
  roles read).

Pages the admin code makes read-only for everybody (records written only by services: the
outbox, delivery events, address holds, membership changes, webhook deliveries, the access
log, invitations for add/delete, contact merges for add/change) refuse add and delete to every
role.

The data is created once for the module inside one transaction that is rolled back at the
end; each case runs in its own savepoint (pytest-django's ``db``), so actions that change
state do not leak into the next case. Nothing is ever deleted: delete pages are only fetched,
and ``delete_selected`` is posted without its confirmation.

A real bug found by the matrix is marked ``xfail(strict=True)`` on its single case, with the
reason, so the suite stays green and the bug stays visible.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from axes.models import AccessAttempt, AccessLog
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.messages import constants as message_levels
from django.contrib.messages import get_messages
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)

from api.models import ApiClient
from api.models_webhooks import WebhookDelivery, WebhookSubscription
from api.services import api_client_issue_token
from crm.audit import access_log_record
from crm.mail.models import AddressHold, DeliveryEvent, OutgoingMessage
from crm.models import AccessLogEntry
from crm.roles import ADMINISTRATORS, COORDINATORS, VIEWERS, sync_roles
from meetings import services as meeting_services
from meetings.models import Consultation, FollowUp, Invitation
from members.models import Affiliation, Contact, ContactMerge, MembershipChange, Organization
from members.privacy.models import ConsentRecord
from members.privacy.services import consent_text_publish
from tests.factories import (
    AffiliationFactory,
    ContactFactory,
    EventFactory,
    InvitationFactory,
    MeetingFactory,
    OrganizationFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "staff", "viewer", "coordinator", "administrator")
GROUP_OF = {"viewer": VIEWERS, "coordinator": COORDINATORS, "administrator": ADMINISTRATORS}

RESTRICTED_TITLE = "Matrix hearing behind closed doors"
RESTRICTED_FOLLOWUP = "Matrix secret follow-up"
SECRETS = (RESTRICTED_TITLE, RESTRICTED_FOLLOWUP)

# --- Expected answers ------------------------------------------------------------------------

LOGIN = "login"  # 302 to the admin login
DENIED = 403
OK = 200
NOTHING = "nothing"  # admin index, 200, "nothing you may see"
HIDDEN = "hidden"  # 302 to the admin index: "does not exist" (a restricted record)
REDIRECT = 302  # a POST that did its work and went back
REFUSED = "refused"  # a list action not offered: nothing done, no success message
DONE = "done"  # a list action that ran: the state changed, a success message

# Who may read / write each app, from crm.roles (DOMAIN_APPS, the beat's view_ permissions,
# auth and api for administrators only).
DOMAIN = "domain"
BEAT = "beat"
ADMIN_ONLY = "admin_only"
AUDIT = "audit"  # the access log and the activity view (crm.view_accesslogentry, view_activity)
CONSENT_TEXTS = "consent_texts"  # read with the directory, written by administrators
READERS = {
    DOMAIN: {"viewer", "coordinator", "administrator"},
    BEAT: {"coordinator", "administrator"},
    ADMIN_ONLY: {"administrator"},
    AUDIT: {"coordinator", "administrator"},
    CONSENT_TEXTS: {"viewer", "coordinator", "administrator"},
}
WRITERS = {
    DOMAIN: {"coordinator", "administrator"},
    BEAT: set(),
    ADMIN_ONLY: {"administrator"},
    AUDIT: set(),
    CONSENT_TEXTS: {"administrator"},
}
# Pages reading personal data in bulk (exports): coordinators and administrators only.
EXPORTERS = {"coordinator", "administrator"}
# Erasing a contact's personal data: whoever holds members.erase_contact.
ERASERS = {"coordinator", "administrator"}
# Restricted consultations and their follow-ups: whoever holds view_restricted_consultation.
RESTRICTED_READERS = {"coordinator", "administrator"}


def _gate(allowed: set[str], yes=OK, no=DENIED) -> dict[str, Any]:
    """Anonymous to the login, then ``yes`` for the roles allowed and ``no`` for the others
    (the group-less staff account is never allowed)."""
    return {
        "anonymous": LOGIN,
        "staff": DENIED,
        **{role: yes if role in allowed else no for role in GROUP_OF},
    }


# --- The data, once per module ----------------------------------------------------------------


@dataclass
class World:
    users: dict[str, Any] = field(default_factory=dict)
    objects: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name):
        try:
            return self.__dict__["objects"][name]
        except KeyError as exc:
            raise AttributeError(name) from exc


def _build() -> World:
    sync_roles()
    world = World()
    for role, group in GROUP_OF.items():
        user = UserFactory(username=f"matrix-{role}", is_staff=True)
        user.groups.add(Group.objects.get(name=group))
        world.users[role] = user
    world.users["staff"] = UserFactory(username="matrix-staff", is_staff=True)
    coordinator = world.users["coordinator"]
    o = world.objects
    o["someone"] = UserFactory(username="matrix-someone", is_staff=True)
    o["group"] = Group.objects.get(name=VIEWERS)

    org = OrganizationFactory(name="Matrix Network")
    o["org"] = org
    focal = ContactFactory(given_name="Fiona", family_name="Focal")
    AffiliationFactory(contact=focal, organization=org, role=Affiliation.Role.FOCAL_POINT)
    o["contact"] = focal
    o["contact2"] = ContactFactory(given_name="Otto", family_name="Other")
    o["contactmerge"] = ContactMerge.objects.create(
        target=focal, source_id_value=999_999, source_name="Fiona Focal (old)"
    )
    # A version nobody has agreed to yet: administrators may still correct or delete it.
    o["consenttext"] = consent_text_publish(
        purpose="photographs", text_en="Matrix photos", text_ru="Фото", acting_user=None
    )
    o["membershipchange"] = MembershipChange.objects.create(
        organization=org,
        to_status=Organization.Status.ACTIVE,
        effective_date=timezone.localdate(),
    )

    meeting = MeetingFactory()
    o["meeting"] = meeting
    o["invitation"] = InvitationFactory(gathering=meeting, contact=focal, organization=org)
    event = EventFactory()
    o["event"] = event
    o["event_invitation"] = InvitationFactory(
        gathering=event,
        contact=o["contact2"],
        organization=org,
        status=Invitation.Status.ACCEPTED,
        mode=Invitation.Mode.IN_PERSON,
        answered_at=timezone.now(),
    )

    held_on = timezone.localdate() - datetime.timedelta(days=3)
    o["consultation"] = meeting_services.consultation_create(
        acting_user=coordinator,
        organizations=[org],
        kind="multi",
        channel="video",
        title="Matrix open consultation",
        held_on=held_on,
    )
    o["restricted"] = meeting_services.consultation_create(
        acting_user=coordinator,
        organizations=[org],
        kind="multi",
        channel="video",
        title=RESTRICTED_TITLE,
        held_on=held_on,
        confidentiality=Consultation.Confidentiality.RESTRICTED,
    )
    o["followup"] = meeting_services.followup_create(
        acting_user=coordinator, title="Matrix follow-up", consultation=o["consultation"]
    )
    o["restricted_followup"] = meeting_services.followup_create(
        acting_user=coordinator,
        title=RESTRICTED_FOLLOWUP,
        consultation=o["restricted"],
        owner_user=world.users["viewer"],
    )
    # One open follow-up owned by each role, for "My follow-ups" (POST done).
    o["mine"] = {
        role: meeting_services.followup_create(
            acting_user=coordinator, title=f"Matrix task of {role}", owner_user=user
        )
        for role, user in world.users.items()
    }

    message = OutgoingMessage.objects.create(
        key="matrix-1",
        purpose=OutgoingMessage.Purpose.choices[0][0],
        to_email="failed@example.org",
        subject="Matrix message",
        body_text="Hello",
        message_id=OutgoingMessage.message_id_for("matrix-1"),
        status=OutgoingMessage.Status.FAILED,
    )
    o["outgoingmessage"] = message
    o["deliveryevent"] = DeliveryEvent.objects.create(
        esp="matrix",
        event_type=DeliveryEvent.Type.BOUNCED,
        recipient="bounced@example.org",
        occurred_at=timezone.now(),
        message=message,
    )
    o["addresshold"] = AddressHold.objects.create(
        email="held@example.org",
        reason=AddressHold.Reason.choices[0][0],
        held_since=timezone.now(),
    )

    client, _token = api_client_issue_token(name="matrix-client", scope="read", acting_user=None)
    o["apiclient"] = client
    subscription = WebhookSubscription.objects.create(
        client=client, url="https://hooks.example.org/matrix", event_types=[]
    )
    o["webhooksubscription"] = subscription
    o["webhookdelivery"] = WebhookDelivery.objects.create(
        subscription=subscription,
        event_type="organization.updated",
        object_type="organization",
        object_id=org.pk,
        payload={},
        status=WebhookDelivery.Status.FAILED,
    )

    o["accesslogentry"] = access_log_record(
        action=AccessLogEntry.Action.EXPORT,
        description="Matrix contacts (CSV)",
        acting_user=coordinator,
        model=Contact,
        row_count=2,
    )
    attempt = {
        "user_agent": "Matrix",
        "ip_address": "203.0.113.9",
        "http_accept": "*/*",
        "path_info": "/admin/login/",
        "get_data": "",
        "post_data": "",
        "failures_since_start": 5,
    }
    o["accessattempt"] = AccessAttempt.objects.create(username="matrix-locked", **attempt)
    o["accesslog"] = AccessLog.objects.create(
        username="matrix-someone",
        user_agent="Matrix",
        ip_address="203.0.113.9",
        http_accept="*/*",
        path_info="/admin/login/",
    )

    interval = IntervalSchedule.objects.create(every=7, period=IntervalSchedule.DAYS)
    o["intervalschedule"] = interval
    o["crontabschedule"] = CrontabSchedule.objects.create(minute="7", hour="3")
    o["solarschedule"] = SolarSchedule.objects.create(
        event="sunrise", latitude="48.2", longitude="16.37"
    )
    o["clockedschedule"] = ClockedSchedule.objects.create(clocked_time=timezone.now())
    o["periodictask"] = PeriodicTask.objects.create(
        name="matrix task", task="crm.matrix.nothing", interval=interval, enabled=True
    )
    return world


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        built = _build()
        yield built
        transaction.set_rollback(True)


def _client(world: World, role: str) -> Client:
    client = Client()
    if role != "anonymous":
        client.force_login(world.users[role])
    return client


# --- Pages (GET) ------------------------------------------------------------------------------


@dataclass
class Page:
    id: str
    url: Callable[[World], str]
    expected: dict[str, Any]
    must_show: tuple[str, ...] = ()  # to the roles that may see restricted records
    post: dict | None = None  # POST this instead of a GET (a download form, changes nothing)


def _u(name: str, *keys: str, **kwargs) -> Callable[[World], str]:
    def url(world: World) -> str:
        args = [getattr(world, k).pk for k in keys]
        return reverse(name, args=args, kwargs=kwargs or None)

    return url


# Every model registered in admin.site: (admin url prefix, world key, app class, exceptions).
# ``no_add``/``no_delete``: the admin refuses them to everyone (records written by services).
MODELS = [
    ("members_organization", "org", DOMAIN, ""),
    ("members_contact", "contact", DOMAIN, ""),
    ("members_contactmerge", "contactmerge", DOMAIN, "no_add"),
    ("members_membershipchange", "membershipchange", DOMAIN, "no_add no_delete"),
    ("members_consenttext", "consenttext", CONSENT_TEXTS, ""),
    ("meetings_meeting", "meeting", DOMAIN, ""),
    ("meetings_invitation", "invitation", DOMAIN, "no_add no_delete"),
    ("meetings_consultation", "consultation", DOMAIN, ""),
    ("meetings_followup", "followup", DOMAIN, ""),
    ("events_event", "event", DOMAIN, ""),
    ("mail_outgoingmessage", "outgoingmessage", DOMAIN, "no_add no_delete"),
    ("mail_deliveryevent", "deliveryevent", DOMAIN, "no_add no_delete"),
    ("mail_addresshold", "addresshold", DOMAIN, "no_add no_delete"),
    ("api_apiclient", "apiclient", ADMIN_ONLY, ""),
    ("api_webhooksubscription", "webhooksubscription", ADMIN_ONLY, ""),
    ("api_webhookdelivery", "webhookdelivery", ADMIN_ONLY, "no_add no_delete"),
    ("auth_user", "someone", ADMIN_ONLY, ""),
    ("axes_accessattempt", "accessattempt", ADMIN_ONLY, "no_add"),
    ("axes_accesslog", "accesslog", ADMIN_ONLY, "no_add"),
    ("auth_group", "group", ADMIN_ONLY, ""),
    ("crm_accesslogentry", "accesslogentry", AUDIT, "no_add no_delete"),
    ("django_celery_beat_periodictask", "periodictask", BEAT, ""),
    ("django_celery_beat_intervalschedule", "intervalschedule", BEAT, ""),
    ("django_celery_beat_crontabschedule", "crontabschedule", BEAT, ""),
    ("django_celery_beat_solarschedule", "solarschedule", BEAT, ""),
    ("django_celery_beat_clockedschedule", "clockedschedule", BEAT, ""),
]


def _model_pages() -> list[Page]:
    pages = []
    for prefix, key, app, flags in MODELS:
        readers, writers = READERS[app], WRITERS[app]
        pages += [
            Page(f"{prefix}:changelist", _u(f"admin:{prefix}_changelist"), _gate(readers)),
            Page(
                f"{prefix}:add",
                _u(f"admin:{prefix}_add"),
                _gate(set() if "no_add" in flags else writers),
            ),
            Page(f"{prefix}:change", _u(f"admin:{prefix}_change", key), _gate(readers)),
            Page(f"{prefix}:history", _u(f"admin:{prefix}_history", key), _gate(readers)),
            Page(
                f"{prefix}:delete",
                _u(f"admin:{prefix}_delete", key),
                _gate(set() if "no_delete" in flags else writers),
            ),
        ]
    return pages


CUSTOM_PAGES = [
    Page("admin:index", _u("admin:index"), _gate(READERS[DOMAIN], no=OK) | {"staff": NOTHING}),
    Page("reports:dashboard", _u("reports:dashboard"), _gate(READERS[DOMAIN])),
    Page(
        "activity",
        lambda w: reverse("activity") + "?type=meetings.consultation",
        _gate(READERS[AUDIT]),
        must_show=(RESTRICTED_TITLE,),
    ),
    Page(
        "activity(object)",
        lambda w: reverse("activity") + f"?type=members.contact&object={w.contact.pk}",
        _gate(READERS[AUDIT]),
    ),
    Page(
        "accesslogentry:changelist(filtered)",
        lambda w: reverse("admin:crm_accesslogentry_changelist") + "?action=export",
        _gate(READERS[AUDIT]),
    ),
    Page(
        "reports:figure.csv",
        lambda w: reverse("reports:figure", args=["participation"]) + "?format=csv",
        _gate(READERS[DOMAIN]),
    ),
    Page(
        "organization:timeline",
        _u("admin:members_organization_timeline", "org"),
        _gate(READERS[DOMAIN]),
        must_show=(RESTRICTED_TITLE,),
    ),
    Page(
        "organization:succession",
        _u("admin:members_organization_hand_over", "org"),
        _gate(WRITERS[DOMAIN]),
    ),
    Page(
        "organization:export",
        _u("admin:members_organization_export"),
        _gate(READERS[DOMAIN]),  # organisations only, no personal data
    ),
    Page("organization:import", _u("admin:members_organization_import"), _gate(WRITERS[DOMAIN])),
    Page("contact:export", _u("admin:members_contact_export"), _gate(EXPORTERS)),
    Page(
        "contact:export(download)",
        _u("admin:members_contact_export"),
        _gate(EXPORTERS),
        post={"format": "0", "resource": "0", "contactresource_email": "on"},
    ),
    Page("contact:import", _u("admin:members_contact_import"), _gate(WRITERS[DOMAIN])),
    # Everything held about one person (members.export_subject_access): exporters only.
    Page(
        "contact:subject-access",
        _u("admin:members_contact_subject_access", "contact"),
        _gate(EXPORTERS),
    ),
    Page(
        "contact:subject-access(html)",
        lambda w: reverse("admin:members_contact_subject_access", args=[w.contact.pk]) + "?as=html",
        _gate(EXPORTERS),
    ),
    Page(
        "contact:subject-access(json)",
        lambda w: reverse("admin:members_contact_subject_access", args=[w.contact.pk]) + "?as=json",
        _gate(EXPORTERS),
    ),
    Page(
        "contact:changelist(erasure candidates)",
        lambda w: reverse("admin:members_contact_changelist") + "?erasure=candidates",
        _gate(READERS[DOMAIN]),
    ),
    Page(
        "contact:record-consent",
        _u("admin:members_contact_record_consent", "contact"),
        _gate(WRITERS[DOMAIN]),
    ),
    Page(
        "consultation:changelist+restricted",
        _u("admin:meetings_consultation_changelist"),
        _gate(READERS[DOMAIN]),
        must_show=(RESTRICTED_TITLE,),
    ),
    Page(
        "consultation:change(restricted)",
        _u("admin:meetings_consultation_change", "restricted"),
        _gate(RESTRICTED_READERS, no=HIDDEN),
    ),
    Page(
        "consultation:history(restricted)",
        _u("admin:meetings_consultation_history", "restricted"),
        # HiddenRestrictedHistoryMixin answers "does not exist" before the admin's permission
        # check, so the group-less account is sent to the index too: a refusal showing nothing.
        _gate(RESTRICTED_READERS, no=HIDDEN) | {"staff": HIDDEN},
    ),
    Page(
        "consultation:delete(restricted)",
        _u("admin:meetings_consultation_delete", "restricted"),
        _gate(RESTRICTED_READERS),
    ),
    Page(
        "followup:changelist+restricted",
        _u("admin:meetings_followup_changelist"),
        _gate(READERS[DOMAIN]),
        must_show=(RESTRICTED_FOLLOWUP,),
    ),
    Page(
        "followup:change(restricted)",
        _u("admin:meetings_followup_change", "restricted_followup"),
        _gate(RESTRICTED_READERS, no=HIDDEN),
    ),
    Page(
        "followup:history(restricted)",
        _u("admin:meetings_followup_history", "restricted_followup"),
        _gate(RESTRICTED_READERS, no=HIDDEN) | {"staff": HIDDEN},  # as above
    ),
    # The viewer owns the restricted follow-up: "My follow-ups" must still hide it.
    Page("followup:mine", _u("admin:meetings_followup_my_followups"), _gate(READERS[DOMAIN])),
    Page(
        "invitation:answer",
        _u("admin:meetings_invitation_record_answer", "invitation"),
        _gate(WRITERS[DOMAIN]),
    ),
    Page(
        "invitation:new-link",
        _u("admin:meetings_invitation_new_link", "invitation"),
        _gate(WRITERS[DOMAIN]),
    ),
]
for _kind, _key in (("meeting", "meeting"), ("event", "event")):
    _p = f"admin:{_kind}s_{_kind}" if _kind == "event" else "admin:meetings_meeting"
    CUSTOM_PAGES += [
        Page(f"{_kind}:board", _u(f"{_p}_board", _key), _gate(READERS[DOMAIN])),
        Page(f"{_kind}:invite", _u(f"{_p}_invite", _key), _gate(WRITERS[DOMAIN])),
        Page(
            f"{_kind}:participants.csv",
            lambda w, p=_p, k=_key: reverse(f"{p}_export", args=[getattr(w, k).pk, "csv"]),
            _gate(EXPORTERS),
        ),
        Page(f"{_kind}:close", _u(f"{_p}_close_answers", _key), _gate(WRITERS[DOMAIN])),
        Page(f"{_kind}:held", _u(f"{_p}_mark_held", _key), _gate(WRITERS[DOMAIN])),
        Page(
            f"{_kind}:open",
            _u(f"{_p}_open_{_kind}", _key),
            _gate(WRITERS[DOMAIN]),
        ),
        Page(
            f"{_kind}:cancel",
            _u(f"{_p}_cancel_{_kind}", _key),
            _gate(WRITERS[DOMAIN]),
        ),
    ]
CUSTOM_PAGES += [
    Page("event:guests", _u("admin:events_event_guests", "event"), _gate(WRITERS[DOMAIN])),
    Page("event:check-in", _u("admin:events_event_check_in", "event"), _gate(READERS[DOMAIN])),
]

# Known bugs, one (page, role) case each.
PAGE_BUGS: dict = {}


def _params(cases, bugs):
    params = []
    for case in cases:
        for role in ROLES:
            marks = ()
            if (case.id, role) in bugs:
                marks = pytest.mark.xfail(strict=True, reason=bugs[(case.id, role)])
            params.append(pytest.param(case, role, id=f"{case.id}-{role}", marks=marks))
    return params


PAGES = _model_pages() + CUSTOM_PAGES


def _is_login_redirect(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))


def _messages(response) -> list[tuple[int, str]]:
    return [(m.level, str(m)) for m in get_messages(response.wsgi_request)]


@pytest.mark.parametrize(("page", "role"), _params(PAGES, PAGE_BUGS))
def test_page(world, page: Page, role: str):
    url = page.url(world)
    client = _client(world, role)
    response = client.post(url, page.post) if page.post else client.get(url)
    expected = page.expected[role]
    answer = f"{'POST' if page.post else 'GET'} {url} as {role}: {response.status_code}"
    if expected == LOGIN:
        assert _is_login_redirect(response), answer
    elif expected == HIDDEN:
        assert response.status_code == 302, answer
        assert response["Location"] == reverse("admin:index"), answer
    elif expected == NOTHING:
        assert response.status_code == 200, answer
        assert b"have permission to view or edit anything" in response.content, answer
    else:
        assert response.status_code == expected, answer
    if response.status_code != 200:
        return
    if page.post:
        assert response["Content-Disposition"].startswith("attachment"), answer
    content = response.content.decode("utf-8", "replace")
    if role in RESTRICTED_READERS:
        for text in page.must_show:
            assert text in content, f"{answer}: {text!r} should be shown"
    else:
        for text in SECRETS:
            assert text not in content, f"{answer}: restricted {text!r} shown"
    if role == "viewer" and page.id.endswith(":change"):
        # The read-only view: no save button.
        assert 'name="_save"' not in content, f"{answer}: a save button for a viewer"


# --- Custom views changing state (POST) -------------------------------------------------------


@dataclass
class Post:
    id: str
    url: Callable[[World, str], str]
    data: Callable[[World, str], dict]
    state: Callable[[World, str], Any]
    allowed: set[str]


def _board_url(name: str, key: str, *extra: Any):
    def url(world: World, role: str) -> str:
        return reverse(name, args=[getattr(world, key).pk, *extra])

    return url


POSTS = [
    Post(
        "contact:record-consent(post)",
        _board_url("admin:members_contact_record_consent", "contact"),
        lambda w, r: {"purpose": "photographs", "given": "yes", "method": "in_person"},
        lambda w, r: ConsentRecord.objects.filter(contact=w.contact).count(),
        WRITERS[DOMAIN],
    ),
    Post(
        "followup:mine(done)",
        lambda w, r: reverse("admin:meetings_followup_my_followups"),
        lambda w, r: {"done": str(w.mine[r].pk)} if r in w.mine else {"done": "0"},
        lambda w, r: FollowUp.objects.filter(
            pk=w.mine[r].pk if r in w.mine else 0, status=FollowUp.Status.DONE
        ).exists(),
        WRITERS[DOMAIN],
    ),
    Post(
        "event:check-in(mark)",
        lambda w, r: reverse(
            "admin:events_event_check_in_mark", args=[w.event.pk, w.event_invitation.pk]
        ),
        lambda w, r: {},
        lambda w, r: Invitation.objects.get(pk=w.event_invitation.pk).checked_in_at,
        WRITERS[DOMAIN],
    ),
    Post(
        "meeting:board(new-link)",
        _board_url("admin:meetings_meeting_new_link", "meeting"),
        lambda w, r: {"invitation": str(w.invitation.pk)},
        lambda w, r: Invitation.objects.get(pk=w.invitation.pk).token_issued_at,
        WRITERS[DOMAIN],
    ),
    Post(
        "meeting:close(confirm)",
        _board_url("admin:meetings_meeting_close_answers", "meeting"),
        lambda w, r: {},
        lambda w, r: type(w.meeting).objects.get(pk=w.meeting.pk).status,
        WRITERS[DOMAIN],
    ),
    Post(
        "organization:succession(confirm)",
        _board_url("admin:members_organization_hand_over", "org"),
        lambda w, r: {
            "successor": str(w.contact2.pk),
            "end_date": timezone.localdate().isoformat(),
        },
        lambda w, r: list(
            Affiliation.objects.current()
            .filter(organization=w.org, role=Affiliation.Role.FOCAL_POINT)
            .values_list("contact_id", flat=True)
        ),
        WRITERS[DOMAIN],
    ),
]


@pytest.mark.parametrize(("post", "role"), _params(POSTS, {}))
def test_post(world, post: Post, role: str):
    url = post.url(world, role)
    before = post.state(world, role)
    response = _client(world, role).post(url, post.data(world, role))
    after = post.state(world, role)
    answer = f"POST {url} as {role}: {response.status_code}"
    if role == "anonymous":
        assert _is_login_redirect(response), answer
    elif role in post.allowed:
        assert response.status_code == REDIRECT, answer
        assert after != before, f"{answer}: nothing changed"
    else:
        assert response.status_code == DENIED, answer
    if role not in post.allowed:
        assert after == before, f"{answer}: the state changed"


# --- List actions (POST to the changelist) ----------------------------------------------------


@dataclass
class ListAction:
    id: str
    changelist: str
    action: str
    selected: Callable[[World], list[int]]
    state: Callable[[World], Any]
    allowed: set[str]
    readers: set[str]
    form: Callable[[World], dict] = lambda w: {}
    # An action that answers with a confirmation page first (nothing changes yet).
    confirms: bool = False


def _pk(key: str) -> Callable[[World], list[int]]:
    return lambda w: [getattr(w, key).pk]


ACTIONS = [
    ListAction(
        "organization:change_status",
        "admin:members_organization_changelist",
        "change_status",
        _pk("org"),
        lambda w: Organization.objects.get(pk=w.org.pk).status,
        WRITERS[DOMAIN],
        READERS[DOMAIN],
        form=lambda w: {
            "apply": "1",
            "to_status": Organization.Status.SUSPENDED,
            "effective_date": timezone.localdate().isoformat(),
            "reason": "matrix",
        },
    ),
    ListAction(
        "contact:merge_contacts",
        "admin:members_contact_changelist",
        "merge_contacts",
        lambda w: [w.contact.pk, w.contact2.pk],
        lambda w: Contact.objects.count(),
        WRITERS[DOMAIN],
        READERS[DOMAIN],
        confirms=True,
    ),
    # Erasure (issue 8 §3): a confirmation page first, then the erasure itself.
    ListAction(
        "contact:erase_personal_data",
        "admin:members_contact_changelist",
        "erase_personal_data",
        _pk("contact2"),
        lambda w: Contact.objects.get(pk=w.contact2.pk).erased_at,
        ERASERS,
        READERS[DOMAIN],
        confirms=True,
    ),
    ListAction(
        "contact:erase_personal_data(confirmed)",
        "admin:members_contact_changelist",
        "erase_personal_data",
        _pk("contact2"),
        lambda w: Contact.objects.get(pk=w.contact2.pk).erased_at,
        ERASERS,
        READERS[DOMAIN],
        form=lambda w: {"apply": "1", "confirm": "ERASE", "reason": "matrix request"},
    ),
    ListAction(
        "contact:delete_selected",
        "admin:members_contact_changelist",
        "delete_selected",
        _pk("contact2"),
        lambda w: Contact.objects.count(),
        WRITERS[DOMAIN],
        READERS[DOMAIN],
        confirms=True,
    ),
    ListAction(
        "followup:mark_done",
        "admin:meetings_followup_changelist",
        "mark_done",
        _pk("followup"),
        lambda w: FollowUp.objects.get(pk=w.followup.pk).status,
        WRITERS[DOMAIN],
        READERS[DOMAIN],
    ),
    ListAction(
        "followup:cancel",
        "admin:meetings_followup_changelist",
        "cancel",
        _pk("followup"),
        lambda w: FollowUp.objects.get(pk=w.followup.pk).status,
        WRITERS[DOMAIN],
        READERS[DOMAIN],
    ),
    ListAction(
        "outgoingmessage:resend",
        "admin:mail_outgoingmessage_changelist",
        "resend",
        _pk("outgoingmessage"),
        lambda w: OutgoingMessage.objects.count(),
        WRITERS[DOMAIN],
        READERS[DOMAIN],
    ),
    ListAction(
        "addresshold:release",
        "admin:mail_addresshold_changelist",
        "release",
        _pk("addresshold"),
        lambda w: AddressHold.objects.get(pk=w.addresshold.pk).released_at,
        WRITERS[DOMAIN],
        READERS[DOMAIN],
    ),
    ListAction(
        "apiclient:revoke",
        "admin:api_apiclient_changelist",
        "revoke",
        _pk("apiclient"),
        lambda w: ApiClient.objects.get(pk=w.apiclient.pk).revoked_at,
        WRITERS[ADMIN_ONLY],
        READERS[ADMIN_ONLY],
    ),
    ListAction(
        "webhooksubscription:disable",
        "admin:api_webhooksubscription_changelist",
        "disable",
        _pk("webhooksubscription"),
        lambda w: WebhookSubscription.objects.get(pk=w.webhooksubscription.pk).active,
        WRITERS[ADMIN_ONLY],
        READERS[ADMIN_ONLY],
    ),
    ListAction(
        "webhookdelivery:replay",
        "admin:api_webhookdelivery_changelist",
        "replay",
        _pk("webhookdelivery"),
        lambda w: WebhookDelivery.objects.count(),
        WRITERS[ADMIN_ONLY],
        READERS[ADMIN_ONLY],
    ),
    ListAction(
        "periodictask:disable_tasks",
        "admin:django_celery_beat_periodictask_changelist",
        "disable_tasks",
        _pk("periodictask"),
        lambda w: PeriodicTask.objects.get(pk=w.periodictask.pk).enabled,
        WRITERS[BEAT],
        READERS[BEAT],
    ),
]

ACTION_BUGS: dict = {}


@pytest.mark.parametrize(("action", "role"), _params(ACTIONS, ACTION_BUGS))
def test_list_action(world, action: ListAction, role: str):
    url = reverse(action.changelist)
    data = {
        "action": action.action,
        ACTION_CHECKBOX_NAME: [str(pk) for pk in action.selected(world)],
        **action.form(world),
    }
    before = action.state(world)
    response = _client(world, role).post(url, data)
    after = action.state(world)
    answer = f"POST {url} action={action.action} as {role}: {response.status_code}"
    if role == "anonymous":
        assert _is_login_redirect(response), answer
    elif role not in action.readers:
        # No access to the list at all.
        assert response.status_code == DENIED, answer
    elif role not in action.allowed:
        # The action is not offered: Django answers with the list again (200) or back to it
        # with "No action selected." (302); either way, nothing done and no success.
        assert response.status_code in (200, 302), answer
        levels = [level for level, _text in _messages(response)]
        assert message_levels.SUCCESS not in levels, f"{answer}: {_messages(response)}"
    elif action.confirms:
        assert response.status_code == 200, answer
        assert response.context["action_checkbox_name"] == ACTION_CHECKBOX_NAME, answer
        assert after == before, f"{answer}: changed before the confirmation"
        return
    else:
        assert response.status_code == REDIRECT, answer
        levels = [level for level, _text in _messages(response)]
        assert message_levels.SUCCESS in levels or message_levels.WARNING in levels, (
            f"{answer}: {_messages(response)}"
        )
        assert after != before, f"{answer}: nothing changed"
        return
    assert after == before, f"{answer}: the state changed ({before!r} → {after!r})"


def test_the_matrix_covers_every_registered_model():
    from django.contrib import admin

    registered = {f"{m._meta.app_label}_{m._meta.model_name}" for m in admin.site._registry}
    assert registered == {prefix for prefix, *_rest in MODELS}


def test_the_users_hold_their_roles(world):
    user_model = get_user_model()
    for role, group in GROUP_OF.items():
        user = user_model.objects.get(pk=world.users[role].pk)
        assert list(user.groups.values_list("name", flat=True)) == [group]
    assert not user_model.objects.get(pk=world.users["staff"].pk).groups.exists()
