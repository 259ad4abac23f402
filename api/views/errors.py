from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt  # it changes nothing; a 404 must not turn into a CSRF 403 for writes
def not_found(request, *args, **kwargs) -> JsonResponse:
    return JsonResponse({"detail": _("Not found."), "code": "not_found"}, status=404)


def bad_request(request, exception=None, *args, **kwargs):
    """Django's own 400 (e.g. a forged or empty Host header, refused before any view): JSON in
    the API's one error shape under /api/, the usual page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": _("Bad request."), "code": "bad_request"}, status=400)
    from django.views.defaults import bad_request as page

    return page(request, exception)
