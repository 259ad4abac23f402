"""RSVP over the API: a website renders its own RSVP form with exactly the rules of the RSVP
page (``meetings.views``). Anonymous (the token in the path is the key), throttled per IP
(scope ``rsvp``). GET only reads; POST answers."""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.schema import ApiAutoSchema
from api.serializers.invitations import (
    RsvpAnswerSerializer,
    RsvpPersonSerializer,
    RsvpRequestSerializer,
    RsvpSerializer,
)
from api.throttling import ScopedAnonymousRateThrottle
from crm.audit import acting_as
from meetings import selectors, services
from meetings.models import Invitation
from meetings.services import capacity

TOKEN = OpenApiParameter(
    "token",
    str,
    OpenApiParameter.PATH,
    pattern=r"^[A-Za-z0-9_-]{1,64}$",
    description="The token of the personal RSVP link (its last path segment).",
)
ACTIONS = {"answer", "substitute", "colleague"}


def _local(moment, tz) -> str:
    return moment.astimezone(tz).isoformat()


def rsvp_representation(invitation: Invitation) -> dict:
    """What the RSVP page shows, as data."""
    gathering = invitation.gathering.specific
    invitation.gathering = gathering
    tz = gathering.tz
    is_event = hasattr(gathering, "sessions")
    accepted = invitation.status == Invitation.Status.ACCEPTED
    answer = None
    if invitation.status in (Invitation.Status.ACCEPTED, Invitation.Status.WAITING):
        answer = invitation.mode or None
    elif invitation.status == Invitation.Status.DECLINED:
        answer = "decline"
    choices = []
    if gathering.offers_in_person:
        choices.append("in_person")
    if gathering.offers_online:
        choices.append("online")
    choices.append("decline")
    organization = invitation.organization
    return {
        "gathering": {
            "type": "event" if is_event else "meeting",
            "title": gathering.title,
            "description": gathering.description,
            "status": gathering.status,
            "format": gathering.format,
            "starts_at": gathering.starts_at,
            "ends_at": gathering.ends_at,
            "time_zone": str(gathering.time_zone),
            "starts_at_local": _local(gathering.starts_at, tz),
            "ends_at_local": _local(gathering.ends_at, tz),
            "venue": gathering.venue,
            "address": gathering.address,
            "online_link": gathering.online_link
            if accepted and invitation.mode == "online" and gathering.online_link
            else None,
            "rsvp_deadline": gathering.rsvp_deadline,
            "rsvp_deadline_local": _local(gathering.rsvp_deadline, tz),
            "answers_open": gathering.answers_open(timezone.now()),
            "cancelled": gathering.status == gathering.Status.CANCELLED,
            "answer_choices": choices,
            "max_plus_ones": gathering.max_plus_ones,
            "allows_substitutes": gathering.allows_substitutes(),
            "allows_colleagues": gathering.allows_colleagues(),
            "agenda": list(gathering.agenda_items.all()),
            "programme": list(gathering.sessions.all()) if is_event else [],
        },
        "invitee": {
            "given_name": invitation.contact.given_name,
            "family_name": invitation.contact.family_name,
            "full_name": invitation.contact.full_name,
            "organization": organization.name if organization else invitation.affiliation_label,
        },
        "status": invitation.status,
        "answer": answer,
        "dietary": invitation.dietary,
        "accessibility": invitation.accessibility,
        "other_needs": invitation.other_needs,
        "note": invitation.note,
        "plus_ones": list(invitation.plus_ones.all()),
        "answered_at": invitation.answered_at,
        "waiting_position": capacity.waiting_position(invitation),
        "offer_expires_at": invitation.offer_expires_at if invitation.offer_running else None,
        "seats_left": selectors.seats_left_for(invitation) if accepted else None,
        "replaced_by": invitation.replaced_by.contact.full_name
        if invitation.replaced_by_id
        else None,
    }


