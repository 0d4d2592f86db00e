"""Which issue an event belongs to. The grouping key, in order of preference:

1. the SDK's `fingerprint`, where "{{ default }}" stands for the default key below;
2. a synthetic exception (`mechanism.synthetic`: a message with an attached stack, a thrown string): its in-app
   frames plus the message, never its made-up type; the title is the message;
3. the exception chain: each exception's type plus its in-app frames (module or file, and function: never line
   numbers, so an edit elsewhere in the file does not split an issue); all frames when none is marked in-app. A
   frame without a usable function name (module-level code, `?`, `<anonymous>`) counts by its source line
   (`context_line`), else by its line number;
4. exceptions without any frames: type plus the value with numbers, hex and ids masked;
5. the unformatted log message ("user %s failed", not "user 42 failed").

File names lose their query, origin and bundle hashes (hex, base32, base64url), and JavaScript frames are grouped
as their source maps say (digest.symbolicate runs first), so a rebuild does not open new issues.

When these rules change, the key the first version made (`legacy=True`) is looked up too, so an issue made under
it keeps its events (digest adds the new key to it): a change never splits an existing issue.

Also here: the title parts and culprit of an event, since they read the same structures. README "Grouping" has
examples.
"""

import hashlib
import re

from events.filenames import short_filename
from events.safe import values_of

DEFAULT_MARKERS = {"{{ default }}", "{{default}}"}

_MASKS = [
    (re.compile(r"\b[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}\b"), "<uuid>"),
    (re.compile(r"\b0x[0-9a-fA-F]+\b"), "<hex>"),
    (re.compile(r"\b(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{12,}\b"), "<hex>"),
    (re.compile(r"\d+(?:\.\d+)?"), "<num>"),
]
_URL_ORIGIN = re.compile(r"^[a-z][a-z0-9+.-]*://[^/]*", re.IGNORECASE)
# the masking of bundle hashes in file names that the first grouping keys were made with: hex only
_BUNDLE_HASH = re.compile(r"([.-])[0-9a-f]{8,}(?=\.)", re.IGNORECASE)
_HEX = re.compile(r"[0-9a-f]{8,}", re.IGNORECASE)
_ALPHANUMERIC = re.compile(r"[A-Za-z0-9]{8,}")
_BASE64URL = re.compile(r"[A-Za-z0-9_-]{8,}")
_WORD_AND_NUMBER = re.compile(r"[A-Z]?[a-z]+[0-9]{1,4}")  # settings2, Vendor2023: names, not hashes
_SHORT_LOWER_RUN = re.compile(r"(?<=[A-Z])[a-z](?=[A-Z])")  # BxQaFd: a random mix of cases, unlike MyPlugin


def mask_variable_parts(text: str) -> str:
    for pattern, replacement in _MASKS:
        text = pattern.sub(replacement, text)
    return text


def exception_chain(event: dict) -> list[dict]:
    """Oldest first; the exception actually raised is the last one."""
    return values_of(event.get("exception"))


def frames_of(container: dict) -> list[dict]:
    stacktrace = container.get("stacktrace")
    if not isinstance(stacktrace, dict):
        return []
    return [f for f in stacktrace.get("frames") or [] if isinstance(f, dict)]


def looks_like_hash(token: str) -> bool:
    """Is this part of a file name a content hash that the next build changes? Bundlers write them in hex
    (webpack's [contenthash]), base32 (esbuild: CN2JVIP6) or base64url (Rollup and Vite: BxQ9f3Kd, B_Qx-3aF), 8
    characters or more; words (settings, MyPlugin) and a word with a number (settings2) are names."""
    if len(token) < 8 or not _BASE64URL.fullmatch(token):
        return False
    if _HEX.fullmatch(token):
        return True
    letters = [c for c in token if c.isalpha()]
    if any(c.isdigit() for c in token):
        return bool(letters) and not _WORD_AND_NUMBER.fullmatch(token)
    if all(c.isupper() for c in letters):
        return len(letters) >= 8  # base32 without a digit; an all-caps word of 8+ letters is no file name
    return len(_SHORT_LOWER_RUN.findall(token)) >= 2


