"""REST API v1 (``/api/v1/``): one router; resources are registered here as their domain
lands. The schema and its Swagger UI live beside it (``/api/schema/``, ``/api/docs/``)."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from api.views.affiliations import AffiliationViewSet
from api.views.contacts import ContactViewSet
from api.views.deletions import DeletionViewSet
from api.views.errors import not_found
from api.views.organizations import OrganizationViewSet

app_name = "api"

router = DefaultRouter()
router.include_root_view = False
router.register("organizations", OrganizationViewSet, basename="organization")
router.register("contacts", ContactViewSet, basename="contact")
router.register("affiliations", AffiliationViewSet, basename="affiliation")
router.register("deletions", DeletionViewSet, basename="deletion")

urlpatterns = [
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    # Anything else under /api/ is a 404 in the API's error shape, not an HTML page.
    re_path(r"^.*$", not_found),
]
