"""Total conversions of event data: numbers, text, moments and JSON. The one place that knows how to read a value
an SDK (or anyone with a DSN) sent without ever raising: ingest parses with `loads_json`, normalization
(digest.normalize) and the pages (events.rendering) read numbers, moments and text through these functions, and both
make trees safe with `sanitize`.

A DSN is public, so anyone can put an event on an existing issue's page, and events stored by older versions were
normalized less strictly than today's. So pages use these too, whatever digest already did: an unusable value becomes
None (numbers, moments) or a readable stand-in (text).

The classes of trouble they absorb:
- digits that are not ASCII: `"²".isdigit()` is true but int("²") fails, and int("٣") reads a different script;
- huge integers: str() and int() of more than 4300 digits raise ValueError, float() of one beyond 1e308 raises
  OverflowError, and JavaScript cannot hold them anyway;
- floats that are not finite (1e999 reads as inf, NaN): json.dumps writes Infinity/NaN, which browsers refuse,
  and datetime conversions overflow;
- lone surrogates (JSON "\\ud800"): a page or a download that contains one cannot be encoded as UTF-8;
- huge texts and deep nesting: pages stay readable and json.dumps stays within the recursion limit.
"""

import json
import math
import re
from datetime import UTC, datetime

import orjson
from dateutil import parser as date_parser

MAX_TEXT_CHARS = 20_000  # one shown value; the download has everything (bar the classes above)
MAX_SAFE_INT = 2**53 - 1  # the largest integer a browser's JSON reader holds exactly
MAX_INT_TEXT_DIGITS = 4000  # below Python's 4300-digit limit on int <-> str conversion
MAX_DEPTH = 64  # containers nested deeper than this become a marker (SDKs cap their own depth near 10)
MAX_INT = 2**63 - 1  # what every database's bigint holds; beyond it, integers are kept as their text
MAX_JSON_INT_DIGITS = 20  # longer integers in JSON are kept as their text (Python refuses > 4300 digits)
MIN_TIMESTAMP = datetime(1970, 1, 2, tzinfo=UTC).timestamp()
MAX_TIMESTAMP = datetime(2200, 1, 1, tzinfo=UTC).timestamp()

_ASCII_INT = re.compile(r"[+-]?[0-9]{1,19}")
_ASCII_FLOAT = re.compile(r"[+-]?(?:[0-9]{1,30}(?:\.[0-9]{0,30})?|\.[0-9]{1,30})(?:[eE][+-]?[0-9]{1,3})?")
_SURROGATE_OR_NUL = re.compile("[\ud800-\udfff\x00]")
_ASCII_SPACE = " \t\r\n"
_LOG10_2 = math.log10(2)


# --- numbers ----------------------------------------------------------------------------------------------------


def safe_int(value, minimum: int = -MAX_SAFE_INT, maximum: int = MAX_SAFE_INT) -> int | None:
    """An integer within [minimum, maximum] from an int, an integral finite float or a string of ASCII digits;
    None for anything else (bools, other scripts' digits, fractions, out of range)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer() or abs(value) > 2**63:
            return None
        number = int(value)
    elif isinstance(value, str):
        text = value.strip(_ASCII_SPACE)
        if not _ASCII_INT.fullmatch(text):
            return None
        number = int(text)
    else:
        return None
    return number if minimum <= number <= maximum else None


def safe_float(value, minimum: float = -1e300, maximum: float = 1e300) -> float | None:
    """A finite float within [minimum, maximum] from an int, a float or an ASCII decimal string; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        if value.bit_length() > 1000:  # float() of it would overflow; it is out of range anyway
            return None
        number = float(value)
    elif isinstance(value, float):
        number = value
    elif isinstance(value, str):
        text = value.strip(_ASCII_SPACE)
        if not _ASCII_FLOAT.fullmatch(text):
            return None
        number = float(text)
    else:
        return None
    if not math.isfinite(number) or not minimum <= number <= maximum:
        return None
    return number


# --- moments ----------------------------------------------------------------------------------------------------


