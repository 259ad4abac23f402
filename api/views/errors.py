from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt  # it changes nothing; a 404 must not turn into a CSRF 403 for writes
def not_found(request, *args, **kwargs) -> JsonResponse:
    return JsonResponse({"detail": _("Not found."), "code": "not_found"}, status=404)