def _mask_dash_hash(part: str) -> str:
    """`name-HASH` (esbuild, Vite) with the hash masked: the text after the last dash, or the last 8 characters
    after a dash (a base64url hash may itself hold a dash)."""
    name, dash, tail = part.rpartition("-")
    if dash and name and looks_like_hash(tail):
        return f"{name}-<hash>"
    if len(part) > 9 and part[-9] == "-" and looks_like_hash(part[-8:]):
        return f"{part[:-9]}-<hash>"
    return part


def mask_file_hashes(basename: str) -> str:
    """A file name with its bundle hashes masked: `main.3f2a1b9c.js`, `app-CN2JVIP6.js`, `index-BxQ9f3Kd.js`,
    `123.abcdef12.chunk.js`, `3f2a1b9c.js`; the extension stays."""
    parts = basename.split(".")
    if len(parts) < 2:
        return basename
    masked = []
    for part in parts[:-1]:
        if _ALPHANUMERIC.fullmatch(part) and looks_like_hash(part):
            masked.append("<hash>")
        else:
            masked.append(_mask_dash_hash(part))
    return ".".join([*masked, parts[-1]])


def _clean_filename(filename: str, legacy: bool = False) -> str:
    """The file name as grouping sees it: no query, no origin, bundle hashes masked. `legacy` is the masking of the
    first grouping keys (hex only), which digest still looks up so that their issues keep their events."""
    filename = filename.split("?", 1)[0].split("#", 1)[0]
    filename = _URL_ORIGIN.sub("", filename)
    filename = _BUNDLE_HASH.sub(r"\1<hash>", filename)
    if legacy:
        return filename
    folder, slash, basename = filename.rpartition("/")
    return f"{folder}{slash}{mask_file_hashes(basename)}"


# function names that say nothing about where the code is: module-level code, anonymous callbacks
_NO_FUNCTION = {"", "?", "<anonymous>", "anonymous", "<module>", "<unknown>", "Anonymous function", "(anonymous)"}
_WHITESPACE = re.compile(r"\s+")
MAX_CONTEXT_LINE_CHARS = 200


def frame_identity(frame: dict, legacy: bool = False) -> str | None:
    """Where a frame is, for grouping: its module or cleaned file name, and its function. A frame without a usable
    function name (top-level module code, an anonymous callback) is told apart by its source line (whitespace
    squeezed), else by its line number: otherwise every such frame of a file would be the same frame."""
    where = frame.get("module") or _clean_filename(frame.get("filename") or frame.get("abs_path") or "", legacy)
    function = frame.get("function") or ""
    if not where and not function:
        return None
    if legacy or (isinstance(function, str) and function.strip() not in _NO_FUNCTION):
        return f"{where}:{function or '?'}"
    context_line = frame.get("context_line")
    if isinstance(context_line, str) and context_line.strip():
        return f"{where}:?:{_WHITESPACE.sub(' ', context_line.strip())[:MAX_CONTEXT_LINE_CHARS]}"
    lineno = frame.get("lineno")
    if isinstance(lineno, int) and not isinstance(lineno, bool):
        return f"{where}:?:line {lineno}"
    return f"{where}:?"


def is_synthetic(exception: dict) -> bool:
    """An exception the SDK made up to carry a stack (captureMessage with attachStacktrace, a thrown string or
    object): its type says nothing about the error."""
    mechanism = exception.get("mechanism")
    return isinstance(mechanism, dict) and mechanism.get("synthetic") is True


def _event_message(event: dict) -> str:
    logentry = event.get("logentry")
    if isinstance(logentry, dict) and isinstance(logentry.get("message"), str) and logentry["message"]:
        return logentry["message"]
    if isinstance(event.get("message"), str):
        return event["message"]
    return ""


