"""Mounted under ``admin/reports/``; each view goes through the admin site's login and
``never_cache`` wrapper."""

from django.contrib import admin
from django.urls import path

from meetings.reports import views

app_name = "reports"

urlpatterns = [
    path("", admin.site.admin_view(views.dashboard), name="dashboard"),
    path("<slug:slug>/", admin.site.admin_view(views.figure), name="figure"),
]
