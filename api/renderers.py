"""The API's JSON renderer: DRF's, with orjson doing the encoding.

The bytes are those DRF's renderer writes — compact, UTF-8, U+2028 and U+2029 escaped,
dates, decimals, lazy translations and the rest through DRF's own encoder (orjson hands
them back to it) — at a fraction of the cost (bench/api_list.py). An indented answer
(``Accept: application/json; indent=4``) and anything orjson refuses go through DRF's
renderer unchanged."""

import orjson
from rest_framework import renderers
from rest_framework.utils.encoders import JSONEncoder

_OPTIONS = (
    orjson.OPT_PASSTHROUGH_DATETIME  # formatted by DRF's encoder, as everywhere else
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_NON_STR_KEYS
)
_default = JSONEncoder().default


class JSONRenderer(renderers.JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if data is None:
            return b""
        if self.get_indent(accepted_media_type, renderer_context or {}):
            return super().render(data, accepted_media_type, renderer_context)
        try:
            content = orjson.dumps(data, default=_default, option=_OPTIONS)
        except orjson.JSONEncodeError:  # e.g. an integer beyond 64 bits: DRF's way, or its error
            return super().render(data, accepted_media_type, renderer_context)
        # As DRF: the output stays a strict subset of JavaScript.
        return content.replace(b"\xe2\x80\xa8", b"\\u2028").replace(b"\xe2\x80\xa9", b"\\u2029")