def grouping_frames(frames: list[dict]) -> list[dict]:
    in_app = [f for f in frames if f.get("in_app") is True]
    return in_app or frames


def default_grouping_parts(event: dict, legacy: bool = False) -> list[str]:
    exceptions = exception_chain(event)
    if exceptions and not legacy and is_synthetic(exceptions[-1]):
        # by its stack and its message, not by the made-up type: two messages from one module are two issues
        frames = grouping_frames(frames_of(exceptions[-1]))
        identities = [f"frame:{i}" for i in (frame_identity(f) for f in frames) if i]
        message = _event_message(event) or exceptions[-1].get("value") or ""
        return ["synthetic", *identities, f"message:{message}"]
    if exceptions:
        parts = []
        any_frames = False
        for exc in exceptions:
            parts.append(f"type:{exc.get('type') or ''}")
            for frame in grouping_frames(frames_of(exc)):
                identity = frame_identity(frame, legacy)
                if identity:
                    any_frames = True
                    parts.append(f"frame:{identity}")
        if any_frames:
            return ["exception", *parts]
        return [
            "exception-no-frames",
            *(f"{exc.get('type') or ''}:{mask_variable_parts(exc.get('value') or '')}" for exc in exceptions),
        ]
    if _event_message(event):
        return ["message", _event_message(event)]
    for thread in values_of(event.get("threads")):
        frames = grouping_frames(frames_of(thread))
        identities = [i for i in (frame_identity(f, legacy) for f in frames) if i]
        if identities and (thread.get("crashed") or thread.get("current")):
            return ["thread", *identities]
    return ["nothing", event.get("culprit") or event.get("transaction") or ""]


def grouping_key(event: dict, legacy: bool = False) -> str:
    """The event's key; with `legacy`, as the first version of this module made it (see _clean_filename)."""
    fingerprint = event.get("fingerprint")
    if fingerprint:
        parts = []
        for part in fingerprint:
            if part.strip() in DEFAULT_MARKERS:
                parts.extend(default_grouping_parts(event, legacy))
            else:
                parts.append(f"fingerprint:{part}")
        return "\n".join(parts)
    return "\n".join(default_grouping_parts(event, legacy))


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def title_parts(event: dict) -> tuple[str, str]:
    """(type, value) for the event's title: the raised exception, else the formatted log message."""
    exceptions = exception_chain(event)
    if exceptions:
        raised = exceptions[-1]
        exc_type, exc_value = raised.get("type") or "", raised.get("value") or ""
        if is_synthetic(raised):
            exc_type = ""  # titled by the message, as a message event is
        if exc_type or exc_value:
            return exc_type, exc_value
    logentry = event.get("logentry")
    if isinstance(logentry, dict) and (logentry.get("formatted") or logentry.get("message")):
        return "", logentry.get("formatted") or logentry["message"]
    if isinstance(event.get("message"), str) and event["message"]:
        return "", event["message"]
    if exceptions:
        return "Error", ""
    return "", event.get("culprit") or event.get("transaction") or ""


def culprit(event: dict) -> str:
    """The crashing in-app frame of the raised exception: 'module in function'."""
    exceptions = exception_chain(event)
    frames = frames_of(exceptions[-1]) if exceptions else []
    if not frames:
        for thread in values_of(event.get("threads")):
            if thread.get("crashed"):
                frames = frames_of(thread)
                break
    if frames:
        in_app = [f for f in frames if f.get("in_app") is True]
        frame = (in_app or frames)[-1]
        where = frame.get("module") or frame.get("filename") or frame.get("abs_path") or ""
        where = short_filename(where) if isinstance(where, str) else where  # a browser's URL, relative to its origin
        function = frame.get("function") or ""
        if where and function:
            return f"{where} in {function}"[:255]
        return (where or function)[:255]
    return (event.get("culprit") or event.get("transaction") or "")[:255]
