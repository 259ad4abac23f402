"""Sessions end after ``SESSION_COOKIE_AGE`` seconds without activity.

Every request of a signed-in user extends the session, but its row is rewritten at most once
per ``SESSION_ACTIVITY_RESOLUTION`` seconds (default 60) rather than on every request as
``SESSION_SAVE_EVERY_REQUEST`` would: a page with a dozen requests costs one write, and a
session then ends between ``AGE - RESOLUTION`` and ``AGE`` after the last click."""

import time

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

SEEN = "_last_seen"


def _resolution() -> int:
    return getattr(settings, "SESSION_ACTIVITY_RESOLUTION", 60)


class SessionActivityMiddleware:
    """Marks the session modified (so SessionMiddleware saves it with a new expiry) when the
    last mark is older than the resolution. Sits after SessionMiddleware. Only sessions of a
    signed-in user: an anonymous visitor or an API token never gets a session from it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and session.session_key and "_auth_user_id" in session:
            now = int(time.time())
            if now - session.get(SEEN, 0) >= _resolution():
                session[SEEN] = now
        return response


@receiver(user_logged_in, dispatch_uid="crm.sessions.seen_at_login")
def _seen_at_login(sender, request, user, **kwargs) -> None:
    # Signing in saves the session anyway: the first minute after it needs no second write.
    if request is not None and hasattr(request, "session"):
        request.session[SEEN] = int(time.time())
