"""Template context every page gets.

The product's name lives in one setting (SITE_TITLE) so an installation can call it what its people know it as;
templates read it as `site_title` rather than spelling a name out."""

from django.conf import settings

from bugsink.version import VERSION


def site(request) -> dict:
    return {"site_title": settings.SITE_TITLE, "app_version": VERSION}
