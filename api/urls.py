"""REST API v1: resources are registered here as their domain lands (see docs/)."""

from rest_framework.routers import DefaultRouter

app_name = "api"

router = DefaultRouter()
urlpatterns = router.urls
