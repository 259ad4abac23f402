"""The RSVP page: personal, no login. A GET only shows; only a POST from a button answers,
because mail scanners open every link they see."""

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.views.decorators.http import require_http_methods

from crm.audit import acting_as
from crm.calendar import invitation_ics
from crm.exceptions import ApplicationError
from crm.mail.rendering import organizer_name, place_name
from meetings import selectors, services
from meetings.forms import AnswerForm, ConsentForm, LinkForm, PersonForm
from meetings.models import Invitation
from meetings.services import capacity
from members.privacy.models import ConsentRecord, ConsentText
from members.privacy.selectors import consent_current, consent_texts_current
from members.privacy.services import consent_record

SAVED = {"answer", "substitute", "colleague", "consent"}


def _language(request: HttpRequest, invitation: Invitation | None) -> str:
    asked = request.GET.get("lang", "")
    if asked in settings.MAIL_LANGUAGES:
        return asked
    preferred = invitation.contact.preferred_language if invitation else ""
    if preferred in settings.MAIL_LANGUAGES:
        return preferred
    return translation.get_language_from_request(request) or "en"


def _private(response: HttpResponse) -> HttpResponse:
    # The URL is the key: keep it out of caches and out of the Referer sent to other sites.
    response["Cache-Control"] = "private, no-store"
    # same-origin, not no-referrer: with no referrer at all Chromium sends "Origin: null" on
    # the page's own form posts and the CSRF check refuses them.
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _not_found(request: HttpRequest, language: str) -> HttpResponse:
    with translation.override(language):
        response = render(
            request,
            "meetings/rsvp/not_found.html",
            {"form": LinkForm(), "coordinator_email": settings.CRM_COORDINATOR_EMAIL},
            status=404,
        )
    return _private(response)


def _page(
    request,
    invitation,
    language,
    *,
    answer_form=None,
    substitute_form=None,
    colleague_form=None,
    consent_form=None,
    error="",
    error_field="",
    status=200,
) -> HttpResponse:
    gathering = invitation.gathering.specific
    invitation.gathering = gathering
    now = timezone.now()
    accepted = invitation.status == Invitation.Status.ACCEPTED
    seats = selectors.seats_left_for(invitation) if accepted else 0
    can_add = accepted and gathering.allows_colleagues() and (seats is None or seats > 0)
    guests = list(invitation.plus_ones.all()) if gathering.max_plus_ones else []
    initial = {
        "answer": invitation.mode
        if invitation.status in (Invitation.Status.ACCEPTED, Invitation.Status.WAITING)
        else ("decline" if invitation.status == Invitation.Status.DECLINED else None),
        "dietary": invitation.dietary,
        "accessibility": invitation.accessibility,
        "other_needs": invitation.other_needs,
        "note": invitation.note,
        **{f"guest_{n}_name": g.name for n, g in enumerate(guests, start=1)},
        **{f"guest_{n}_email": g.email for n, g in enumerate(guests, start=1)},
    }
    context = {
        "invitation": invitation,
        "gathering": gathering,
        "contact": invitation.contact,
        "agenda": list(gathering.agenda_items.select_related("organization")),
        "programme": list(gathering.sessions.all()) if hasattr(gathering, "sessions") else [],
        "guests": guests,
        "place_name": place_name(gathering.time_zone),
        "multi_day": gathering.starts_at.astimezone(gathering.tz).date()
        != gathering.ends_at.astimezone(gathering.tz).date(),
        "waiting_position": capacity.waiting_position(invitation),
        "allows_substitutes": gathering.allows_substitutes(),
        "documents": selectors.documents_for(invitation),
        "answers_open": gathering.answers_open(now),
        "cancelled": gathering.status == gathering.Status.CANCELLED,
        "show_online_link": accepted and invitation.mode == "online" and gathering.online_link,
        "answer_form": answer_form or AnswerForm(initial=initial, gathering=gathering),
        "substitute_form": substitute_form or PersonForm(prefix_name="substitute"),
        "colleague_form": colleague_form or PersonForm(prefix_name="colleague"),
        "consent_form": consent_form or _consent_form(invitation, language),
        "colleagues": list(
            invitation.derived.filter(status=Invitation.Status.ACCEPTED).select_related("contact")
        ),
        "seats_left": seats,
        "can_add_colleague": can_add,
        "saved": request.GET.get("saved") if request.GET.get("saved") in SAVED else "",
        "error": error,
        "error_field": error_field,
        "language": language,
        "languages": [
            (code, name) for code, name in settings.LANGUAGES if code in settings.MAIL_LANGUAGES
        ],
        "coordinator_email": settings.CRM_COORDINATOR_EMAIL,
        "organizer_name": organizer_name(),
    }
    with translation.override(language):
        response = render(request, "meetings/rsvp/page.html", context, status=status)
    return _private(response)