class RsvpSchema(ApiAutoSchema):
    """No credentials, no ETags and no ``Idempotency-Key`` here (repeating an answer is
    harmless: it records the same answer again): only the errors that can happen."""

    HEADERS = {"Idempotency-Key", "If-Match", "If-None-Match", "ETag"}

    def _error_codes(self) -> list[str]:
        return ["400", "404", "409", "415", "429"] if self.method == "POST" else ["404", "429"]

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        responses.pop("304", None)
        return responses

    def get_override_parameters(self):
        return [
            p
            for p in super().get_override_parameters()
            if not (isinstance(p, OpenApiParameter) and p.name in self.HEADERS)
        ]


class RsvpView(APIView):
    """``/api/v1/rsvp/<token>/``: read (GET) and answer (POST) one invitation."""

    authentication_classes: list = []  # anonymous: the token in the path is the key
    permission_classes = [AllowAny]
    throttle_classes = [ScopedAnonymousRateThrottle]
    throttle_scope = "rsvp"
    schema = RsvpSchema()

    def _invitation(self, token: str) -> Invitation:
        invitation = selectors.invitation_for_token(token)
        if invitation is None:
            raise exceptions.NotFound(_("No invitation has this link (it may have been renewed)."))
        return invitation

    def _respond(self, invitation: Invitation) -> Response:
        data = RsvpSerializer(rsvp_representation(invitation)).data
        response = Response(data)
        # The URL is the key: keep it out of caches (as the RSVP page does).
        response["Cache-Control"] = "private, no-store"
        return response

    @extend_schema(
        summary="Read an invitation (as the RSVP page shows it)",
        description="Changes nothing. Times are UTC, with the place's time zone and local "
        "times alongside.",
        parameters=[TOKEN],
        responses=RsvpSerializer,
    )
    def get(self, request: Request, token: str) -> Response:
        return self._respond(self._invitation(token))

    @extend_schema(
        summary="Answer an invitation (the RSVP page's rules)",
        description="`action` `answer` (default): `answer` is `in_person`, `online` or "
        "`decline`, with needs, a note and `plus_ones` where allowed. `substitute`: a "
        "colleague (`given_name`, `family_name`, `email`) comes instead. `colleague`: register "
        "a colleague too, within the organisation's seats (meetings). After the deadline, for "
        "a cancelled gathering or a replaced invitation: 409 with the reason; a seat or guest "
        "rule: 400 naming the field. Answers with the invitation as GET shows it.",
        parameters=[TOKEN],
        request=RsvpRequestSerializer,
        responses=RsvpSerializer,
    )
    def post(self, request: Request, token: str) -> Response:
        invitation = self._invitation(token)
        body = request.data if isinstance(request.data, dict) else None
        if body is None:
            raise serializers.ValidationError({"non_field_errors": [_("Send a JSON object.")]})
        action = body.get("action") or "answer"
        if action not in ACTIONS:
            raise serializers.ValidationError({"action": [_("Unknown action.")]})
        # The invitee acts through their link: the history names the invitation.
        with acting_as(invitation=invitation):
            self._act(invitation, action, body)
        return self._respond(self._invitation(token))

    def _act(self, invitation: Invitation, action: str, body: dict) -> None:
        if action == "answer":
            serializer = RsvpAnswerSerializer(data=body)
            serializer.is_valid(raise_exception=True)
            data = dict(serializer.validated_data)
            data.pop("action", None)
            services.invitation_respond(invitation=invitation, **data)
        else:
            serializer = RsvpPersonSerializer(data=body)
            serializer.is_valid(raise_exception=True)
            data = dict(serializer.validated_data)
            person = {k: data[k] for k in ("given_name", "family_name", "email")}
            if action == "substitute":
                services.invitation_substitute(invitation=invitation, **person)
            else:
                services.invitation_add_colleague(
                    invitation=invitation,
                    mode=data.get("mode") or Invitation.Mode.IN_PERSON,
                    **person,
                )
