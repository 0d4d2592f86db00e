"""Artifact bundles as sentry-cli makes them (a zip: manifest.json plus the files), for tests."""

import io
import json
import zipfile

DEBUG_ID = "105b7abf-71d1-50b0-aa11-c6275b57e8fd"
MINIFIED = b'function boom(){throw new Error("boom")}boom();\n//# sourceMappingURL=app.min.js.map\n'
SOURCE_MAP = b'{"version":3,"file":"app.min.js","sources":["src/app.js"],"names":[],"mappings":"AAAA"}'


def bundle_zip(files=None, manifest=None, debug_id: str = "d200aca5-db79-5d49-aedb-f201065a9459") -> bytes:
    """A bundle with a minified file and its map (both with DEBUG_ID), or the `files` and `manifest` given."""
    if files is None:
        files = {"files/_/_/app.min.js": MINIFIED, "files/_/_/app.min.js.map": SOURCE_MAP}
    if manifest is None:
        manifest = {
            "files": {
                "files/_/_/app.min.js": {
                    "type": "minified_source",
                    "url": "~/app.min.js",
                    "headers": {"debug-id": DEBUG_ID, "sourcemap": "app.min.js.map"},
                },
                "files/_/_/app.min.js.map": {
                    "type": "source_map",
                    "url": "~/app.min.js.map",
                    "headers": {"debug-id": DEBUG_ID},
                },
            },
            "debug_id": debug_id,
            "org": "main",
        }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in files.items():
            zf.writestr(name, content)
        zf.writestr("manifest.json", json.dumps(manifest))
    return out.getvalue()
