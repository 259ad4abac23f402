from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from crm import views
from crm.health import healthz

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/reports/", include("meetings.reports.urls")),
    path("admin/activity/", admin.site.admin_view(views.activity), name="activity"),
    path("admin/", admin.site.urls),
    path("api/", include("api.urls")),  # /api/v1/, /api/schema/, /api/docs/
    path("mail/", include("crm.mail.urls")),
    path("rsvp/", include("meetings.urls")),
]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler400 = "api.views.errors.bad_request"
