"""Login throttling: failed logins counted per (username, client address) and per client address, in Django's cache.

Our own small limiter rather than django-axes: we need two counters and a lockout window, not a database table of
attempts, an admin for it and a middleware; this is about a hundred lines that every login path goes through.

- Every failed `authenticate()` (our login page, the admin's, anything else) counts once for the username at that
  address and once for the address (the `user_login_failed` signal).
- When either count reaches its limit (LOGIN_FAILURES_PER_USERNAME_AND_IP, default 10; LOGIN_FAILURES_PER_IP,
  default 50) within LOGIN_THROTTLE_WINDOW_SECONDS (default 900), `ThrottleBackend`, the first authentication
  backend, refuses every further attempt for that username or address, the right password included, until the
  window that started with the first failure ends. The login page says so with a 429 and Retry-After.
- The second step of a sign-in (the code of a second factor, accounts.two_factor) is the same login: a wrong code
  counts like a wrong password, and over the limit the code is not checked either.
- A successful login resets its username's count at that address (not the address's own count, which would let
  one valid account reset the limit for guessing all others).
- Password-reset requests are limited the same way (PASSWORD_RESETS_PER_IP, PASSWORD_RESETS_PER_EMAIL per hour),
  so the form cannot be used to flood someone's mailbox.

The counts live in Django's default cache, which is per process (with WEB_WORKERS=N an attacker gets at most N
times the limit). The address is REMOTE_ADDR: behind a reverse proxy every client shares the proxy's address, so set
LOGIN_FAILURES_PER_IP=0 there (0 switches a limit off) and rely on the per-username limit.
"""

import hashlib
import time

from allauth.mfa import signals as mfa_signals
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver

PREFIX = "throttle"


def client_address(request) -> str:
    return (request.META.get("REMOTE_ADDR") or "unknown") if request is not None else "unknown"


def _key(kind: str, *parts: str) -> str:
    # hashed: usernames and addresses are user input, cache keys must be short and plain
    digest = hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:32]
    return f"{PREFIX}:{kind}:{digest}"


def _username(username: str | None) -> str:
    return (username or "").strip().casefold()


class Counter:
    """A count in a fixed window that starts with its first hit; `retry_after` is 0 below the limit."""

    def __init__(self, key: str, limit: int, window: int):
        self.key, self.limit, self.window = key, limit, window

    def hit(self) -> None:
        if self.limit <= 0:
            return
        # the first hit starts the window and notes when it ends (for Retry-After); later ones only count, with
        # incr, which is atomic in the cache, so parallel attempts cannot slip past the limit by overwriting
        if cache.add(self.key, 1, timeout=self.window):
            cache.set(f"{self.key}:ends", time.time() + self.window, timeout=self.window)
            return
        try:
            cache.incr(self.key)
        except ValueError:  # expired in between: a new window
            cache.add(self.key, 1, timeout=self.window)

    def retry_after(self) -> int:
        if self.limit <= 0 or cache.get(self.key, 0) < self.limit:
            return 0
        ends = cache.get(f"{self.key}:ends") or time.time() + self.window
        return max(1, int(ends - time.time()) + 1)

    def reset(self) -> None:
        cache.delete_many([self.key, f"{self.key}:ends"])


def login_counters(request, username: str | None) -> list[Counter]:
    address, window = client_address(request), settings.LOGIN_THROTTLE_WINDOW_SECONDS
    per_username = settings.LOGIN_FAILURES_PER_USERNAME_AND_IP
    return [
        Counter(_key("login-user", _username(username), address), per_username, window),
        Counter(_key("login-ip", address), settings.LOGIN_FAILURES_PER_IP, window),
    ]


def login_retry_after(request, username: str | None) -> int:
    """Seconds until this username may try to log in from this address again; 0 when it may now."""
    return max(counter.retry_after() for counter in login_counters(request, username))


class ThrottleBackend:
    """The first authentication backend: it authenticates no one, and stops everyone over the limit before the
    password is even checked (PermissionDenied ends authenticate() for all backends)."""

    def authenticate(self, request, username=None, **credentials):
        if login_retry_after(request, username):
            raise PermissionDenied("too many failed logins")
        return None

    # no get_user(): sessions are never this backend's, and without it the test client's force_login and
    # login() pick ModelBackend


@receiver(user_login_failed, dispatch_uid="accounts.throttle.count_failure")
def count_failure(sender, credentials, request=None, **kwargs):
    for counter in login_counters(request, credentials.get("username")):
        counter.hit()


@receiver(mfa_signals.authentication_failed, dispatch_uid="accounts.throttle.count_second_factor_failure")
def count_second_factor_failure(sender, request, user, **kwargs):
    for counter in login_counters(request, user.get_username()):
        counter.hit()


def refusal_message(wait: int, checked: str = "the password is") -> str:
    minutes = -(-wait // 60)
    return (
        f"Too many failed logins. Logging in is blocked for this account from your address (or for your "
        f"address) for {minutes} more minute{'s' if minutes != 1 else ''}; {checked} not checked until then."
    )


@receiver(user_logged_in, dispatch_uid="accounts.throttle.reset_on_success")
def reset_on_success(sender, request, user, **kwargs):
    login_counters(request, user.get_username())[0].reset()


def password_reset_allowed(request, email: str) -> tuple[bool, bool]:
    """(the address may ask now, a mail may go to this email now); counts the request. An address over its
    limit gets told; an email over its limit silently gets no more mail (the page must not tell whether an
    account has that email)."""
    hour = 3600
    by_address = Counter(_key("reset-ip", client_address(request)), settings.PASSWORD_RESETS_PER_IP, hour)
    by_email = Counter(_key("reset-email", email.strip().casefold()), settings.PASSWORD_RESETS_PER_EMAIL, hour)
    if by_address.retry_after():
        return False, False
    by_address.hit()
    if by_email.retry_after():
        return True, False
    by_email.hit()
    return True, True
