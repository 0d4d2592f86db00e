"""Single sign-on with OpenID Connect, on django-allauth's `openid_connect` provider (discovery, the authorization
code flow with PKCE, `state`, the token exchange, the ID token's issuer, audience and expiry), with what we add:

- One redirect URI for every provider, <BASE_URL>/accounts/oidc/callback/: the `state` a sign-in stashed in the
  session names its provider. A callback whose `state` this session did not stash is refused (400).
- A `nonce` in every authorization request, kept with the state and required in the ID token; the ID token's
  signature is checked against the provider's keys, and userinfo must be about the ID token's subject.
- Who may sign in: the provider must say the address is verified (`email_verified`), and its domain must be one of
  OIDC_ALLOWED_DOMAINS (when set); every sign-in is checked, returning ones too.
- Who they are: a returning person is found by the provider's subject (allauth's SocialAccount), never by address.
  A first sign-in whose address belongs to an account here does not get into it: the person confirms that
  account's password once (`link_account`), and the two are linked. Otherwise a new account is made from the
  verified address, with no project access, and it joins the pending invitations bound to that address.

Sign-in through a provider goes through allauth's login stages like a password sign-in: an account with a second
factor is asked for it (accounts.two_factor).
"""

import logging
import secrets
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.utils import perform_login
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.internal import jwtkit, statekit
from allauth.socialaccount.models import SocialLogin
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView, OAuth2LoginView
from allauth.socialaccount.providers.openid_connect.provider import OpenIDConnectProvider
from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_login_failed
from django.contrib.sessions.backends.base import SessionBase
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.crypto import constant_time_compare
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts import emails, throttle
from accounts.sso_config import CALLBACK_PATH
from accounts.sso_config import OidcProvider as ProviderConfig
from bugsink import csp
from projects import people
from projects.models import Invitation

logger = logging.getLogger(__name__)

PENDING_LINK_SESSION_KEY = "accounts.sso.pending_link"


def configured_providers() -> list[ProviderConfig]:
    return list(settings.OIDC_PROVIDERS)


def provider_config(provider_id: str) -> ProviderConfig | None:
    return next((p for p in settings.OIDC_PROVIDERS if p.id == provider_id), None)


def callback_url() -> str:
    """The redirect URI to register at every provider."""
    return settings.BASE_URL.rstrip("/") + CALLBACK_PATH


class OidcAdapter(OpenIDConnectOAuth2Adapter):
    state: dict | None = None  # the stashed state of this callback (OidcCallbackView puts it here)

    def get_callback_url(self, request, app) -> str:
        return callback_url()

    def complete_login(self, request, app, token, **kwargs):
        id_token = kwargs["response"].get("id_token")
        if not id_token:
            raise OAuth2Error("The provider answered without an ID token.")
        claims = jwtkit.verify_and_decode(
            credential=id_token,
            keys_url=self.openid_config["jwks_uri"],
            issuer=self.openid_config["issuer"],
            audience=app.client_id,
            lookup_kid=jwtkit.lookup_kid_jwk,
            verify_signature=True,
        )
        expected = (self.state or {}).get("nonce") or ""
        if not expected or not constant_time_compare(str(claims.get("nonce") or ""), expected):
            raise OAuth2Error("The ID token's nonce is not the one this sign-in sent.")
        userinfo = self._fetch_user_info(token.token)
        if str(userinfo.get("sub")) != str(claims.get("sub")):
            raise OAuth2Error("The provider's userinfo is about another subject than its ID token.")
        return self.get_provider().sociallogin_from_response(request, {"userinfo": userinfo, "id_token": claims})


