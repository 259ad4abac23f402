"""The API's orjson renderer writes the bytes DRF's JSON renderer writes."""

import datetime
import decimal
import uuid
import zoneinfo

import pytest
from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer as DrfJSONRenderer
from rest_framework.utils.serializer_helpers import ReturnDict, ReturnList

from api.renderers import JSONRenderer

VIENNA = zoneinfo.ZoneInfo("Europe/Vienna")

PAYLOADS = [
    {"count": 2, "next": None, "results": [{"id": 1, "name": "Ана", "ok": True, "x": 1.5}]},
    ReturnDict(
        {"label": gettext_lazy("Agenda"), "nested": ReturnList([1, "two"], serializer=None)},
        serializer=None,
    ),
    {
        "moment": datetime.datetime(2026, 12, 3, 17, 4, 5, 123456, tzinfo=datetime.UTC),
        "local": datetime.datetime(2026, 12, 3, 18, 4, 5, tzinfo=VIENNA),
        "day": datetime.date(2026, 12, 3),
        "time": datetime.time(9, 30),
        "amount": decimal.Decimal("12.50"),
        "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "bytes": b"plain",
        "tuple": (1, 2),
    },
    {"separators": "line\u2028paragraph\u2029end", "quote": 'say "hi" </script>'},
    {1: "an integer key", "emoji": "\U0001f600"},
    [],
    {},
]


@pytest.mark.parametrize("data", PAYLOADS)
def test_the_same_bytes_as_drf(data):
    assert JSONRenderer().render(data) == DrfJSONRenderer().render(data)


def test_an_indented_answer_is_drfs():
    data = {"a": [1, 2], "b": {"c": None}}
    media_type = "application/json; indent=2"

    assert JSONRenderer().render(data, media_type) == DrfJSONRenderer().render(data, media_type)
    assert b"\n  " in JSONRenderer().render(data, media_type)


def test_what_orjson_refuses_goes_to_drf():
    huge = {"n": 2**70}

    assert JSONRenderer().render(huge) == DrfJSONRenderer().render(huge)


def test_unknown_values_fail_as_with_drf():
    with pytest.raises(TypeError):
        DrfJSONRenderer().render({"x": object()})
    with pytest.raises(TypeError):
        JSONRenderer().render({"x": object()})


def test_nothing_renders_as_nothing():
    assert JSONRenderer().render(None) == b""


def test_the_api_answers_with_it(write_api):
    response = write_api.get("/api/v1/contacts/")

    assert isinstance(response.accepted_renderer, JSONRenderer)
    assert response["Content-Type"] == "application/json"
