from django.conf import settings
from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path, re_path
from django.utils.functional import lazy
from django.views.generic import RedirectView

from accounts import admin as accounts_admin
from accounts import sso, two_factor
from accounts import views as accounts_views
from bugsink import health, supervision_views
from ingest import quarantine_views
from issues.views import ref as issue_ref_views

# settings.INSTALLED_APPS has the admin's SimpleAdminConfig: its modules are found here, where the URLs need them
admin.autodiscover()

# The admin carries the product's name; lazy, so it is read from the settings at each page (tests override it).
admin.site.site_header = lazy(lambda: f"{settings.SITE_TITLE} administration", str)()
admin.site.site_title = lazy(lambda: f"{settings.SITE_TITLE} admin", str)()
admin.site.index_title = "Everything stored"

# a request Django refuses (too many fields, a body too big, a bad Host header): a 400 with a JSON detail under the
# APIs (bugsink.http_errors)
handler400 = "bugsink.http_errors.bad_request"

urlpatterns = [
    # the intake's routes (envelope, store, security), first: the fast path (ingest.fastpath) resolves with them too
    path("", include("ingest.urls")),
    path("api/0/", include("api.urls")),
    path("health/live", health.live, name="health-live"),
    path("health/ready", health.ready, name="health-ready"),
    path("admin/quarantine/", quarantine_views.quarantine_list, name="quarantine-list"),
    path(
        "admin/quarantine/<int:project_id>/<str:name>/download",
        quarantine_views.quarantine_download,
        name="quarantine-download",
    ),
    path(
        "admin/quarantine/<int:project_id>/<str:name>/retry", quarantine_views.quarantine_retry, name="quarantine-retry"
    ),
    path("admin/processes/", supervision_views.processes, name="supervisor-processes"),
    path("admin/sso/", accounts_admin.sso_overview, name="admin-sso"),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    # the names django-allauth's flows redirect to (it has no pages of its own here: accounts/ holds ours)
    path("accounts/login/", accounts_views.LoginView.as_view(), name="account_login"),
    path("accounts/inactive/", accounts_views.inactive, name="account_inactive"),
    path("accounts/2fa/authenticate/", two_factor.second_step, name="mfa_authenticate"),
    path("accounts/preferences/two-factor/", two_factor.overview, name="mfa_index"),
    path("accounts/sso/cancelled/", accounts_views.sso_cancelled, name="socialaccount_login_cancelled"),
    path("accounts/oidc/<str:provider_id>/login/", sso.login, name="openid_connect_login"),
    path("projects/", include("projects.urls")),
    path("issues/<uuid:issue_id>/", include("issues.issue_urls")),
    path("", include("artifacts.urls")),  # before releases.urls: its <path:version> would take .../id/N/artifacts/
    path("", include("releases.urls")),
    path("", include("monitors.urls")),
    path("", include("logs.urls")),
    path("", include("issues.urls")),
    # any other form of an issue's id (short id MYAPP-12, UUID without dashes or in capitals): to the canonical URL
    re_path(r"^issues/(?P<ref>[^/]+)/(?P<rest>.*)$", issue_ref_views.issue_by_ref, name="issue-by-ref"),
    path("", RedirectView.as_view(pattern_name="projects:list", permanent=False), name="home"),
    # browsers ask for it on pages that name no icon (the admin's): the site's icon, not a 404 in the console
    path("favicon.ico", RedirectView.as_view(url=static("img/favicon.svg"), permanent=True)),
]