class OidcProvider(OpenIDConnectProvider):
    """allauth's OpenID Connect provider with a nonce and our one callback address (SOCIALACCOUNT_PROVIDERS names
    it as the provider class)."""

    oauth2_adapter_class = OidcAdapter

    def get_callback_url(self) -> str:
        return CALLBACK_PATH

    def redirect(self, request, process, next_url=None, data=None, **kwargs):
        nonce = secrets.token_urlsafe(24)
        auth_params = dict(kwargs.pop("auth_params", None) or self.get_auth_params())
        auth_params["nonce"] = nonce
        return super().redirect(request, process, next_url, data, auth_params=auth_params, nonce=nonce, **kwargs)


class OidcCallbackView(OAuth2CallbackView):
    def _get_state(self, request, provider):
        state, response = super()._get_state(request, provider)
        self.adapter.state = state
        return state, response


def _provider_of_state(session: SessionBase, state_id: str) -> str | None:
    stashed = statekit.STATES_SESSION_KEY in session and session[statekit.STATES_SESSION_KEY].get(state_id)
    if isinstance(stashed, list | tuple) and len(stashed) == 3 and isinstance(stashed[2], str):
        return stashed[2]
    return None


def sso_error(request, reason: str, status: int):
    return render(request, "accounts/sso_error.html", {"reason": reason}, status=status)


def login(request, provider_id: str):
    """A provider's button posts here: allauth stashes the state (with PKCE's verifier and our nonce) and redirects
    to the provider."""
    config = provider_config(provider_id)
    if config is None:
        raise Http404("No such provider")
    response = OAuth2LoginView.adapter_view(OidcAdapter(request, provider_id))(request)
    if request.method == "GET":  # allauth's "continue" page: its form is redirected to the provider as well
        response["Content-Security-Policy"] = csp.header_with_form_targets([provider_origin(config)])
    return response


def provider_origin(config: ProviderConfig) -> str:
    parts = urlsplit(config.issuer)
    return f"{parts.scheme}://{parts.netloc}"


@never_cache
@require_http_methods(["GET"])
def callback(request):
    """<BASE_URL>/accounts/oidc/callback/ for every provider: the state says which one this answer is for."""
    provider_id = _provider_of_state(request.session, request.GET.get("state", ""))
    if provider_id is None or provider_config(provider_id) is None:
        return sso_error(
            request,
            "This sign-in answer does not belong to a sign-in started in this browser (or it was used already, or "
            "it is older than ten minutes). Start again from the login page.",
            400,
        )
    return OidcCallbackView.adapter_view(OidcAdapter(request, provider_id))(request)


def verified_address(sociallogin: SocialLogin) -> str | None:
    for address in sociallogin.email_addresses:
        if address.verified and address.email:
            return address.email.strip()
    return None


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def pre_social_login(self, request, sociallogin: SocialLogin) -> None:
        config = provider_config(sociallogin.account.provider)
        name = config.name if config else sociallogin.account.provider
        address = verified_address(sociallogin)
        if config is None:
            raise ImmediateHttpResponse(sso_error(request, "This provider is not configured here.", 403))
        if address is None:
            raise ImmediateHttpResponse(
                sso_error(
                    request,
                    f"{name} did not say that your email address is verified, so it cannot sign you in here. "
                    "Verify your address with your identity provider, then try again.",
                    403,
                )
            )
        if not config.allows(address):
            raise ImmediateHttpResponse(
                sso_error(
                    request,
                    f"Addresses at {address.rpartition('@')[2]} may not sign in here with {name}. Allowed: "
                    f"{', '.join(config.allowed_domains)}.",
                    403,
                )
            )
        if sociallogin.is_existing:
            return
        existing = get_user_model().objects.filter(email__iexact=address).order_by("pk")
        if existing.exists():
            # never into an existing account on the address alone: its password once, then linked (link_account)
            request.session[PENDING_LINK_SESSION_KEY] = sociallogin.serialize()
            raise ImmediateHttpResponse(redirect("accounts:sso_link"))

    def is_open_for_signup(self, request, sociallogin) -> bool:
        return True  # a verified address from an allowed domain (pre_social_login) makes an account

    def populate_user(self, request, sociallogin, data):
        user = super().populate_user(request, sociallogin, data)
        user.email = verified_address(sociallogin) or user.email
        return user

    def save_user(self, request, sociallogin, form=None):
        user = super().save_user(request, sociallogin, form)
        joined = join_pending_invitations(user)
        if joined:
            messages.success(request, f"Welcome. You joined {', '.join(joined)} through your invitation.")
        else:
            messages.info(request, "Welcome. You see projects once a project admin invites you or adds you.")
        return user

    def on_authentication_error(self, request, provider, error=None, exception=None, extra_context=None):
        logger.warning("single sign-on with %s failed: %s %r", getattr(provider, "id", provider), error, exception)


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        # accounts come from invitations, the admin, the first-admin setup and single sign-on; allauth's own
        # sign-up form is not ours
        return False

    def get_client_ip(self, request) -> str:
        # the address the login throttle counts by (REMOTE_ADDR; behind a proxy, the proxy's), never a header
        return throttle.client_address(request)


