"""Text that clients send, shown safely: direction controls that cannot leak, invisible characters made visible.

Two hazards of Unicode text that reaches the pages from SDKs and users:

- **Direction controls.** U+202E (RIGHT-TO-LEFT OVERRIDE) in an exception message reverses the message, and, unless
  something ends its reach, every character after it on the same line: the "· 1 event" beside a title, the site's
  name in the window title. In HTML each such text is isolated (`<bdi>` or `dir="auto"`), which ends an override at
  the element's end; where there is no markup (`<title>`, e-mail subjects and text bodies, chat titles)
  `strip_bidi` removes the controls, so they cannot reverse what follows.
- **Invisible characters.** `1.0.0`, `1.0.0` + U+200B (ZERO WIDTH SPACE) and U+FEFF + `1.0.0` are three releases
  that look alike, and an environment named U+200B looks like none. Where a name's identity matters (releases,
  environments, tag keys and values) `visible_controls` shows each such character as `⟨U+200B⟩`.

"Invisible" here is by Unicode category: every format character (Cf: direction marks, embeddings, overrides and
isolates, zero-width spaces and joiners, the byte order mark, soft hyphen, ...), control character (Cc), line and
paragraph separator (Zl, Zp), and the fillers that render as nothing (Hangul fillers, the combining grapheme joiner,
Mongolian variation selectors). Variation selectors of emoji are left alone: they change how a visible character
looks, they do not hide one.
"""

import re
import unicodedata

# The explicit direction formatting characters (embeddings, overrides, isolates and their terminators) and the
# implicit marks (LRM, RLM, ALM): all of Unicode's bidi controls.
BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_BIDI = re.compile(f"[{BIDI_CONTROLS}]")

# Default-ignorable characters outside the categories below that show as nothing
_FILLERS = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180e\u180f\u3164\uffa0")
_INVISIBLE_CATEGORIES = frozenset({"Cf", "Cc", "Zl", "Zp"})


def is_invisible(char: str) -> bool:
    """Whether one character shows as nothing (or acts on its neighbours) rather than as a glyph of its own."""
    return char in _FILLERS or unicodedata.category(char) in _INVISIBLE_CATEGORIES


def strip_bidi(text) -> str:
    """The text without bidi controls: for places without markup to isolate it in (titles, e-mail, chat)."""
    text = "" if text is None else str(text)
    return _BIDI.sub("", text)


def visible_controls(text) -> str:
    """The text with each invisible character written out as ⟨U+XXXX⟩, so that two names that differ only in
    those characters look different, and none looks empty."""
    text = "" if text is None else str(text)
    if text.isprintable() and not any(c in _FILLERS for c in text):
        return text  # the common case: nothing to show (isprintable() is false for every category above)
    return "".join(f"⟨U+{ord(c):04X}⟩" if is_invisible(c) else c for c in text)
