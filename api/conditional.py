"""ETags and conditional requests on single objects.

The ETag of an object is a hash of its API representation (the output serializer's data), so
it changes whenever anything the client sees changes, embedded data included.

- ``GET`` detail answers with ``ETag``; with a matching ``If-None-Match`` it is a bodiless 304.
- ``PATCH``/``PUT`` (and workflow POSTs on an object) with ``If-Match`` proceed only when it
  matches the current ETag (or is ``*``); otherwise 412, and nothing changes. Without
  ``If-Match`` the write proceeds (last writer wins), as most clients expect.
"""

import hashlib
import json

from rest_framework.request import Request
from rest_framework.utils.encoders import JSONEncoder

from api.exceptions import PreconditionFailed


def etag_for(data) -> str:
    body = json.dumps(data, cls=JSONEncoder, sort_keys=True, separators=(",", ":"))
    return '"' + hashlib.sha256(body.encode()).hexdigest()[:32] + '"'


def _tags(header: str) -> set[str]:
    tags = set()
    for part in header.split(","):
        tag = part.strip()
        if tag.startswith("W/"):
            tag = tag[2:]
        if tag:
            tags.add(tag)
    return tags


def if_none_match_hits(request: Request, etag: str) -> bool:
    header = request.headers.get("If-None-Match")
    return bool(header) and ("*" in _tags(header) or etag in _tags(header))


def check_if_match(request: Request, etag: str) -> None:
    header = request.headers.get("If-Match")
    if not header:
        return
    tags = _tags(header)
    if "*" not in tags and etag not in tags:
        raise PreconditionFailed()
