"""DRF's JSON parser, refusing what Python's JSON reader cannot follow: a body nested deeper than the interpreter's
recursion limit ([[[[...]]]]) makes json.loads raise RecursionError, which DRF's parser lets through as a 500."""

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None
