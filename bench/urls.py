"""The project's URLs plus the benchmark-only views under ``/bench/``."""

from django.urls import include, path

from bench import views

urlpatterns = [
    path("bench/floor/contacts/", views.floor_contacts),
    path("bench/naive/contacts/", views.NaiveContactList.as_view()),
    path("bench/static/", views.static_page),
    path("", include("crm.urls")),
]
