"""Trim an oversized event until it fits, instead of dropping it.

SDKs send what the application had: a 10 MB string in one frame's locals, or a deep stack of ordinary locals that adds
up to 24 MB. Ingest accepts such an event up to MAX_EVENT_TRIM_SIZE; digest calls `trim_event` on the normalized
event (after grouping, so a trimmed event groups with its untrimmed siblings) and stores at most MAX_EVENT_SIZE.

Steps, in order, each only while the event is still too large (the least useful data goes first):
1. long strings are cut to STRING_KEEP_CHARS, the longest first, each followed by a note of its original length;
2. the locals (`vars`) of frames are dropped, the frames farthest from the crash first, but not yet those of the
   crash frames (the innermost frame of each exception, and of a crashed thread);
3. the middle of long stacks is removed, keeping the outermost KEEP_OUTER_FRAMES and the innermost
   KEEP_INNER_FRAMES frames; the stack records the omitted range in `frames_omitted` (as Sentry's protocol does);
4. the oldest breadcrumbs are removed;
5. the largest entries of `extra`, then of `contexts`, are removed;
6. the largest other top-level fields (request, modules, threads, ...) are removed, but not those in ESSENTIAL;
7. the crash frames' locals are dropped, the causes' before the raised exception's;
8. the event is reduced to its essentials: scalars, tags, the message and the exceptions with their types, values
   and crash frames, texts cut to ESSENTIAL_KEEP_CHARS;
9. tags, fingerprint and user go, then the oldest exceptions of the chain (the raised exception stays);
and should even that not fit (a limit of a few KiB), only the raised exception's type and value are kept.

Sizes are those of `json.dumps(event)`, the text digest stores, so "fits" is exact. Within a step, savings are
computed from the serialized size of what is removed (JSON's size is the sum of its parts), and the whole event is
measured again after each step. What was removed is recorded in the event under MARKER, small and countable, and
`describe` turns it into the sentence the event page shows.
"""

import json

import orjson

from events.trimmed import MARKER, MAX_NAMES
from tags.extract import NOT_INDEXED_KEY

STRING_KEEP_CHARS = 16 * 1024
KEEP_OUTER_FRAMES = 10
KEEP_INNER_FRAMES = 40
ESSENTIAL_KEEP_CHARS = 1024  # texts of the last step
ESSENTIAL_MAX_EXCEPTIONS = 20
ESSENTIAL_MAX_TAGS = 100
MARKER_SLACK = 2048  # the marker grows as steps add counts and names to it (about 1 KB at most)
ESSENTIAL = frozenset(
    {
        "event_id",
        "timestamp",
        "received",
        "level",
        "platform",
        "exception",
        "logentry",
        "message",
        "release",
        "dist",
        "environment",
        "transaction",
        "server_name",
        "logger",
        "culprit",
        "tags",
        "fingerprint",
        "user",
        NOT_INDEXED_KEY,
        MARKER,
    }
)


def size_of(value) -> int:
    return len(json.dumps(value))


def _member_size(key: str, value) -> int:
    """What removing `key` from a dict with other members saves: `"key": value` and a separator."""
    return size_of(key) + 2 + size_of(value) + 2


def fit_event(event: dict, limit: int, sanitized: bool = False) -> tuple[dict, str]:
    """The event, changed in place to serialize to at most `limit` bytes (for any `limit` of a few KiB or more), and
    its JSON text: the size check serializes the event anyway, and digest stores that text. An event that fits is
    returned as it is, without a marker; a marker an SDK sent is not ours and goes.

    `sanitized`: the caller vouches that the event went through events.safe.sanitize (no NaN or Infinity, integers
    within 64 bits, text keys): then an event that a cheap bound shows to fit is serialized by orjson, compact."""
    event.pop(MARKER, None)
    if sanitized:
        text = _fits_cheaply(event, limit)
        if text is not None:
            return event, text
    text = json.dumps(event)
    original = len(text)
    if original <= limit:
        return event, text
    del text  # as big as the event: not held while trimming
    event = _trim(event, limit, original)
    return event, json.dumps(event)


