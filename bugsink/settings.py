"""Settings, all from environment variables with safe defaults.

The embedded default (no env vars at all) is SQLite in ./data/ and Celery running eagerly in-process.
"""

import os
import secrets
import sys
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from accounts import sso_config
from bugsink import files, links
from bugsink.version import VERSION

# Everything this process creates is for its own user only (database, -wal/-shm, raw events, beat schedule); see
# bugsink/files.py. BUGSINK_UMASK (octal) loosens it, e.g. 027 when a group must read the files.
os.umask(int(os.environ.get("BUGSINK_UMASK") or "077", 8))

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("BUGSINK_DATA_DIR", BASE_DIR / "data"))
files.ensure_private_dir(DATA_DIR)  # 0700, and tightened to it when it exists looser and is ours


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def _secret_key() -> str:
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    # Generated once per installation and kept beside the database, so sessions survive restarts; created 0600 and
    # atomically, so two processes starting at once agree on one key.
    return files.read_or_create(DATA_DIR / "secret_key", lambda: secrets.token_urlsafe(50))


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)

# The product's name as people see it: top bar, page titles, the admin's header, emails, the webhook User-Agent.
SITE_TITLE = os.environ.get("SITE_TITLE", "").strip() or "Culvert"

# The URL people (and SDKs) reach this server at; DSNs and links in alerts are built from it.
BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:8000").rstrip("/")
if not links.is_http_url(BASE_URL):  # emails and chat alerts link to it
    raise ImproperlyConfigured(f"BASE_URL must be {links.HTTP_URL_RULE}, not {BASE_URL!r}.")
_base_host = urlsplit(BASE_URL).hostname or "127.0.0.1"

# Behind TLS (BASE_URL https://...): secure cookies, HSTS and the redirect are on unless switched off.
_https = BASE_URL.startswith("https://")
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", _https)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", _https)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", _https)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if _https else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# a reverse proxy that terminates TLS says so in this header (e.g. "X-Forwarded-Proto")
if os.environ.get("SECURE_PROXY_SSL_HEADER"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + os.environ["SECURE_PROXY_SSL_HEADER"].upper().replace("-", "_"), "https")
# health checks come over plain HTTP from the load balancer
SECURE_REDIRECT_EXEMPT = [r"^health/"]
CSRF_TRUSTED_ORIGINS = [f"{urlsplit(BASE_URL).scheme}://{urlsplit(BASE_URL).netloc}"]

if os.environ.get("ALLOWED_HOSTS"):
    ALLOWED_HOSTS = [h.strip() for h in os.environ["ALLOWED_HOSTS"].split(",") if h.strip()]
else:
    ALLOWED_HOSTS = sorted({_base_host, "127.0.0.1", "localhost", "[::1]", "::1"})

INSTALLED_APPS = [
    # the admin without its autodiscovery at start: bugsink/urls.py loads the admin modules, so the Celery workers,
    # which never load the URLs, do not import them nor the sign-in libraries they reach (~13 MB a worker)
    "django.contrib.admin.apps.SimpleAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "projects",
    "releases",
    "issues",
    "events",
    "ingest",
    "digest",
    "alerts",
    "tags",
    "accounts",
    "api",
    "artifacts",
    "blobs",
    "health",
    "monitors",
    "logs",
    # sign-in (accounts.sso, accounts.two_factor, accounts.sessions): django-allauth's OpenID Connect, TOTP and
    # recovery codes, and the list of a user's sessions
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.mfa",
    "allauth.usersessions",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
]

# Django REST framework imports django.contrib.postgres.fields, if it can, to map PostgreSQL-only model fields (no
# model here has one), and with it psycopg and libpq: ~10 MB resident in every process that loads the API, on SQLite
# and MariaDB too. Marked absent unless the app is installed, DRF takes its own "not installed" branch.
if "django.contrib.postgres" not in INSTALLED_APPS:
    sys.modules.setdefault("django.contrib.postgres.fields", None)

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "ingest.fastpath.IngestFastPathMiddleware",  # SDK requests go from here straight to the ingest views
    "bugsink.csp.ContentSecurityPolicyMiddleware",  # scripts and styles from this origin only (bugsink/csp.py)
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",  # allauth's login stages (the second factor)
    "accounts.sessions.SessionActivityMiddleware",  # each session's address and last use (Preferences), now and then
    "accounts.middleware.RequireTwoFactorMiddleware",  # REQUIRE_2FA: set up a second factor once the grace ends
    "accounts.middleware.UserTimezoneMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "bugsink.urls"
