"""REST API v1 (``/api/v1/``): one router; resources are registered here as their domain
lands. The schema and its Swagger UI live beside it (``/api/schema/``, ``/api/docs/``)."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from api.views.affiliations import AffiliationViewSet
from api.views.consultations import ConsultationViewSet
from api.views.contacts import ContactViewSet
from api.views.deletions import DeletionViewSet
from api.views.errors import not_found
from api.views.events import EventViewSet
from api.views.follow_ups import FollowUpViewSet
from api.views.invitations import InvitationViewSet
from api.views.meetings import MeetingViewSet
from api.views.organizations import OrganizationViewSet
from api.views.rsvp import RsvpView
from api.views.webhooks import WebhookSubscriptionViewSet

app_name = "api"

router = DefaultRouter()
router.include_root_view = False
router.register("organizations", OrganizationViewSet, basename="organization")
router.register("contacts", ContactViewSet, basename="contact")
router.register("affiliations", AffiliationViewSet, basename="affiliation")
router.register("deletions", DeletionViewSet, basename="deletion")
router.register("meetings", MeetingViewSet, basename="meeting")
router.register("events", EventViewSet, basename="event")
router.register("invitations", InvitationViewSet, basename="invitation")
router.register("consultations", ConsultationViewSet, basename="consultation")
router.register("follow-ups", FollowUpViewSet, basename="follow-up")
router.register("webhooks", WebhookSubscriptionViewSet, basename="webhook")

urlpatterns = [
    path("v1/", include(router.urls)),
    # Public (anonymous, throttled): the token is the key, as on the RSVP page.
    path("v1/rsvp/<str:token>/", RsvpView.as_view(), name="rsvp"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's init script as a file (docs/?script=), so the page
    # needs no inline script under the Content-Security-Policy.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    # Anything else under /api/ is a 404 in the API's error shape, not an HTML page; [\s\S]
    # and not ".", which stops at a newline (schemathesis sends ids with %0A in them).
    re_path(r"^[\s\S]*$", not_found),
]
