"""Two-factor authentication: TOTP (an authenticator app) with recovery codes, on django-allauth's `mfa` app, which
keeps the secrets (encrypted with SECRET_KEY), checks codes (each TOTP code once, recovery codes once each) and adds
the second step to every sign-in of an account that has a factor (its login stage, after the password or the
identity provider).

What is ours:
- the pages in Preferences: set up (a QR code and the secret, confirmed with a first code), the recovery codes, and
  removal, which takes a current code (TOTP or recovery) so that a session left open cannot remove it;
- the second step of the sign-in in our layout, inside the login throttle (accounts.throttle): over the limit the
  code is not checked, and a wrong code counts as a failed login;
- REQUIRE_2FA: everyone who signs in with a password needs a factor. At their next sign-in the grace starts
  (REQUIRE_2FA_GRACE_DAYS); until it ends they are reminded, after it every page but the set-up (and signing out)
  leads to the set-up. Single sign-on leaves the second factor to the identity provider. API tokens are unaffected:
  they are for scripts and never pass through a sign-in;
- an administrator's reset of someone's factors (accounts.admin), recorded in the admin's log.
"""

from datetime import timedelta

from allauth.account.internal.flows.login import get_authentication_records
from allauth.mfa.adapter import get_adapter as get_mfa_adapter
from allauth.mfa.base.forms import AuthenticateForm
from allauth.mfa.base.views import AuthenticateView
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.recovery_codes.internal.flows import generate_recovery_codes
from allauth.mfa.totp.forms import ActivateTOTPForm
from allauth.mfa.totp.internal.flows import activate_totp
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.dispatch import receiver
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts import throttle
from accounts.models import UserPreferences

NUDGE_SESSION_KEY = "accounts.two_factor.nudge"


def has_second_factor(user) -> bool:
    return is_mfa_enabled(user, [Authenticator.Type.TOTP])


def signed_in_with_provider(request) -> bool:
    return any(r.get("method") == "socialaccount" for r in get_authentication_records(request, request.user))


def requires_second_factor(request) -> bool:
    """REQUIRE_2FA applies to this session's user and they have no factor yet."""
    user = request.user
    if not settings.REQUIRE_2FA or not user.is_authenticated:
        return False
    return not signed_in_with_provider(request) and not has_second_factor(user)


def grace_deadline(user):
    prefs = UserPreferences.objects.filter(user=user).first()
    return prefs.two_factor_grace_until if prefs else None


@receiver(user_logged_in, dispatch_uid="accounts.two_factor.start_grace")
def start_grace(sender, request, user, **kwargs):
    """REQUIRE_2FA: the first sign-in without a factor starts the grace; every one in it is reminded."""
    if request is None or not hasattr(request, "session") or not settings.REQUIRE_2FA:
        return
    request.user = user  # not set yet by login() when the signal fires
    if not requires_second_factor(request):
        return
    prefs, _ = UserPreferences.objects.get_or_create(user=user)
    if prefs.two_factor_grace_until is None:
        prefs.two_factor_grace_until = timezone.now() + timedelta(days=settings.REQUIRE_2FA_GRACE_DAYS)
        prefs.save(update_fields=["two_factor_grace_until"])
    request.session[NUDGE_SESSION_KEY] = True


class SecondStepView(AuthenticateView):
    """The second step of a sign-in (allauth's, in our layout and inside the login throttle)."""

    template_name = "accounts/two_factor_login.html"

    def post(self, request, *args, **kwargs):
        wait = throttle.login_retry_after(request, self.stage.login.user.get_username())
        if wait:
            self.throttled = throttle.refusal_message(wait, checked="the code is")
            response = self.render_to_response(self.get_context_data(), status=429)
            response["Retry-After"] = str(wait)
            return response
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = 400
        return response

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "throttled": getattr(self, "throttled", "")}


second_step = SecondStepView.as_view()


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def overview(request):
    """Preferences › Two-factor authentication: set up, or see the state and the ways to change it."""
    user = request.user
    if has_second_factor(user):
        rc = Authenticator.objects.filter(user=user, type=Authenticator.Type.RECOVERY_CODES).first()
        unused = len(rc.wrap().get_unused_codes()) if rc else 0
        totp = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
        context = {
            "totp": totp,
            "unused_codes": unused,
            "remove_form": AuthenticateForm(user=user),
            "nav": "preferences",
        }
        return render(request, "accounts/two_factor.html", context)

    form = ActivateTOTPForm(user=user, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        activate_totp(request, form)  # the grace is not reset: removing the factor later does not buy a new one
        request.session.pop(NUDGE_SESSION_KEY, None)
        return redirect("accounts:recovery_codes")
    adapter = get_mfa_adapter()
    url = adapter.build_totp_url(user, form.secret)
    context = {
        "form": form,
        "secret": form.secret,
        "totp_url": url,
        "qr_svg": adapter.build_totp_svg(url),
        "required": requires_second_factor(request),
        "deadline": grace_deadline(user) if settings.REQUIRE_2FA else None,
        "nav": "preferences",
    }
    return render(request, "accounts/two_factor_setup.html", context, status=400 if form.is_bound else 200)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def recovery_codes(request):
    """The unused recovery codes (each works once, in place of a TOTP code); POST makes a new set."""
    if not has_second_factor(request.user):
        return redirect("accounts:two_factor")
    if request.method == "POST":
        generate_recovery_codes(request)
        return redirect("accounts:recovery_codes")
    rc = Authenticator.objects.filter(user=request.user, type=Authenticator.Type.RECOVERY_CODES).first()
    codes = RecoveryCodes(rc).get_unused_codes() if rc else []
    return render(request, "accounts/recovery_codes.html", {"codes": codes, "nav": "preferences"})


@login_required
@require_POST
def remove(request):
    """Remove every factor of one's own account; takes a current code."""
    user = request.user
    if not has_second_factor(user):
        return redirect("accounts:two_factor")
    form = AuthenticateForm(user=user, data=request.POST)
    if not form.is_valid():
        rc = Authenticator.objects.filter(user=user, type=Authenticator.Type.RECOVERY_CODES).first()
        context = {
            "totp": Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP),
            "unused_codes": len(rc.wrap().get_unused_codes()) if rc else 0,
            "remove_form": form,
            "nav": "preferences",
        }
        return render(request, "accounts/two_factor.html", context, status=400)
    Authenticator.objects.filter(user=user).delete()
    messages.success(request, "Two-factor authentication is off: signing in takes your password only.")
    return redirect("accounts:two_factor")


def reset_for(user, by) -> int:
    """An administrator removes `user`'s factors (a lost phone and lost codes); recorded in the admin's log. The
    number of factors removed."""
    with transaction.atomic():
        removed, _ = Authenticator.objects.filter(user=user).delete()
        if removed:
            LogEntry.objects.log_actions(
                user_id=by.pk,
                queryset=[user],
                action_flag=CHANGE,
                change_message="Reset two-factor authentication (removed the authenticator app and recovery codes).",
                single_object=True,
            )
            UserPreferences.objects.filter(user=user).update(two_factor_grace_until=None)
    return removed
