"""Property-based tests of every operation of the API against its own OpenAPI schema
(schemathesis, in-process through the WSGI app, with a write token): with valid input, no 5xx
and every answer — status, content type, headers and body — as the schema says; with invalid
input (wrong types, missing fields, out-of-range values), never a 5xx and only documented
statuses."""

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import issue
from tests.factories import AffiliationFactory

pytestmark = pytest.mark.django_db

APP = WSGIHandler()
SCHEMA = schemathesis.openapi.from_wsgi("/api/schema/", APP)
OPERATIONS = {
    f"{op.method.upper()} {op.path}": op
    for result in SCHEMA.get_all_operations()
    for op in [result.ok()]
}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
MAX_EXAMPLES = 25


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """The WSGI handler closes the database connection after each request, as a server must;
    here that would end the test's transaction. Django's test client does the same."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_the_schema_covers_the_directory():
    paths = {label.split(" ", 1)[1] for label in OPERATIONS}
    for resource in ("organizations", "contacts", "affiliations", "deletions"):
        assert f"/api/v1/{resource}/" in paths


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_operation_conforms_to_the_schema(label):
    _run(OPERATIONS[label], GenerationMode.POSITIVE, CHECKS)


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_bad_input_is_never_a_server_error(label):
    _run(
        OPERATIONS[label],
        GenerationMode.NEGATIVE,
        [not_a_server_error, status_code_conformance, content_type_conformance],
    )


def _run(operation, mode, checks):
    headers = {"Authorization": f"Bearer {issue('schemathesis', 'write')}"}
    # A few rows, so that lists and filters have something to show.
    AffiliationFactory.create_batch(3)

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def check(case):
        case.call_and_validate(headers=headers, checks=checks)

    check()