def _fits_cheaply(event: dict, limit: int) -> str | None:
    """The event's compact JSON text by orjson (about ten times faster than json.dumps) when it surely fits: ASCII
    only, and at most limit / 2 bytes. For ASCII text json.dumps's form (the size trim measures) differs from
    orjson's compact one only by a space after each separator and a "+" in a float's exponent, each after at least
    one character of orjson's text: at most twice its length. Anything else (non-ASCII text, an event near the limit,
    something orjson refuses) None: json.dumps decides, exactly, as before. The text reads back as the same data
    (key order kept; NaN, which orjson would write as null, cannot be in a sanitized event)."""
    try:
        raw = orjson.dumps(event)
    except (TypeError, orjson.JSONEncodeError):
        return None
    if 2 * len(raw) > limit or not raw.isascii():
        return None
    return raw.decode("ascii")


def trim_event(event: dict, limit: int) -> dict:
    return fit_event(event, limit)[0]


def _trim(event: dict, limit: int, original: int) -> dict:
    marker: dict = {"original_size": original}
    event[MARKER] = marker
    for step in STEPS:
        need = size_of(event) - limit + MARKER_SLACK
        if need <= MARKER_SLACK:
            break
        step(event, need, marker)
    _record_size(event, marker)
    if marker["size"] > limit:
        event = _bare(event, marker, limit)
        _record_size(event, marker)
    return event


def _record_size(event: dict, marker: dict) -> None:
    """The marker holds the event's final size, its own digits included (the second round changes a digit at most)."""
    for _ in range(3):
        size = size_of(event)
        if marker.get("size") == size:
            return
        marker["size"] = size


# --- walking ------------------------------------------------------------------------------------------------------


def _long_strings(event: dict, keep: int) -> list[tuple[dict | list, object, str, bool]]:
    """(container, key or index, text, inside frame locals) of every string value longer than `keep`."""
    found = []
    stack: list[tuple[object, bool]] = [(event, False)]
    while stack:
        node, in_vars = stack.pop()
        if isinstance(node, dict):
            items = node.items()
        elif isinstance(node, list):
            items = enumerate(node)
        else:
            continue
        for key, value in items:
            if isinstance(value, str):
                if len(value) > keep:
                    found.append((node, key, value, in_vars))
            elif isinstance(value, dict | list):
                stack.append((value, in_vars or key == "vars"))
    return found


def _stacks(event: dict) -> list[tuple[dict, int, bool]]:
    """(stacktrace, rank, crashed) of every stack; rank 0 is the raised exception's, which is trimmed last; a crashed
    stack's innermost frame is where it crashed."""
    stacks = []
    exceptions = _values(event.get("exception"))
    for index, exception in enumerate(exceptions):
        stacktrace = exception.get("stacktrace")
        if isinstance(stacktrace, dict) and isinstance(stacktrace.get("frames"), list):
            stacks.append((stacktrace, len(exceptions) - 1 - index, True))
    for thread in _values(event.get("threads")):
        stacktrace = thread.get("stacktrace")
        if isinstance(stacktrace, dict) and isinstance(stacktrace.get("frames"), list):
            crashed = thread.get("crashed") is True
            stacks.append((stacktrace, len(exceptions) + (0 if crashed else 1), crashed))
    if isinstance(event.get("stacktrace"), dict) and isinstance(event["stacktrace"].get("frames"), list):
        stacks.append((event["stacktrace"], len(exceptions), True))
    return stacks


def _values(container) -> list[dict]:
    values = container.get("values") if isinstance(container, dict) else container
    return [v for v in values if isinstance(v, dict)] if isinstance(values, list) else []


def _count(marker: dict, key: str, n: int = 1) -> None:
    marker[key] = marker.get(key, 0) + n


def _name(key) -> str:
    return str(key)[:64]


# --- the steps ----------------------------------------------------------------------------------------------------


def cut_text(text: str, keep: int) -> str:
    return f"{text[:keep]}… [{len(text):,} characters, cut to {keep:,}]"


def cut_long_strings(event: dict, need: int, marker: dict, keep: int = STRING_KEEP_CHARS) -> int:
    candidates = _long_strings(event, keep)
    candidates.sort(key=lambda c: len(c[2]), reverse=True)
    saved = 0
    for container, key, text, in_vars in candidates:
        if saved >= need:
            break
        cut = cut_text(text, keep)
        saved += size_of(text) - size_of(cut)
        container[key] = cut
        _count(marker, "frame_variables_cut" if in_vars else "values_cut")
        marker["cut_to"] = keep
    return saved