def _text_timestamp(text: str) -> float | None:
    """Epoch seconds of a date text: ISO 8601 (no zone: UTC), else whatever dateutil's lenient reader makes of it."""
    try:
        parsed = date_parser.isoparse(text)
    except Exception:  # dateutil raises ValueError, OverflowError and others for odd input
        try:
            parsed = date_parser.parse(text)
        except Exception:
            return None
    try:
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.timestamp()
    except (OverflowError, OSError, ValueError):
        return None


def safe_timestamp(value) -> float | None:
    """Epoch seconds between 1970-01-02 and 2200 from a number, a numeric ASCII string or an ISO 8601 text;
    milliseconds are recognized (values a thousand times too large); None for anything else."""
    if isinstance(value, str):
        text = value.strip(_ASCII_SPACE)
        if len(text) > 64:
            return None
        number = safe_float(text)
        if number is None and text and not _ASCII_FLOAT.fullmatch(text):
            number = _text_timestamp(text)
    else:
        number = safe_float(value)
    if number is None or not math.isfinite(number):
        return None
    if number > MAX_TIMESTAMP * 100:  # milliseconds
        number /= 1000.0
    return number if MIN_TIMESTAMP <= number <= MAX_TIMESTAMP else None


def safe_datetime(value) -> datetime | None:
    """An aware UTC datetime for a value safe_timestamp reads; an aware datetime as it is; else None."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    timestamp = safe_timestamp(value)
    if timestamp is None:
        return None
    try:
        return datetime.fromtimestamp(timestamp, UTC)
    except (OverflowError, OSError, ValueError):
        return None


# --- text -------------------------------------------------------------------------------------------------------


def clean_str(text: str) -> str:
    """The string with every lone surrogate (JSON can carry them, UTF-8 cannot) and NUL (PostgreSQL refuses it in
    text) replaced by U+FFFD: storable by every database, encodable as UTF-8."""
    if text.isascii() and "\x00" not in text:
        return text
    return _SURROGATE_OR_NUL.sub("\ufffd", text)


def int_text(number: int) -> str:
    """Decimal digits of any integer; one too long for str() is shown by its leading digits and its size."""
    if number.bit_length() * _LOG10_2 < MAX_INT_TEXT_DIGITS:
        return str(number)
    digits = int(abs(number).bit_length() * _LOG10_2) + 1
    leading = abs(number) // 10 ** (digits - 30)
    while leading >= 10**30:  # the estimate of the digit count may be one short
        leading //= 10
    sign = "-" if number < 0 else ""
    return f"{sign}{leading}… (an integer of about {digits} digits)"


def float_text(number: float) -> str:
    """repr of a finite float; the JSON-ish names of the others ('NaN', 'Infinity', '-Infinity')."""
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    return repr(number)


def truncate(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit} more characters)"


def safe_text(value, limit: int = MAX_TEXT_CHARS) -> str:
    """One line of text for a value that should be a string: '' for None, compact JSON for containers; always
    encodable as UTF-8 and at most about `limit` characters."""
    if value is None:
        return ""
    if isinstance(value, str):
        return truncate(clean_str(value), limit)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return int_text(value)
    if isinstance(value, float):
        return float_text(value)
    if isinstance(value, dict | list | tuple):
        return truncate(safe_json(value), limit)
    try:
        return truncate(clean_str(str(value)), limit)
    except Exception:  # an object whose str() fails (never from JSON, but rendering must not fail)
        return f"<{type(value).__name__}>"


# --- JSON -------------------------------------------------------------------------------------------------------


def sanitize(value, depth: int = 0):
    """A copy of JSON-like data that every database stores and json.dumps(allow_nan=False) always serializes:
    strings and keys through clean_str, non-finite floats and integers beyond 64 bits as text, non-JSON objects as
    text, and containers nested deeper than MAX_DEPTH as a marker string."""
    # the common cases first, by exact type (digest runs this over every event: an isinstance ladder per leaf cost
    # a tenth of digest's CPU); subclasses and everything else take the general path below
    kind = type(value)
    if kind is str:
        return value if value.isascii() and "\x00" not in value else clean_str(value)
    if kind is dict and depth < MAX_DEPTH:
        return {
            (k if type(k) is str and k.isascii() and "\x00" not in k else _key_text(k)): sanitize(v, depth + 1)
            for k, v in value.items()
        }
    if kind is list and depth < MAX_DEPTH:
        return [sanitize(v, depth + 1) for v in value]
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return clean_str(value)
    if isinstance(value, int):
        return value if -MAX_INT - 1 <= value <= MAX_INT else int_text(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else float_text(value)
    if isinstance(value, dict | list | tuple):
        if depth >= MAX_DEPTH:
            return f"[{'object' if isinstance(value, dict) else 'array'} nested more than {MAX_DEPTH} levels deep]"
        if isinstance(value, dict):
            return {_key_text(k): sanitize(v, depth + 1) for k, v in value.items()}
        return [sanitize(v, depth + 1) for v in value]
    return safe_text(value)


def values_of(container) -> list[dict]:
    """The dict entries of {"values": [...]} or of a bare list (exceptions, threads, breadcrumbs); anything else is no
    entries. Normalization (digest.normalize) and the pages (events.rendering) read these lists through this one
    function: stored events may predate whatever normalization does today, so pages cannot assume its shape."""
    if isinstance(container, dict):
        container = container.get("values")
    if not isinstance(container, list):
        return []
    return [item for item in container if isinstance(item, dict)]


def _key_text(key) -> str:
    return clean_str(key) if isinstance(key, str) else safe_text(key)


def safe_json(value, indent: int | None = None) -> str:
    """JSON text of any value, never failing: see sanitize. Compact unless `indent` is given."""
    return dumps_sanitized(sanitize(value), indent)


def dumps_sanitized(value, indent: int | None = None) -> str:
    """json.dumps of what sanitize (or load_event_json) returned."""
    separators = None if indent is not None else (",", ":")
    return json.dumps(value, indent=indent, ensure_ascii=False, allow_nan=False, separators=separators)


def _parse_int(text: str):
    # Python refuses to make an int of more than 4300 digits (a ValueError that would lose the whole event)
    return int(text) if len(text) <= MAX_JSON_INT_DIGITS else text


def _parse_float(text: str):
    number = float(text)
    return number if math.isfinite(number) else text


# orjson reads an integer beyond 64 bits as a float (18446744073709551616 -> 1.8446744073709552e+19) where the
# stdlib reader gives the int (or, beyond MAX_JSON_INT_DIGITS, the text): a document with a run of 19 digits or more
# anywhere (a string's too: a cheap test, rarely met) is read by the stdlib. The test maps every digit to "0" and
# everything else to a space, then looks for 19 zeros: a few microseconds for 10 KB, where a regular expression
# took 100. Everything else orjson reads differently it refuses (NaN, Infinity, 1e999, lone surrogates, a byte-order
# mark, nesting beyond 1024): the stdlib then.
_DIGITS_ONLY = bytes(ord("0") if chr(byte).isdigit() and byte < 128 else ord(" ") for byte in range(256))
_LONG_DIGIT_RUN = b"0" * 19


def _has_long_digit_run(data: bytes | bytearray) -> bool:
    return _LONG_DIGIT_RUN in data.translate(_DIGITS_ONLY)


def loads_json(text):
    """json.loads for what SDKs send and what is stored: any valid JSON document parses, whatever size its numbers
    have; integers of more than MAX_JSON_INT_DIGITS digits, floats beyond range (1e999) and the non-standard
    Infinity/NaN arrive as their text. Raises ValueError (or RecursionError) for what is not JSON.

    orjson reads it when it reads it exactly as the stdlib would (a few times faster on SDK events); the stdlib
    reader, with the hooks above, reads the rest."""
    if isinstance(text, str):
        fast = not _has_long_digit_run(text.encode("utf-8", "surrogatepass"))
    else:
        fast = isinstance(text, bytes | bytearray) and not _has_long_digit_run(text)
    if fast:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass  # not JSON, or JSON that only the stdlib reader takes (as above): it decides
    return json.loads(text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=str)


def load_event_json(text) -> dict:
    """The stored event (Event.data_json) as sanitized data; {} when it is not a JSON object at all (or nested
    beyond what the JSON reader can follow)."""
    if not isinstance(text, str | bytes | bytearray):
        return {}
    try:
        data = loads_json(text)
    except (ValueError, RecursionError, TypeError):
        return {}
    if not isinstance(data, dict):
        return {}
    return sanitize(data)