WSGI_APPLICATION = "bugsink.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "bugsink.context_processors.site",
            ],
            # `bugsink` is the project package, not an installed app: register its template tags by name
            "libraries": {"bugsink": "bugsink.templatetags.bugsink"},
        },
    },
]

if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.mysql":
        DATABASES["default"].setdefault("OPTIONS", {})["charset"] = "utf8mb4"
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(DATA_DIR / "db.sqlite3")),
            # keep each thread's connection: opening one (and its PRAGMAs) per request costs more than the request
            "CONN_MAX_AGE": env_int("CONN_MAX_AGE", 600),
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": {
                # Writers take the lock when the transaction starts, so two writers never deadlock on upgrade
                # from a read lock; WAL lets readers (the UI) go on while digest writes.
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
                # prepared statements kept per connection (Python's default: 128). Digest's multi-row INSERTs
                # are big programs, a different one for each batch size: 128 of them held ~7 MB more in the digest
                # worker than 32, for no CPU we could measure (bench/RESULTS.md, issue 22)
                "cached_statements": env_int("SQLITE_CACHED_STATEMENTS", 32),
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
            # A file, not memory: tests that start a live web server share the test database with it.
            # Per process, so two test runs in one checkout do not share (and break) one file.
            "TEST": {"NAME": os.environ.get("SQLITE_TEST_PATH", str(DATA_DIR / f"test-db-{os.getpid()}.sqlite3"))},
        }
    }

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    files.tighten_sqlite(Path(DATABASES["default"]["NAME"]))  # made before the umask was ours, maybe

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Login throttling (accounts.throttle): after this many failed logins within the window, further attempts for
# that username from that address (or from that address at all) are refused until the window ends; 0 = no limit.
# SSO_ONLY (accounts.backends.SsoOnlyBackend): passwords only for superusers.
AUTHENTICATION_BACKENDS = [
    "accounts.throttle.ThrottleBackend",
    "accounts.backends.SsoOnlyBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_FAILURES_PER_USERNAME_AND_IP = env_int("LOGIN_FAILURES_PER_USERNAME_AND_IP", 10)
LOGIN_FAILURES_PER_IP = env_int("LOGIN_FAILURES_PER_IP", 50)
LOGIN_THROTTLE_WINDOW_SECONDS = env_int("LOGIN_THROTTLE_WINDOW_SECONDS", 900)
# password-reset requests per hour: from one address (then refused), to one email (then silently not mailed)
PASSWORD_RESETS_PER_IP = env_int("PASSWORD_RESETS_PER_IP", 10)
PASSWORD_RESETS_PER_EMAIL = env_int("PASSWORD_RESETS_PER_EMAIL", 3)

# /api/0/ (api/): Sentry's web API. One installation is one organization; sentry-cli's --org / SENTRY_ORG is its slug.
ORGANIZATION_SLUG = os.environ.get("ORGANIZATION_SLUG", "").strip() or "main"
ORGANIZATION_NAME = os.environ.get("ORGANIZATION_NAME", "").strip() or SITE_TITLE
REST_FRAMEWORK = {
    # Bearer first: a request without credentials is answered 401 with a WWW-Authenticate header
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.auth.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.TokenScopePermission"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "api.openapi.SentryShapeSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

# the schema at /api/0/schema/ and its Swagger UI at /api/0/docs/ (api/schema.py), with the UI's scripts from the
# sidecar package, served here: nothing loads from a CDN
SPECTACULAR_SETTINGS = {
    "TITLE": f"{SITE_TITLE} API",
    "DESCRIPTION": "The part of Sentry's web API that sentry-cli and scripts use: organization, projects, issues, "
    "events, releases. Authenticate with a personal API token (preferences, API tokens) as a Bearer token.",
    "VERSION": VERSION,
    "SCHEMA_PATH_PREFIX": "/api/0",
    # the groups of the docs page, in this order (api.openapi.SentryShapeSchema.get_tags puts each endpoint in one)
    "TAGS": [
        {"name": "Issues", "description": "Issues and their comments: list, search, update, delete."},
        {"name": "Events", "description": "An issue's events, a project's event by id."},
        {"name": "Releases", "description": "Releases, their commits, deploys and repositories (sentry-cli)."},
        {"name": "Source maps and uploads", "description": "Chunked uploads, artifact bundles, release files."},
        {"name": "Release health", "description": "Sessions per release and environment."},
        {"name": "Cron monitors", "description": "Monitors and their check-ins."},
        {"name": "Organization and projects", "description": "The organization, its projects and teams."},
        {"name": "Authentication", "description": "Who the token is."},
    ],
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["api.permissions.TokenScopePermission"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Sign-in: single sign-on, second factor, sessions (accounts/) -----------------------------------------------------
# OpenID Connect providers (accounts.sso_config: OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_NAME,
# OIDC_ALLOWED_DOMAINS, or OIDC_PROVIDERS=a,b with OIDC_A_ISSUER, ...); the redirect URI to register at a provider is
# BASE_URL + /accounts/oidc/callback/.
OIDC_PROVIDERS = sso_config.providers_from_env(os.environ)
# the password form only for superusers; everyone else signs in with a provider
SSO_ONLY = env_bool("SSO_ONLY", False)
if SSO_ONLY and not OIDC_PROVIDERS:
    raise ImproperlyConfigured("SSO_ONLY needs an OpenID Connect provider (OIDC_ISSUER, ...).")
# everyone who signs in with a password needs a second factor; the grace starts at their next sign-in
REQUIRE_2FA = env_bool("REQUIRE_2FA", False)
REQUIRE_2FA_GRACE_DAYS = env_int("REQUIRE_2FA_GRACE_DAYS", 7)
# how long a link that confirms a new email address works
EMAIL_CHANGE_LINK_HOURS = env_int("EMAIL_CHANGE_LINK_HOURS", 48)

# django-allauth, as our flows use it: no sign-up of its own (accounts come from invitations, the admin, or a first
# single sign-on), no login by email alone, a provider's account matched by its subject only.
ACCOUNT_ADAPTER = "accounts.sso.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "accounts.sso.SocialAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "email", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"  # addresses are checked where they matter (accounts.emails, accounts.sso)
ACCOUNT_UNIQUE_EMAIL = False  # accounts made before may share one; SSO links by address only with a password
ACCOUNT_PREVENT_ENUMERATION = False
ACCOUNT_RATE_LIMITS = False  # accounts.throttle limits sign-ins, both steps
ACCOUNT_LOGOUT_REDIRECT_URL = "accounts:login"
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = False
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_LOGIN_ON_GET = False  # a provider's button is a form (POST, CSRF-checked)
SOCIALACCOUNT_REQUESTS_TIMEOUT = env_int("OIDC_TIMEOUT_SECONDS", 10)
SOCIALACCOUNT_PROVIDERS = {
    "openid_connect": {
        "provider_class": "accounts.sso.OidcProvider",
        "APPS": [provider.as_allauth_app() for provider in OIDC_PROVIDERS],
    }
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = SITE_TITLE
MFA_TOTP_TOLERANCE = 1  # a code of the 30 s before or after counts too (clocks of phones drift)
MFA_REAUTHENTICATION_REQUIRED = False  # adding needs a valid code, removing a current code (accounts.two_factor)
MFA_TRUST_ENABLED = False
USERSESSIONS_TRACK_ACTIVITY = False  # accounts.sessions records it, at most every few minutes

LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

# --- Celery -------------------------------------------------------------------------------------------------------
# No broker configured means the embedded default: tasks run eagerly, in-process.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
# Routes and beat entries name jobs by their message names, strings: the settings load before any app, so they cannot
# import the jobs (declared with bugsink.jobs.job next to their work). bugsink/tests/test_jobs.py checks that every
# name here is a declared job.
CELERY_TASK_ROUTES = {
    "ingest.tasks.digest": {"queue": "digest"},  # with DIGEST_SHARDS > 1 intake picks digest-<n> explicitly
    "alerts.tasks.*": {"queue": "alerts"},
    # periodic housekeeping; the alerts worker consumes this queue too (see README)
    "ingest.tasks.sweep": {"queue": "maintenance"},
}
CELERY_BEAT_SCHEDULE = {
    "sweep-ingest-store": {
        "task": "ingest.tasks.sweep",
        "schedule": float(env_int("INGEST_SWEEP_INTERVAL_SECONDS", 60)),
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
# one line, not a traceback, for an entry that could not be sent because the broker is down (bugsink.celery)
CELERY_BEAT_SCHEDULER = "bugsink.celery:Scheduler"
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# bugsink.jobs: the prefix of this installation's keys in a shared Redis (default: a hash of the database's identity),
# and whether the web server runs the beat schedule's periodic jobs itself when there is no broker (no beat then)
JOBS_NAMESPACE = os.environ.get("JOBS_NAMESPACE", "")
JOBS_PERIODIC_WITHOUT_BROKER = env_bool("JOBS_PERIODIC_WITHOUT_BROKER", True)
# While the broker is unreachable each process logs one warning per this many seconds (with the number of events
# waiting for digest), not a traceback per event (bugsink.jobs.BrokerOutage).
BROKER_OUTAGE_WARNING_SECONDS = env_int("BROKER_OUTAGE_WARNING_SECONDS", 30)
# A worker that loses the broker lets the tasks it is running finish (a digest's work is in the database and the
# ingest store, not in the broker): Celery's behaviour so far, said explicitly (its notice about it: bugsink.celery).
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False

# --- Ingest -------------------------------------------------------------------------------------------------------
# uploaded source maps, bundles and release files (artifacts.storage), content-addressed
ARTIFACTS_DIR = Path(os.environ.get("ARTIFACTS_DIR", DATA_DIR / "artifacts"))
# sentry-cli's chunked uploads (api.uploads, artifacts.assemble): what we tell it (chunk-upload options) and enforce
CHUNK_UPLOAD_CHUNK_SIZE = env_int("CHUNK_UPLOAD_CHUNK_SIZE", 8 * 1024 * 1024)  # one chunk, decompressed
CHUNK_UPLOAD_CHUNKS_PER_REQUEST = env_int("CHUNK_UPLOAD_CHUNKS_PER_REQUEST", 64)
CHUNK_UPLOAD_MAX_REQUEST_SIZE = env_int("CHUNK_UPLOAD_MAX_REQUEST_SIZE", 32 * 1024 * 1024)  # one POST on the wire
CHUNK_UPLOAD_CONCURRENCY = env_int("CHUNK_UPLOAD_CONCURRENCY", 4)
ARTIFACT_MAX_FILE_SIZE = env_int("ARTIFACT_MAX_FILE_SIZE", 100 * 1024 * 1024)  # an assembled bundle (the zip)
ARTIFACT_BUNDLE_MAX_FILES = env_int("ARTIFACT_BUNDLE_MAX_FILES", 20_000)  # members of a bundle zip
ARTIFACT_BUNDLE_MAX_UNZIPPED_SIZE = env_int("ARTIFACT_BUNDLE_MAX_UNZIPPED_SIZE", 512 * 1024 * 1024)  # all members
RELEASE_FILE_MAX_SIZE = env_int("RELEASE_FILE_MAX_SIZE", 40 * 1024 * 1024)  # one legacy release file upload
# bundles and release files that symbolication has not used for this long are deleted (artifacts.retention), and
# blobs nothing refers to once they are this old (chunks wait this long for their assemble call)
ARTIFACT_RETENTION_DAYS = env_int("ARTIFACT_RETENTION_DAYS", 90)
ARTIFACT_BLOB_GRACE_SECONDS = env_int("ARTIFACT_BLOB_GRACE_SECONDS", 24 * 3600)
ARTIFACT_RETENTION_INTERVAL_SECONDS = env_int("ARTIFACT_RETENTION_INTERVAL_SECONDS", 3600)
CELERY_TASK_ROUTES["artifacts.tasks.expire_artifacts"] = {"queue": "maintenance"}
CELERY_BEAT_SCHEDULE["expire-artifacts"] = {
    "task": "artifacts.tasks.expire_artifacts",
    "schedule": float(ARTIFACT_RETENTION_INTERVAL_SECONDS),
}
INGEST_STORE_DIR = Path(os.environ.get("INGEST_STORE_DIR", DATA_DIR / "ingest"))
# Where accepted raw events wait for digest (ingest.store): "file" (INGEST_STORE_DIR, local disk) or "database" (a
# table of the main database: web nodes that share no disk).
INGEST_STORE = os.environ.get("INGEST_STORE", "file")
if INGEST_STORE not in ("file", "database"):
    raise ImproperlyConfigured(f"INGEST_STORE must be 'file' or 'database', not {INGEST_STORE!r}")
# Where stored file contents are kept (blobs.store): uploaded source maps and bundles, event attachments. "file"
# (ARTIFACTS_DIR, ATTACHMENTS_DIR) or "database" (rows of the main database); by default "database" when the ingest
# store is, so that one setting gives nodes that share no disk.
FILE_STORE = os.environ.get("FILE_STORE") or ("database" if INGEST_STORE == "database" else "file")
if FILE_STORE not in ("file", "database"):
    raise ImproperlyConfigured(f"FILE_STORE must be 'file' or 'database', not {FILE_STORE!r}")
# fsync each accepted event before answering 200 ("accepted means kept").
INGEST_FSYNC = env_bool("INGEST_FSYNC", True)
# How long a web process may answer from its own copy of a project's key and quotas (ingest.project_cache): a key
# rotated or a quota changed in another process is seen this much later at most; 0 reads the row on every request.
INGEST_PROJECT_CACHE_SECONDS = env_int("INGEST_PROJECT_CACHE_SECONDS", 5)
# How long a DSN key replaced by "Rotate key" (projects.keys) still works by default: SDKs get time to be redeployed
KEY_ROTATION_GRACE_HOURS = env_int("KEY_ROTATION_GRACE_HOURS", 24)
# On: concurrent accepted events share the directory fsync that makes their renames durable (ingest.file_store).
# On by default: the store alone is no faster for it on ext4 (whose journal merges concurrent fsyncs already), but
# the web process under `make serve`'s load spends 7-14% less CPU per event with it, fewer system calls and fewer
# hand-overs of the GIL, and ends faster end to end (bench/RESULTS.md, "Issue 11: ingest store" and "third step").
INGEST_GROUP_COMMIT = env_bool("INGEST_GROUP_COMMIT", True)

MAX_EVENT_SIZE = env_int("MAX_EVENT_SIZE", 1024 * 1024)  # one stored event (JSON); a larger one is trimmed to fit
# One decompressed event that is still accepted, and trimmed at digest to MAX_EVENT_SIZE (digest.trim); above it the
# event is refused (413, logged and counted per project). Ingest and digest each hold one such event in memory, parsed:
# see bench/RESULTS.md for what 24 MB costs.
# With raw events in a MariaDB/MySQL table (INGEST_STORE=database) a record must fit the server's max_allowed_packet
# (16 MiB by default), so the default bound stays under it there.
_TRIM_IN_MYSQL_TABLE = INGEST_STORE == "database" and DATABASES["default"]["ENGINE"] == "django.db.backends.mysql"
# One raw record (the event and its attachments) in the database store: over this it is a 413 rather than an insert
# the server refuses (MariaDB/MySQL: max_allowed_packet, 16 MiB by default).
INGEST_DATABASE_MAX_RECORD_SIZE = env_int(
    "INGEST_DATABASE_MAX_RECORD_SIZE", (15 if _TRIM_IN_MYSQL_TABLE else 100) * 1024 * 1024
)
MAX_EVENT_TRIM_SIZE = max(
    env_int("MAX_EVENT_TRIM_SIZE", (12 if _TRIM_IN_MYSQL_TABLE else 32) * 1024 * 1024), MAX_EVENT_SIZE
)
MAX_ENVELOPE_COMPRESSED_SIZE = env_int("MAX_ENVELOPE_COMPRESSED_SIZE", 20 * 1024 * 1024)
MAX_ENVELOPE_SIZE = env_int("MAX_ENVELOPE_SIZE", 100 * 1024 * 1024)  # decompressed
MAX_STORE_COMPRESSED_SIZE = env_int("MAX_STORE_COMPRESSED_SIZE", 1024 * 1024)  # a /store/ body on the wire
MAX_HEADER_LINE_SIZE = 64 * 1024  # one envelope or item header line
# Items in one envelope: an SDK sends a handful; past this the envelope is refused (413) before more is parsed, so a
# small compressed body of millions of tiny items costs little CPU.
# one attachment (decompressed); a bigger one is not kept and the event says so. A project keeps at most
# MAX_PROJECT_ATTACHMENTS_SIZE bytes of attachments: beyond it, new ones are noted on their event and not stored.
MAX_ATTACHMENT_SIZE = env_int("MAX_ATTACHMENT_SIZE", 10 * 1024 * 1024)
MAX_PROJECT_ATTACHMENTS_SIZE = env_int("MAX_PROJECT_ATTACHMENTS_SIZE", 1024 * 1024 * 1024)
ATTACHMENTS_DIR = Path(os.environ.get("ATTACHMENTS_DIR", DATA_DIR / "attachments"))
MAX_ENVELOPE_ITEMS = env_int("MAX_ENVELOPE_ITEMS", 1000)

# The sweep re-enqueues raw events older than this that were never digested (a lost broker message, a killed
# worker); younger ones are most likely still queued.
INGEST_SWEEP_GRACE_SECONDS = env_int("INGEST_SWEEP_GRACE_SECONDS", 300)

# Without a broker (`make run`): false, digest runs on the process's background thread, in batches of whatever is
# pending; true, each ingest request digests its own event before it answers (Bugsink's setting of the same name).
DIGEST_IMMEDIATELY = env_bool("DIGEST_IMMEDIATELY", False)
# Digest takes up to this many of a project's pending raw events into one transaction (see digest.batch).
DIGEST_BATCH_SIZE = env_int("DIGEST_BATCH_SIZE", 100)
# A digest task drains its project's pending events for at most this long, then lets other projects' digests go.
DIGEST_TIME_BUDGET_SECONDS = float(os.environ.get("DIGEST_TIME_BUDGET_SECONDS") or 10)
# While a digest is queued for a project, new events do not enqueue another (ingest.intake); the flag expires.
DIGEST_FLAG_SECONDS = env_int("DIGEST_FLAG_SECONDS", 30)
# ...and a web process asks Redis about that flag at most once per project per this many milliseconds (bugsink.jobs
# ClaimWindow: the events in between are covered by one question at the window's end); 0 asks for every event.
DIGEST_CLAIM_WINDOW_MS = env_int("DIGEST_CLAIM_WINDOW_MS", 50)
# Projects are spread over this many digest queues (digest-0 .. digest-N-1); 1 means the single queue "digest".
DIGEST_SHARDS = env_int("DIGEST_SHARDS", 1)
# JavaScript frames are mapped to their original source at digest (digest.symbolicate): an uploaded minified file or
# source map larger than this is not read, and past this many frames an event's other frames stay as sent.
SOURCEMAP_MAX_BYTES = env_int("SOURCEMAP_MAX_BYTES", 32 * 1024 * 1024)
SYMBOLICATE_MAX_FRAMES = env_int("SYMBOLICATE_MAX_FRAMES", 250)
# Tags indexed per event (tags.extract), inside the project's digest transaction: the ones derived from the event's
# fields first, then the SDK's in the order sent. The rest stay in the stored event; its page says how many.
MAX_EVENT_TAGS = env_int("MAX_EVENT_TAGS", 100)

# --- Quotas -------------------------------------------------------------------------------------------------------
# Events accepted per fixed UTC minute and hour (ingest.quota); 0 = unlimited. Over a limit the ingest endpoints
# answer 429 with Retry-After and X-Sentry-Rate-Limits, and SDKs stop sending until the window ends. Counted in
# Redis when CELERY_BROKER_URL is redis:// (shared by all processes), else in each web process (embedded: just one).
# Per project; a project's quota_events_per_minute / _per_hour (when not null) override these:
QUOTA_EVENTS_PER_MINUTE = env_int("QUOTA_EVENTS_PER_MINUTE", 1000)
QUOTA_EVENTS_PER_HOUR = env_int("QUOTA_EVENTS_PER_HOUR", 20000)
# All projects together:
QUOTA_INSTALLATION_EVENTS_PER_MINUTE = env_int("QUOTA_INSTALLATION_EVENTS_PER_MINUTE", 0)
QUOTA_INSTALLATION_EVENTS_PER_HOUR = env_int("QUOTA_INSTALLATION_EVENTS_PER_HOUR", 0)
# The other streams, per project and category (each answered with X-Sentry-Rate-Limits naming only its own category):
# session items (a `sessions` aggregate is one), check-ins, logs (an item counts its `item_count`), security reports.
QUOTA_SESSIONS_PER_MINUTE = env_int("QUOTA_SESSIONS_PER_MINUTE", 6000)
QUOTA_SESSIONS_PER_HOUR = env_int("QUOTA_SESSIONS_PER_HOUR", 100_000)
QUOTA_CHECK_INS_PER_MINUTE = env_int("QUOTA_CHECK_INS_PER_MINUTE", 2000)
QUOTA_CHECK_INS_PER_HOUR = env_int("QUOTA_CHECK_INS_PER_HOUR", 60_000)
LOGS_QUOTA_PER_MINUTE = env_int("LOGS_QUOTA_PER_MINUTE", 6000)
QUOTA_LOGS_PER_HOUR = env_int("QUOTA_LOGS_PER_HOUR", 200_000)
QUOTA_SECURITY_REPORTS_PER_MINUTE = env_int("QUOTA_SECURITY_REPORTS_PER_MINUTE", 1000)
QUOTA_SECURITY_REPORTS_PER_HOUR = env_int("QUOTA_SECURITY_REPORTS_PER_HOUR", 20000)

# --- Email --------------------------------------------------------------------------------------------------------
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "bugsink@localhost")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.console.EmailBackend"
)

# Django logs each SuspiciousOperation on `django.security.<its class name>` as an ERROR with a traceback; the request
# already got its 400 (bugsink.http_errors), so each is one WARNING line instead (bugsink.logfilters.OneLineWarning).
# A test checks that every subclass Django has is listed.
SUSPICIOUS_OPERATIONS = (
    "SuspiciousOperation",
    "DisallowedHost",
    "DisallowedRedirect",
    "TooManyFieldsSent",
    "TooManyFilesSent",
    "RequestDataTooBig",
    "SuspiciousFileOperation",
    "SuspiciousMultipartForm",
    "SuspiciousSession",
    "InvalidSessionKey",
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "filters": {"one_line_warning": {"()": "bugsink.logfilters.OneLineWarning"}},
    "loggers": {
        "django.request": {"level": "ERROR"},
        # without a broker every job runs through Celery's eager apply, which logs each success at INFO
        "celery.app.trace": {"level": "WARNING"},
        # a request for a host not in ALLOWED_HOSTS (scanners, mostly), with 1,100 query fields, ...: answered 400
        # and logged as one line
        **{
            f"django.security.{name}": {"level": "WARNING", "filters": ["one_line_warning"]}
            for name in SUSPICIOUS_OPERATIONS
        },
    },
}

# --- Alerts -------------------------------------------------------------------------------------------------------
# Webhook URLs that resolve to private, loopback, link-local (cloud metadata), multicast, reserved or unspecified
# addresses are refused unless this is on (e.g. for a chat server on the same LAN).
ALERTS_ALLOW_PRIVATE_WEBHOOK_TARGETS = env_bool("ALERTS_ALLOW_PRIVATE_WEBHOOK_TARGETS", False)
ALERT_WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("ALERT_WEBHOOK_TIMEOUT_SECONDS") or 5)
# a failed delivery is retried this many times, after ALERT_RETRY_BACKOFF_SECONDS * 2**retries (10, 20, 40, 80 s)
ALERT_MAX_RETRIES = env_int("ALERT_MAX_RETRIES", 4)
ALERT_RETRY_BACKOFF_SECONDS = float(os.environ.get("ALERT_RETRY_BACKOFF_SECONDS") or 10)

# --- Retention ----------------------------------------------------------------------------------------------------
# Per project at most this many stored events, none older than this many days (Project.retention_max_events /
# retention_max_age_days override them per project; 0 means no limit). The policy is in events.retention.
RETENTION_MAX_EVENTS = env_int("RETENTION_MAX_EVENTS", 10_000)
RETENTION_MAX_AGE_DAYS = env_int("RETENTION_MAX_AGE_DAYS", 90)
# Events deleted per transaction; transactions per eviction after a digest batch, and per project per periodic run.
RETENTION_BATCH_SIZE = env_int("RETENTION_BATCH_SIZE", 500)
RETENTION_BATCHES_AFTER_DIGEST = env_int("RETENTION_BATCHES_AFTER_DIGEST", 2)
RETENTION_BATCHES_PER_RUN = env_int("RETENTION_BATCHES_PER_RUN", 20)
# The periodic run (expired events, the ingest store's orphan temporaries): the beat schedule, or with no broker
# the digest process itself (there is no beat then).
RETENTION_INTERVAL_SECONDS = env_int("RETENTION_INTERVAL_SECONDS", 600)
# evict_expired fans out one events.tasks.evict_project per project, each to that project's digest queue
CELERY_TASK_ROUTES["events.tasks.evict_expired"] = {"queue": "maintenance"}
CELERY_BEAT_SCHEDULE["evict-expired-events"] = {
    "task": "events.tasks.evict_expired",
    "schedule": float(RETENTION_INTERVAL_SECONDS),
}

# --- Release health, client reports, what we do not keep (health) ---------------------------------------------------
# hourly session buckets and daily discard counts older than this are deleted (health.retention)
HEALTH_RETENTION_DAYS = env_int("HEALTH_RETENTION_DAYS", 90)
# release x environment buckets a project may start per hour; sessions of more are counted as not usable
HEALTH_MAX_SERIES_PER_HOUR = env_int("HEALTH_MAX_SERIES_PER_HOUR", 100)
CELERY_TASK_ROUTES["health.tasks.expire_health"] = {"queue": "maintenance"}
CELERY_BEAT_SCHEDULE["expire-health"] = {
    "task": "health.tasks.expire_health",
    "schedule": float(RETENTION_INTERVAL_SECONDS),
}
# --- Cron monitors (monitors/) --------------------------------------------------------------------------------------
# Monitors a project may have (check-ins naming more are refused and logged); check-ins kept per monitor, and for
# how many days (0: no age limit).
MONITORS_MAX_PER_PROJECT = env_int("MONITORS_MAX_PER_PROJECT", 1000)
MONITOR_MAX_CHECKINS = env_int("MONITOR_MAX_CHECKINS", 1000)
MONITOR_CHECKIN_RETENTION_DAYS = env_int("MONITOR_CHECKIN_RETENTION_DAYS", 90)
# How often missed and timed-out check-ins are looked for (monitors.deadlines); each project with one gets a job of
# its single writer (monitors.tasks.monitor_deadlines, on its digest queue)
MONITORS_CHECK_INTERVAL_SECONDS = env_int("MONITORS_CHECK_INTERVAL_SECONDS", 60)
CELERY_TASK_ROUTES["monitors.tasks.check_monitors"] = {"queue": "maintenance"}
CELERY_BEAT_SCHEDULE["check-monitors"] = {
    "task": "monitors.tasks.check_monitors",
    "schedule": float(MONITORS_CHECK_INTERVAL_SECONDS),
}
# --- Structured logs (logs app) -----------------------------------------------------------------------------------
# Per project at most this many log entries, none older than this many days (0: no limit), and at most this many
# logs accepted per UTC minute (0: no limit; beyond it logs are counted and dropped). Expired ones are deleted by the
# periodic job below (logs.retention), those over the count right after each digest.
LOGS_RETENTION_MAX_ITEMS = env_int("LOGS_RETENTION_MAX_ITEMS", 100_000)
LOGS_RETENTION_MAX_AGE_DAYS = env_int("LOGS_RETENTION_MAX_AGE_DAYS", 30)
# LOGS_QUOTA_PER_MINUTE (with the quotas above) is checked at intake, and again by digest on the logs an item
# really holds (its item_count header may understate them).
CELERY_TASK_ROUTES["logs.tasks.expire_logs"] = {"queue": "maintenance"}
CELERY_BEAT_SCHEDULE["expire-logs"] = {"task": "logs.tasks.expire_logs", "schedule": float(RETENTION_INTERVAL_SECONDS)}