@require_http_methods(["GET", "POST"])
def rsvp_page(request: HttpRequest, token: str) -> HttpResponse:
    invitation = selectors.invitation_for_token(token)
    language = _language(request, invitation)
    if invitation is None:
        return _not_found(request, language)
    if request.method == "GET":
        return _page(request, invitation, language)

    action = request.POST.get("action", "")
    forms = {}
    try:
        # The invitee acts through their link: the history names the invitation.
        with translation.override(language), acting_as(invitation=invitation):
            if action == "answer":
                form = forms["answer_form"] = AnswerForm(
                    request.POST, gathering=invitation.gathering
                )
                if form.is_valid():
                    services.invitation_respond(invitation=invitation, **form.answer_data())
                    return _saved(invitation, language, "answer")
            elif action == "consent":
                form = forms["consent_form"] = _consent_form(invitation, language, request.POST)
                if form.is_valid():
                    _record_consent(invitation, language, form)
                    return _saved(invitation, language, "consent")
            elif action in ("substitute", "colleague"):
                form = forms[f"{action}_form"] = PersonForm(request.POST, prefix_name=action)
                if form.is_valid():
                    data = form.cleaned_data
                    person = {k: data[k] for k in ("given_name", "family_name", "email")}
                    if action == "substitute":
                        services.invitation_substitute(invitation=invitation, **person)
                    else:
                        services.invitation_add_colleague(
                            invitation=invitation,
                            mode=data.get("mode") or Invitation.Mode.IN_PERSON,
                            **person,
                        )
                    return _saved(invitation, language, action)
            else:
                return _page(request, invitation, language, status=400)
    except ApplicationError as exc:
        fresh = selectors.invitation_for_token(token) or invitation
        status = 400 if exc.field else 409
        return _page(
            request,
            fresh,
            language,
            error=exc.message,
            error_field=exc.field or "",
            status=status,
            **forms,
        )
    return _page(request, invitation, language, status=400, **forms)


def _consent_form(invitation: Invitation, language: str, data=None) -> ConsentForm:
    current = consent_current(invitation.contact_id)
    initial = {purpose: state.given for purpose, state in current.items()}
    return ConsentForm(data, initial=initial, texts=consent_texts_current(), language=language)


def _record_consent(invitation: Invitation, language: str, form: ConsentForm) -> None:
    """Record each purpose whose box changed; the invitee acts themselves, through the
    invitation, with the text version the page showed."""
    current = consent_current(invitation.contact_id)
    for purpose, text in form.texts.items():
        given = form.cleaned_data[purpose]
        if given == current[purpose].given:
            continue
        shown = form.version_shown(purpose)
        if shown and shown != text.version:
            text = ConsentText.objects.filter(purpose=purpose, version=shown).first() or text
        consent_record(
            contact=invitation.contact,
            purpose=purpose,
            given=given,
            method=ConsentRecord.Method.RSVP,
            invitation=invitation,
            text=text,
            language=language,
            acting_user=None,
        )


def _saved(invitation: Invitation, language: str, what: str) -> HttpResponse:
    url = reverse("rsvp:page", args=[invitation.token])
    return redirect(f"{url}?lang={language}&saved={what}")


@require_http_methods(["GET"])
def rsvp_calendar(request: HttpRequest, token: str) -> HttpResponse:
    invitation = selectors.invitation_for_token(token)
    if invitation is None:
        raise Http404
    response = HttpResponse(invitation_ics(invitation), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="invite.ics"'
    return _private(response)


@require_http_methods(["GET", "POST"])
def rsvp_link(request: HttpRequest) -> HttpResponse:
    """The "send me my link again" form. Answers the same whether or not an invitation exists."""
    language = _language(request, None)
    form = LinkForm(request.POST or None)
    with translation.override(language):
        if request.method == "POST" and form.is_valid():
            services.invitation_send_link(email=form.cleaned_data["email"])
            response = render(
                request,
                "meetings/rsvp/link_sent.html",
                {
                    "email": form.cleaned_data["email"],
                    "coordinator_email": settings.CRM_COORDINATOR_EMAIL,
                },
            )
        else:
            response = render(
                request,
                "meetings/rsvp/not_found.html",
                {"form": form, "coordinator_email": settings.CRM_COORDINATOR_EMAIL, "asked": True},
                status=400 if request.method == "POST" else 200,
            )
    return _private(response)
