"""OpenAPI generation (drf-spectacular) with the API's conventions added to every operation:
the error responses in the one error shape, and the conditional and idempotency headers. A
view gets all of it by using :class:`api.views.base.ApiViewSet`; only the success bodies are
declared per action with ``extend_schema``."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from api import idempotency


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="A message for a person.")
    code = serializers.CharField(help_text="A stable, machine-readable code.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Field → messages (400 validation errors; dotted paths for nested fields).",
    )

    class Meta:
        ref_name = "Error"


ERROR_DESCRIPTIONS = {
    "400": "Invalid input: `errors` maps each field (or `non_field_errors`) to its messages.",
    "401": "No credentials, or an unknown, expired or revoked token.",
    "403": "Authenticated but not allowed (e.g. a write with a read-only token).",
    "404": "Not found, or not visible to this caller (or a page past the end).",
    "409": "A business rule refused the change, or a unique value is already taken.",
    "412": "`If-Match` does not match the current ETag: the object changed meanwhile.",
    "415": "Send JSON (`Content-Type: application/json`).",
    "422": "This `Idempotency-Key` was used for a different request.",
    "429": "Too many requests; wait for `Retry-After` seconds.",
}
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class ApiAutoSchema(AutoSchema):
    def _error_codes(self) -> list[str]:
        codes = ["400", "401", "403", "404", "429"]
        if self.method in WRITE_METHODS:
            codes += ["409", "415"]
        if self.method in {"PUT", "PATCH"} or (self.method == "POST" and self._is_detail()):
            codes.append("412")
        if self.method == "POST":
            codes.append("422")
        return codes

    def _is_detail(self) -> bool:
        return "{" in self.path

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if self.method == "GET" and self._is_detail() and not self._is_list_view():
            responses.setdefault("304", {"description": "Not modified (`If-None-Match`)."})
        for code in self._error_codes():
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[code]),
                    code,
                    direction=direction,
                )
        return responses

    def get_override_parameters(self):
        params = list(super().get_override_parameters())
        if self.method == "POST":
            params.append(
                OpenApiParameter(
                    idempotency.HEADER,
                    OpenApiTypes.STR,
                    OpenApiParameter.HEADER,
                    description="Any unique string (a UUID): retrying with the same key and "
                    "body replays the first answer instead of acting twice (24 h).",
                )
            )
        if self.method in {"PUT", "PATCH"} or (self.method == "POST" and self._is_detail()):
            params.append(
                OpenApiParameter(
                    "If-Match",
                    OpenApiTypes.STR,
                    OpenApiParameter.HEADER,
                    description="The ETag you last read: the change is refused (412) if the "
                    "object has changed since.",
                )
            )
        if self._is_detail() or self.method == "POST":
            params.append(
                OpenApiParameter(
                    "ETag",
                    OpenApiTypes.STR,
                    OpenApiParameter.HEADER,
                    response=["200", "201"],
                    description="The version of the object returned; send it back as "
                    "`If-Match` / `If-None-Match`.",
                )
            )
        if self.method == "GET" and self._is_detail() and not self._is_list_view():
            params.append(
                OpenApiParameter(
                    "If-None-Match",
                    OpenApiTypes.STR,
                    OpenApiParameter.HEADER,
                    description="The ETag you hold: 304 without a body if it is still current.",
                )
            )
        return params

    def _get_response_headers_for_code(self, status_code, direction="response"):
        headers = super()._get_response_headers_for_code(status_code, direction)
        if status_code == "429":
            headers["Retry-After"] = {
                "schema": {"type": "integer"},
                "description": "Seconds to wait before trying again.",
            }
        return headers


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API client token (`python manage.py issue_api_token`).",
        }


class StaffSessionScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.SessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}
