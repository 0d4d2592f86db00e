"""Fixtures the issues tests share with other apps' tests."""

# the real esbuild + sentry-cli builds of an app with source maps (reprocessing after a late upload)
from digest.tests.test_symbolicate import build, esbuild  # noqa: F401
