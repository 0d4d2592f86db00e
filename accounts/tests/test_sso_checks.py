"""What our callback checks in the provider's answer, with answers a compliant provider never gives: a small
provider of the test's own on loopback (discovery, keys, token and userinfo endpoints) hands out ID tokens crafted
per test (wrong audience, wrong nonce, another key, another subject in userinfo). The sign-in starts at our login
URL as a browser's would, so `state`, PKCE and the nonce are the real ones."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from allauth.socialaccount.models import SocialAccount
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from accounts.sso_config import OidcProvider, providers_from_env

pytestmark = [pytest.mark.live]

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


class CraftedProvider(ThreadingHTTPServer):
    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.server_address[1]}"
        self.claims = {}  # what the next ID token says beyond the defaults
        self.key = KEY
        self.userinfo = {}
        self.nonce = ""
        self.token_requests = []

    def id_token(self) -> str:
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": "culvert", "sub": "u1", "iat": now, "exp": now + 300, "nonce": self.nonce}
        return jwt.encode({**claims, **self.claims}, self.key, algorithm="RS256", headers={"kid": "k1"})


class Handler(BaseHTTPRequestHandler):
    server: CraftedProvider

    def log_message(self, *args):
        pass

    def answer(self, body: dict, status: int = 200):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        issuer = self.server.issuer
        if self.path == "/.well-known/openid-configuration":
            return self.answer(
                {
                    "issuer": issuer,
                    "authorization_endpoint": f"{issuer}/authorize",
                    "token_endpoint": f"{issuer}/token",
                    "userinfo_endpoint": f"{issuer}/userinfo",
                    "jwks_uri": f"{issuer}/jwks",
                    "token_endpoint_auth_methods_supported": ["client_secret_post"],
                }
            )
        if self.path == "/jwks":
            jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key()))
            return self.answer({"keys": [{**jwk, "kid": "k1", "alg": "RS256", "use": "sig"}]})
        if self.path == "/userinfo":
            info = {"sub": "u1", "email": "ann@acme.test", "email_verified": True, **self.server.userinfo}
            return self.answer(info)
        return self.answer({"error": "not_found"}, 404)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        form = parse_qs(self.rfile.read(length).decode())
        self.server.token_requests.append(form)
        if self.path == "/token":
            return self.answer({"access_token": "at", "token_type": "Bearer", "id_token": self.server.id_token()})
        return self.answer({"error": "not_found"}, 404)


@pytest.fixture
def provider(settings):
    server = CraftedProvider()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    config = OidcProvider("oidc", "Crafted", server.issuer, "culvert", "secret", ("acme.test",))
    settings.OIDC_PROVIDERS = [config]
    settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {"provider_class": "accounts.sso.OidcProvider", "APPS": [config.as_allauth_app()]}
    }
    yield server
    server.shutdown()
    server.server_close()


def start_sign_in(provider, client) -> dict:
    """Press the provider's button; what our server sent to the authorization endpoint."""
    response = client.post("/accounts/oidc/oidc/login/", {"process": "login"})
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{provider.issuer}/authorize"
    params = {k: v[0] for k, v in parse_qs(location.query).items()}
    provider.nonce = params.get("nonce", "")
    return params


def finish(client, params, code="the-code"):
    return client.get("/accounts/oidc/callback/", {"state": params["state"], "code": code})


def test_a_good_answer_signs_in_and_the_request_carries_pkce_state_and_nonce(db, provider):
    client = Client()
    params = start_sign_in(provider, client)
    assert params["code_challenge_method"] == "S256" and len(params["code_challenge"]) >= 43
    assert len(params["state"]) >= 16 and len(params["nonce"]) >= 16
    assert params["redirect_uri"] == "http://127.0.0.1:8000/accounts/oidc/callback/"  # BASE_URL's
    assert set(params["scope"].split()) == {"openid", "profile", "email"}

    response = finish(client, params)

    assert response.status_code == 302, response.content.decode()[:500]
    (token_request,) = provider.token_requests
    assert token_request["code_verifier"][0] and token_request["redirect_uri"] == [params["redirect_uri"]]
    assert SocialAccount.objects.get(uid="u1").user.email == "ann@acme.test"
    # a state is good once
    assert finish(client, params).status_code == 400


