from django.urls import path

from crm.mail import views, webhooks

app_name = "mail"
urlpatterns = [
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    # Delivery events from the provider (django-anymail); configure this URL in Mailgun with
    # the basic-auth credentials of ANYMAIL_WEBHOOK_SECRET.
    path(
        "anymail/mailgun/tracking/",
        webhooks.mailgun_tracking,
        name="anymail_mailgun_tracking",
    ),
]
