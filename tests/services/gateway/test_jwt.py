"""Access-token verification at the gateway: only RS256 tokens signed with Hubben's key, for
Hubben's issuer and audience, unexpired and carrying every required claim, get in.

Every refusal is the same plain 401 UNAUTHENTICATED, before any resolver runs."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jose import jwt

from shared.auth import INTERNAL_AUDIENCE, Principal
from shared.errors import Unauthenticated
from tests.conftest import Api, Session, poll

VIEWER = "{ viewer { email } }"


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def segment(value: dict[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def other_rsa_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def other_ec_pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def claims_for(api: Api, member: Session, **overrides: Any) -> dict[str, Any]:
    """The claims a real access token for `member` carries; overrides replace (None removes) them."""
    settings = api.app.state.settings
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": str(_member_pk(member)),
        "iat": now,
        "exp": now + 600,
        "jti": uuid.uuid4().hex,
        "roles": ["member"],
        "typ": "access",
    }
    for name, value in overrides.items():
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    return claims


def _member_pk(member: Session) -> int:
    from shared.ids import expect_global_id

    return expect_global_id(member.id, "Member")


def sign(api: Api, claims: dict[str, Any], algorithm: str = "RS256", key: str | None = None) -> str:
    return jwt.encode(claims, key or api.app.state.codec.keys.private_pem, algorithm=algorithm)


async def assert_refused(api: Api, token: str) -> None:
    r = await api.http.post("/graphql", json={"query": VIEWER}, headers={"authorization": f"Bearer {token}"})
    assert r.status_code == 401, r.text
    assert r.headers.get("www-authenticate") == "Bearer"
    body = r.json()
    assert body["data"] is None
    assert len(body["errors"]) == 1
    assert body["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}


async def test_a_well_formed_token_signed_with_the_real_key_works(api: Api) -> None:
    anna = await api.sign_up()
    # The token sign-up handed out, and one built here from the same claims and key.
    assert (await anna.ok(VIEWER))["viewer"]["email"] == anna.email
    token = sign(api, claims_for(api, anna))
    assert (await api.ok(VIEWER, token=token))["viewer"]["email"] == anna.email


async def test_expiry_within_the_leeway_is_still_accepted(api: Api) -> None:
    anna = await api.sign_up()
    now = int(time.time())
    token = sign(api, claims_for(api, anna, iat=now - 900, exp=now - 10))
    assert (await api.ok(VIEWER, token=token))["viewer"]["email"] == anna.email


async def test_alg_none_is_refused(api: Api) -> None:
    anna = await api.sign_up()
    claims = segment(claims_for(api, anna))
    for alg in ("none", "None", "NONE"):
        header = segment({"alg": alg, "typ": "JWT"})
        await assert_refused(api, f"{header}.{claims}.")
        # Some libraries accept a token with the signature of another token attached.
        await assert_refused(api, f"{header}.{claims}.{anna.token.split('.')[2]}")


def hs256(claims: dict[str, Any], secret: bytes) -> str:
    """An HS256 token made by hand: python-jose (rightly) refuses a PEM as an HMAC secret."""
    signing_input = f"{segment({'alg': 'HS256', 'typ': 'JWT'})}.{segment(claims)}"
    return f"{signing_input}.{b64url(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())}"


async def test_hs256_with_the_public_key_as_secret_is_refused(api: Api) -> None:
    """The algorithm-confusion attack: the public key is public, so HMAC with it proves nothing."""
    anna = await api.sign_up()
    # The hand-made token is exactly what jose makes for a secret it accepts.
    assert hs256(claims_for(api, anna, iat=1, exp=2, jti="j"), b"s3cret") == sign(
        api, claims_for(api, anna, iat=1, exp=2, jti="j"), "HS256", "s3cret"
    )
    public_pem = api.app.state.codec.keys.public_pem
    for secret in (public_pem, public_pem.strip(), public_pem.strip() + "\n"):
        await assert_refused(api, hs256(claims_for(api, anna), secret.encode()))


async def test_hs256_with_any_secret_is_refused(api: Api) -> None:
    anna = await api.sign_up()
    await assert_refused(api, sign(api, claims_for(api, anna), "HS256", "a shared secret nobody should trust"))


@pytest.mark.parametrize("algorithm", ["RS512", "RS384"])
async def test_other_rsa_algorithms_are_refused_even_with_the_real_key(api: Api, algorithm: str) -> None:
    anna = await api.sign_up()
    claims = claims_for(api, anna)
    await assert_refused(api, sign(api, claims, algorithm))
    await assert_refused(api, sign(api, claims, algorithm, other_rsa_pem()))


async def test_es256_with_another_key_is_refused(api: Api) -> None:
    anna = await api.sign_up()
    await assert_refused(api, sign(api, claims_for(api, anna), "ES256", other_ec_pem()))


async def test_rs256_signed_with_another_key_is_refused(api: Api) -> None:
    anna = await api.sign_up()
    await assert_refused(api, sign(api, claims_for(api, anna), "RS256", other_rsa_pem()))


async def test_a_tampered_payload_is_refused(api: Api) -> None:
    """Swapping the claims of a genuine token (here: promoting to admin) breaks its signature."""
    anna = await api.sign_up()
    header, _, signature = anna.token.split(".")
    forged = segment(claims_for(api, anna, roles=["member", "admin"]))
    await assert_refused(api, f"{header}.{forged}.{signature}")


async def test_a_truncated_signature_is_refused(api: Api) -> None:
    anna = await api.sign_up()
    await assert_refused(api, anna.token[:-4])
    await assert_refused(api, anna.token.rsplit(".", 1)[0] + ".")


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"aud": "someone-else"}, id="wrong-audience"),
        pytest.param({"aud": None}, id="no-audience"),
        pytest.param({"iss": "https://evil.example"}, id="wrong-issuer"),
        pytest.param({"iss": None}, id="no-issuer"),
        pytest.param({"exp": None}, id="no-exp"),
        pytest.param({"iat": None}, id="no-iat"),
        pytest.param({"jti": None}, id="no-jti"),
        pytest.param({"sub": None}, id="no-sub"),
        pytest.param({"sub": "service:gateway"}, id="non-member-sub"),
        pytest.param({"typ": None}, id="no-typ"),
        pytest.param({"typ": "refresh"}, id="wrong-typ"),
        pytest.param({"exp": "tomorrow"}, id="non-numeric-exp"),
    ],
)
async def test_tokens_with_wrong_or_missing_claims_are_refused(api: Api, overrides: dict[str, Any]) -> None:
    anna = await api.sign_up()
    await assert_refused(api, sign(api, claims_for(api, anna, **overrides)))


async def test_an_audience_list_without_ours_is_refused(api: Api) -> None:
    anna = await api.sign_up()
    await assert_refused(api, sign(api, claims_for(api, anna, aud=["hubben-other", INTERNAL_AUDIENCE])))


async def test_an_expired_token_is_refused(api: Api) -> None:
    anna = await api.sign_up()
    now = int(time.time())
    # Past the 30-second leeway.
    await assert_refused(api, sign(api, claims_for(api, anna, iat=now - 1000, exp=now - 31 - 5)))
    await assert_refused(api, sign(api, claims_for(api, anna, iat=now - 7200, exp=now - 3600)))


async def test_a_token_not_yet_valid_is_refused(api: Api) -> None:
    anna = await api.sign_up()
    now = int(time.time())
    await assert_refused(api, sign(api, claims_for(api, anna, nbf=now + 3600, exp=now + 7200)))


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "not.a.jwt",
        "a.b.c.d",
        "...",
        "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0",
        "eyJ.eyJ.eyJ",
        "x" * 5000,
    ],
)
async def test_garbage_is_refused(api: Api, token: str) -> None:
    await assert_refused(api, token)


async def test_wrong_scheme_is_refused(api: Api) -> None:
    anna = await api.sign_up()
    for header in (f"Basic {anna.token}", anna.token, "Bearer ", "Bearer"):
        r = await api.http.post("/graphql", json={"query": VIEWER}, headers={"authorization": header})
        assert r.status_code == 401, (header, r.text)
        assert r.json()["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}


async def test_an_internal_token_is_refused_at_the_gateway(api: Api) -> None:
    """Internal tokens are for service-to-service calls; their audience keeps them out of the API."""
    anna = await api.sign_up()
    codec = api.app.state.codec
    member = Principal(member_id=_member_pk(anna), roles=("member", "admin"), token_kind="jwt")
    await assert_refused(api, codec.issue_internal_token(member))
    # Even with a `typ` claim borrowed from access tokens.
    await assert_refused(api, sign(api, claims_for(api, anna, aud=INTERNAL_AUDIENCE)))


async def test_refusal_does_not_fall_back_to_anonymous(api: Api) -> None:
    """A bad token is an error, never a silent anonymous request (which could read public data)."""
    r = await api.http.post(
        "/graphql", json={"query": "{ counties { code } }"}, headers={"authorization": "Bearer garbage"}
    )
    assert r.status_code == 401
    assert r.json()["data"] is None
    anonymous = await api.gql("{ viewer { email } counties { code } }")
    assert anonymous["data"]["viewer"] is None
    assert len(anonymous["data"]["counties"]) == 21


async def test_a_remembered_token_is_refused_once_it_expires(api: Api) -> None:
    """Verified tokens are remembered (a client sends the same one with every request); the
    memory never outlives the token: past its expiry and leeway it is refused like any other."""
    anna = await api.sign_up()
    now = int(time.time())
    # Inside the 30-second leeway for another second or two.
    token = sign(api, claims_for(api, anna, iat=now - 100, exp=now - 28))
    ok = await api.http.post("/graphql", json={"query": VIEWER}, headers={"authorization": f"Bearer {token}"})
    assert ok.status_code == 200, ok.text
    codec = api.app.state.codec
    assert codec.verify_access_token(token).member_id == _member_pk(anna)  # remembered now

    def refused() -> bool:
        try:
            codec.verify_access_token(token)
        except Unauthenticated:
            return True
        return False

    await poll(refused, within=5)
    await assert_refused(api, token)