def drop_far_locals(event: dict, need: int, marker: dict, crash_frames: bool = False) -> int:
    """The locals of frames other than crash frames, or (`crash_frames`) of the crash frames."""
    frames = []  # (rank of its stack, distance from the crash, frame)
    for stacktrace, rank, crashed in _stacks(event):
        stack_frames = stacktrace["frames"]
        for distance, frame in enumerate(reversed(stack_frames)):
            if (crashed and distance == 0) != crash_frames:
                continue
            if isinstance(frame, dict) and "vars" in frame:
                frames.append((rank, distance, frame))
    # the farthest from its crash first; among equals, the stacks that matter less
    frames.sort(key=lambda f: (f[1], f[0]), reverse=True)
    saved = 0
    for _, _, frame in frames:
        if saved >= need:
            break
        saved += _member_size("vars", frame.pop("vars"))
        _count(marker, "frame_locals_dropped")
    return saved


def omit_middle_frames(event: dict, need: int, marker: dict) -> int:
    saved = 0
    for stacktrace, _, _ in sorted(_stacks(event), key=lambda s: s[1], reverse=True):
        frames = stacktrace["frames"]
        if saved >= need or len(frames) <= KEEP_OUTER_FRAMES + KEEP_INNER_FRAMES:
            continue
        if "frames_omitted" in stacktrace:
            continue  # the SDK omitted frames already: indices into its list would no longer mean anything
        end = len(frames) - KEEP_INNER_FRAMES  # the frames before `end` and from `start` on go, innermost first
        start = end
        while start > KEEP_OUTER_FRAMES and saved < need:
            start -= 1
            saved += size_of(frames[start]) + 2
        del frames[start:end]
        stacktrace["frames_omitted"] = [start, end]
        _count(marker, "frames_omitted", end - start)
    return saved


def drop_old_breadcrumbs(event: dict, need: int, marker: dict) -> int:
    crumbs = event.get("breadcrumbs")
    values = crumbs.get("values") if isinstance(crumbs, dict) else None
    if not isinstance(values, list):
        return 0
    saved, drop = 0, 0
    while drop < len(values) and saved < need:
        saved += size_of(values[drop]) + 2
        drop += 1
    del values[:drop]
    if drop:
        _count(marker, "breadcrumbs_dropped", drop)
    return saved


def _drop_largest_members(mapping: dict, need: int, protected=frozenset()) -> list[str]:
    sizes = sorted(
        ((_member_size(key, value), key) for key, value in mapping.items() if key not in protected), reverse=True
    )
    saved, dropped = 0, []
    for size, key in sizes:
        if saved >= need:
            break
        del mapping[key]
        saved += size
        dropped.append(key)
    return dropped


def drop_extra_and_contexts(event: dict, need: int, marker: dict) -> int:
    saved = 0
    for field in ("extra", "contexts"):
        mapping = event.get(field)
        if saved >= need or not isinstance(mapping, dict):
            continue
        before = size_of(mapping)
        dropped = _drop_largest_members(mapping, need - saved)
        saved += before - size_of(mapping)
        if dropped:
            _count(marker, f"{field}_dropped", len(dropped))
    return saved


def drop_other_fields(event: dict, need: int, marker: dict) -> int:
    before = size_of(event)
    dropped = _drop_largest_members(event, need, protected=ESSENTIAL)
    if dropped:
        marker["fields_dropped"] = [_name(key) for key in dropped[:MAX_NAMES]]
    return before - size_of(event)


def _essential_frame(frame) -> dict:
    if not isinstance(frame, dict):
        return {}
    keep = ("filename", "abs_path", "module", "function", "lineno", "colno", "in_app", "context_line")
    return {key: frame[key] for key in keep if key in frame}


def _essential_exception(exception: dict) -> dict:
    result = {key: exception[key] for key in ("type", "value", "module", "mechanism") if key in exception}
    stacktrace = exception.get("stacktrace")
    frames = stacktrace.get("frames") if isinstance(stacktrace, dict) else None
    if isinstance(frames, list) and frames:
        result["stacktrace"] = {"frames": [_essential_frame(frames[-1])]}
    return result


