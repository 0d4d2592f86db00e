"""What a release may be called: Sentry's rules, in one place for ingest and the API.

A version has no slash, backslash, line break or tab (it goes into URL paths and into the issue search); it is not
`.`, `..` or blank (a path segment browsers normalise away, or nothing), nor `latest` in any case (the API's word
for the newest release); it has at most 200 characters, and no NUL (PostgreSQL cannot store it). Digest keeps an
event whose release breaks a rule, without the release, and says so on the event (digest.normalize); the API
answers 400 (api.validation).
"""

MAX_VERSION_LENGTH = 200
FORBIDDEN_CHARACTERS = {
    "/": "a slash",
    "\\": "a backslash",
    "\n": "a line break",
    "\r": "a line break",
    "\f": "a line break",
    "\v": "a line break",
    "\t": "a tab",
    "\x00": "a NUL character",
}
RESERVED = {".", ".."}


def release_name_problem(version) -> str | None:
    """Why `version` cannot be a release's name, in words fit for a 400 or a note on an event; None when it can."""
    if not isinstance(version, str):
        return "a release's version must be a string"
    if not version.strip():
        return "a release's version may not be blank"
    if version.strip() != version:
        return "a release's version may not begin or end with whitespace"
    if version in RESERVED:
        return f"{version!r} cannot be a release's version"
    if version.lower() == "latest":
        return "'latest' cannot be a release's version (it names the newest release)"
    if len(version) > MAX_VERSION_LENGTH:
        return f"a release's version may have at most {MAX_VERSION_LENGTH} characters"
    found = sorted({name for char, name in FORBIDDEN_CHARACTERS.items() if char in version})
    if found:
        return f"a release's version may not hold {' or '.join(found)}"
    return None