def join_pending_invitations(user) -> list[str]:
    """A new account made by single sign-on joins every pending invitation bound to its (verified) address."""
    joined = []
    for invitation in Invitation.objects.pending().filter(email__iexact=user.email).select_related("project"):
        try:
            people.accept_invitation(invitation, user)
        except people.PeopleError:
            continue  # used in between, or for someone else
        joined.append(invitation.project.name)
    return joined


class LinkForm(forms.Form):
    password = forms.CharField(widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


@never_cache
@require_http_methods(["GET", "POST"])
def link_account(request):
    """A first single sign-on whose verified address is an existing account's: that account's password, once."""
    data = request.session.get(PENDING_LINK_SESSION_KEY)
    sociallogin = SocialLogin.deserialize(data) if data else None
    address = verified_address(sociallogin) if sociallogin else None
    if sociallogin is None or address is None:
        return sso_error(request, "There is no single sign-on waiting to be linked. Start again.", 400)
    config = provider_config(sociallogin.account.provider)
    users = list(get_user_model().objects.filter(email__iexact=address).order_by("pk"))
    choices = [(u.get_username(), u.get_username()) for u in users]
    form = LinkForm(request.POST or None)
    form.fields["username"] = forms.ChoiceField(choices=choices, initial=choices[0][0] if choices else None)
    context = {"form": form, "address": address, "provider_name": config.name if config else "", "users": users}
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"]
        wait = throttle.login_retry_after(request, username)
        if wait:
            context["throttled"] = throttle.refusal_message(wait)
            response = render(request, "accounts/sso_link.html", context, status=429)
            response["Retry-After"] = str(wait)
            return response
        user = next(u for u in users if u.get_username() == username)
        # checked here, not through authenticate(): with SSO_ONLY passwords sign no one in, yet linking an account
        # made before is how its owner moves to the provider; the throttle counts a wrong one all the same
        if (
            not user.is_active
            or not user.has_usable_password()
            or not user.check_password(form.cleaned_data["password"])
        ):
            user_login_failed.send(sender=__name__, credentials={"username": username}, request=request)
            form.add_error("password", "That is not this account's password.")
            return render(request, "accounts/sso_link.html", context, status=400)
        del request.session[PENDING_LINK_SESSION_KEY]
        sociallogin.connect(request, user)
        emails.mark_verified(user, address)
        messages.success(
            request, f"Your account is linked with {context['provider_name']}: sign in with it from now on."
        )
        return perform_login(request, user, redirect_url=sociallogin.get_redirect_url(request))
    return render(request, "accounts/sso_link.html", context, status=400 if form.is_bound else 200)


def login_buttons() -> list[dict]:
    """The providers' buttons on the login page: each a form posting to allauth's login URL of that provider."""
    return [
        {"id": p.id, "name": p.name, "url": reverse("accounts:sso_login", kwargs={"provider_id": p.id})}
        for p in configured_providers()
    ]