@pytest.mark.parametrize(
    "claims, key, userinfo, reason",
    [
        ({"aud": "someone-else"}, KEY, {}, b"Invalid id_token"),
        ({"iss": "http://127.0.0.1:1"}, KEY, {}, b"Invalid id_token"),
        ({"exp": int(time.time()) - 60}, KEY, {}, b"Invalid id_token"),
        ({"nonce": "not-the-one-we-sent"}, KEY, {}, b"nonce is not the one this sign-in sent"),
        ({"nonce": None}, KEY, {}, b"nonce is not the one this sign-in sent"),
        ({}, OTHER_KEY, {}, b"Invalid id_token"),
        ({}, KEY, {"sub": "u2"}, b"userinfo is about another subject"),
    ],
    ids=["wrong-audience", "wrong-issuer", "expired", "wrong-nonce", "no-nonce", "wrong-key", "userinfo-subject"],
)
def test_a_crafted_answer_is_refused(db, provider, claims, key, userinfo, reason):
    provider.claims, provider.key, provider.userinfo = claims, key, userinfo
    client = Client()
    params = start_sign_in(provider, client)

    response = finish(client, params)

    assert response.status_code == 401
    assert reason in response.content
    assert not get_user_model().objects.exists() and not SocialAccount.objects.exists()


def test_a_state_from_another_browser_is_refused(db, provider):
    params = start_sign_in(provider, Client())
    response = finish(Client(), params)  # the answer arrives in a browser that did not start it
    assert response.status_code == 400
    assert not provider.token_requests and not get_user_model().objects.exists()


def test_unverified_and_foreign_addresses_are_refused(db, provider):
    for userinfo, reason in [
        ({"email_verified": False}, b"did not say that your email address is verified"),
        ({"email": "ann@elsewhere.test"}, b"Addresses at elsewhere.test may not sign in here"),
        ({"email": None}, b"did not say that your email address is verified"),
    ]:
        provider.userinfo = userinfo
        client = Client()
        response = finish(client, start_sign_in(provider, client))
        assert response.status_code == 403 and reason in response.content
    assert not get_user_model().objects.exists()


def test_providers_from_the_environment():
    assert providers_from_env({}) == []
    (one,) = providers_from_env(
        {
            "OIDC_ISSUER": "https://id.example.com/realms/acme/",
            "OIDC_CLIENT_ID": "c",
            "OIDC_CLIENT_SECRET": "s",
            "OIDC_ALLOWED_DOMAINS": "Acme.com, @acme.de",
        }
    )
    assert (one.id, one.name, one.issuer, one.allowed_domains) == (
        "oidc",
        "Single sign-on",
        "https://id.example.com/realms/acme",
        ("acme.com", "acme.de"),
    )
    assert one.allows("x@ACME.com") and not one.allows("x@acme.com.evil.test")
    env = {
        "OIDC_PROVIDERS": "okta, google",
        "OIDC_ALLOWED_DOMAINS": "acme.com",
        **{
            f"OIDC_{p}_{k}": "https://x.test" if k == "ISSUER" else "v"
            for p in ("OKTA", "GOOGLE")
            for k in ("ISSUER", "CLIENT_ID", "CLIENT_SECRET")
        },
        "OIDC_GOOGLE_NAME": "Google",
        "OIDC_GOOGLE_ALLOWED_DOMAINS": "acme.org",
    }
    okta, google = providers_from_env(env)
    assert (okta.id, okta.allowed_domains, google.name, google.allowed_domains) == (
        "okta",
        ("acme.com",),
        "Google",
        ("acme.org",),
    )
    for bad in (
        {"OIDC_ISSUER": "https://x.test"},
        {**env, "OIDC_PROVIDERS": "callback"},
        {**env, "OIDC_PROVIDERS": "okta,okta"},
    ):
        with pytest.raises(ImproperlyConfigured):
            providers_from_env(bad)
