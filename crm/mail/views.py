from django.core import signing
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from members.models import ConsentRecord, Contact
from members.services import contact_set_mail_opt_out

MAX_AGE_SECONDS = 60 * 60 * 24 * 365


@csrf_exempt  # RFC 8058: mail clients POST without a session; the signed token is the proof
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    """GET shows a confirmation (mail scanners open every link); only POST unsubscribes."""
    try:
        data = signing.loads(token, salt="mail.unsubscribe", max_age=MAX_AGE_SECONDS)
        contact = Contact.objects.get(pk=data["c"])
    except (signing.BadSignature, Contact.DoesNotExist, KeyError, TypeError):
        return render(request, "mail/unsubscribe_invalid.html", status=400)
    if request.method == "POST":
        # The person withdraws their consent to non-essential mail themselves, by e-mail link.
        contact_set_mail_opt_out(
            contact=contact,
            opted_out=True,
            acting_user=None,
            method=ConsentRecord.Method.EMAIL,
            language=(translation.get_language() or "")[:2],
        )
        return render(request, "mail/unsubscribe_done.html", {"contact": contact})
    return render(request, "mail/unsubscribe_confirm.html", {"contact": contact})
