"""Which OpenID Connect providers people may sign in with, read from the environment (by bugsink.settings, before
Django is set up: nothing here needs the app registry).

One provider is configured with unprefixed variables, its id is `oidc`:

    OIDC_ISSUER=https://login.example.com/realms/acme   (discovery at <issuer>/.well-known/openid-configuration)
    OIDC_CLIENT_ID=culvert  OIDC_CLIENT_SECRET=...  OIDC_NAME="Acme SSO"  OIDC_ALLOWED_DOMAINS=acme.com,acme.de

Several: OIDC_PROVIDERS lists their ids, and each id's variables carry it in upper case: OIDC_PROVIDERS=okta,google
with OIDC_OKTA_ISSUER, OIDC_OKTA_CLIENT_ID, ..., OIDC_GOOGLE_ALLOWED_DOMAINS. A provider without its own
ALLOWED_DOMAINS takes OIDC_ALLOWED_DOMAINS. Every provider redirects back to the one address
<BASE_URL>/accounts/oidc/callback/ (the `state` tells which provider a callback belongs to).
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured

CALLBACK_PATH = "/accounts/oidc/callback/"
PROVIDER_ID = re.compile(r"^[a-z][a-z0-9-]{0,31}$")
RESERVED_IDS = {"callback"}  # a path segment of ours under /accounts/oidc/


@dataclass(frozen=True)
class OidcProvider:
    id: str
    name: str
    issuer: str
    client_id: str
    client_secret: str
    allowed_domains: tuple[str, ...]  # empty: any domain

    def allows(self, email: str) -> bool:
        if not self.allowed_domains:
            return True
        domain = email.rpartition("@")[2].strip().casefold()
        return domain in self.allowed_domains

    def as_allauth_app(self) -> dict:
        """One entry of SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"]."""
        return {
            "provider_id": self.id,
            "name": self.name,
            "client_id": self.client_id,
            "secret": self.client_secret,
            "settings": {
                "server_url": self.issuer,
                "oauth_pkce_enabled": True,
                # the ID token comes straight from the token endpoint; its claims are what we check (audience,
                # issuer, expiry, nonce); userinfo adds the profile
                "fetch_userinfo": True,
            },
        }


def _domains(text: str) -> tuple[str, ...]:
    return tuple(sorted({d.strip().lstrip("@").casefold() for d in (text or "").split(",") if d.strip()}))


def _one(environ: Mapping[str, str], provider_id: str, prefix: str, default_domains: str) -> OidcProvider:
    def get(name: str, default: str = "") -> str:
        return (environ.get(f"{prefix}{name}") or default).strip()

    issuer = get("ISSUER").rstrip("/")
    missing = [f"{prefix}{n}" for n in ("ISSUER", "CLIENT_ID", "CLIENT_SECRET") if not get(n)]
    if missing:
        raise ImproperlyConfigured(f"OpenID Connect provider {provider_id!r} needs {', '.join(missing)}.")
    if not re.match(r"^https?://[^\s/]+", issuer):
        raise ImproperlyConfigured(f"{prefix}ISSUER must be an http(s) URL, not {issuer!r}.")
    return OidcProvider(
        id=provider_id,
        name=get("NAME", "Single sign-on"),
        issuer=issuer,
        client_id=get("CLIENT_ID"),
        client_secret=get("CLIENT_SECRET"),
        allowed_domains=_domains(environ.get(f"{prefix}ALLOWED_DOMAINS") or default_domains),
    )


def providers_from_env(environ: Mapping[str, str]) -> list[OidcProvider]:
    default_domains = environ.get("OIDC_ALLOWED_DOMAINS", "")
    ids = [i.strip().lower() for i in (environ.get("OIDC_PROVIDERS") or "").split(",") if i.strip()]
    if not ids:
        return [_one(environ, "oidc", "OIDC_", default_domains)] if environ.get("OIDC_ISSUER") else []
    providers = []
    for provider_id in ids:
        if not PROVIDER_ID.match(provider_id) or provider_id in RESERVED_IDS:
            raise ImproperlyConfigured(
                f"OIDC_PROVIDERS: {provider_id!r} is not a usable id (a letter, then letters, digits or '-')."
            )
        prefix = "OIDC_" + provider_id.upper().replace("-", "_") + "_"
        providers.append(_one(environ, provider_id, prefix, default_domains))
    if len({p.id for p in providers}) != len(providers):
        raise ImproperlyConfigured("OIDC_PROVIDERS names a provider twice.")
    return providers
