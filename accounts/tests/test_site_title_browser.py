"""In a real browser (Debian's Chromium through Playwright, against the live server): after logging in, the top bar
and the tab's title carry the product's name, SITE_TITLE (the server runs with this process's settings)."""

import pytest
from django.conf import settings

from testing.browser import login

pytestmark = [pytest.mark.live, pytest.mark.slow]


def test_top_bar_names_the_site_title(transactional_db, live_server_url, chromium_page, django_user_model):
    django_user_model.objects.create_user("ann", "ann@example.com", "pw")
    login(chromium_page, live_server_url, "ann", "pw")
    brand = chromium_page.locator("header.topbar a.brand")
    assert brand.inner_text().strip() == settings.SITE_TITLE
    assert chromium_page.title().endswith(f" · {settings.SITE_TITLE}")
    assert "Bugsink" not in chromium_page.locator("header.topbar").inner_text()
