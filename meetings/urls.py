from django.urls import path

from meetings import views

app_name = "rsvp"

urlpatterns = [
    path("link/", views.rsvp_link, name="link"),
    path("<str:token>/", views.rsvp_page, name="page"),
    path("<str:token>/calendar.ics", views.rsvp_calendar, name="calendar"),
]