def reduce_to_essentials(event: dict, need: int, marker: dict) -> int:
    """Only the fields of ESSENTIAL remain; long texts are cut shorter; each exception keeps its crash frame; the
    most recent ESSENTIAL_MAX_EXCEPTIONS exceptions and the first ESSENTIAL_MAX_TAGS tags stay."""
    before = size_of(event)
    exceptions = _values(event.get("exception"))
    if exceptions:
        kept = exceptions[-ESSENTIAL_MAX_EXCEPTIONS:]
        event["exception"] = {"values": [_essential_exception(e) for e in kept]}
        if len(kept) < len(exceptions):
            _count(marker, "exceptions_dropped", len(exceptions) - len(kept))
    for key in [key for key in event if key not in ESSENTIAL]:
        del event[key]
    for key in ("tags", "fingerprint"):
        value = event.get(key)
        if isinstance(value, dict) and len(value) > ESSENTIAL_MAX_TAGS:
            event[key] = dict(list(value.items())[:ESSENTIAL_MAX_TAGS])
        elif isinstance(value, list) and len(value) > ESSENTIAL_MAX_TAGS:
            event[key] = value[:ESSENTIAL_MAX_TAGS]
    if isinstance(event.get("logentry"), dict):  # the parameters are in the formatted message already
        event["logentry"] = {k: v for k, v in event["logentry"].items() if k in ("message", "formatted")}
    if isinstance(event.get("user"), dict):
        event["user"] = {k: v for k, v in event["user"].items() if k in ("id", "username", "email", "ip_address")}
    marker["reduced_to_essentials"] = True
    cut_long_strings(event, size_of(event), marker, keep=ESSENTIAL_KEEP_CHARS)
    return before - size_of(event)


def drop_crash_locals(event: dict, need: int, marker: dict) -> int:
    return drop_far_locals(event, need, marker, crash_frames=True)


def drop_older_exceptions(event: dict, need: int, marker: dict) -> int:
    before = size_of(event)
    dropped = [key for key in ("tags", "fingerprint", "user") if event.pop(key, None) is not None]
    if dropped:
        marker["fields_dropped"] = [*marker.get("fields_dropped", []), *dropped][:MAX_NAMES]
    exceptions = event["exception"]["values"] if isinstance(event.get("exception"), dict) else []
    drop, saved = 0, before - size_of(event)
    while drop < len(exceptions) - 1 and saved < need:
        saved += size_of(exceptions[drop]) + 2
        drop += 1
    if drop:
        del exceptions[:drop]
        _count(marker, "exceptions_dropped", drop)
    return saved


STEPS = (
    cut_long_strings,
    drop_far_locals,
    omit_middle_frames,
    drop_old_breadcrumbs,
    drop_extra_and_contexts,
    drop_other_fields,
    drop_crash_locals,
    reduce_to_essentials,
    drop_older_exceptions,
)


def _short(value, chars: int):
    if isinstance(value, str):
        return value[:chars]
    return value if isinstance(value, int | float | bool) or value is None else None


def _bare(event: dict, marker: dict, limit: int) -> dict:
    """The least an event can be: its identity and the raised exception's type and value (or its message), cut as
    short as `limit` requires. Reached only by events made of a great many small parts (hostile ones)."""
    marker["reduced_to_essentials"] = True
    marker["bare"] = True
    exceptions = _values(event.get("exception"))
    chars = ESSENTIAL_KEEP_CHARS
    while True:
        bare = {key: _short(event.get(key), 64) for key in ("event_id", "timestamp", "received", "level", "platform")}
        if exceptions:
            raised = exceptions[-1]
            bare["exception"] = {
                "values": [{"type": _short(raised.get("type"), chars), "value": _short(raised.get("value"), chars)}]
            }
        elif isinstance(event.get("logentry"), dict):
            entry = event["logentry"]
            message, formatted = _short(entry.get("message"), chars), _short(entry.get("formatted"), chars)
            bare["logentry"] = {"message": message, "formatted": formatted}
        bare[MARKER] = marker
        if size_of(bare) <= limit or chars <= 16:
            return bare
        chars //= 4


# --- the note on the event page -----------------------------------------------------------------------------------
