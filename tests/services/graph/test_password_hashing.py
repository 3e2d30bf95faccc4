"""Password hashes are Argon2id with the configured cost; a log-in upgrades older hashes."""

from __future__ import annotations

from argon2 import PasswordHasher, extract_parameters
from sqlalchemy import select

from services.graph.models import Credential
from services.graph.service import identity
from shared.settings import Settings, get_settings
from tests.conftest import Api

LOGIN = """mutation($e: String!, $p: String!) { logIn(input: {email: $e, password: $p}) {
  session { accessToken } userErrors { message } } }"""


def test_production_defaults_follow_rfc_9106() -> None:
    defaults = Settings.model_fields
    assert defaults["password_hash_time_cost"].default == 3
    assert defaults["password_hash_memory_kib"].default == 65536
    assert defaults["password_hash_parallelism"].default == 4


async def test_password_hash_uses_configured_cost_and_login_rehashes(api: Api) -> None:
    anna = await api.sign_up()
    async with await api.graph_session() as db:
        cred = (await db.execute(select(Credential).where(Credential.email == anna.email))).scalar_one()
        params = extract_parameters(cred.password_hash)
        s = get_settings()
        assert cred.password_hash.startswith("$argon2id$")
        assert (params.time_cost, params.memory_cost, params.parallelism) == (
            s.password_hash_time_cost,
            s.password_hash_memory_kib,
            s.password_hash_parallelism,
        )
        # A hash made with other parameters (an older setting) still verifies, and log-in upgrades it.
        cred.password_hash = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1).hash(anna.password)
        await db.commit()
    assert (await api.ok(LOGIN, {"e": anna.email, "p": anna.password}))["logIn"]["session"]
    async with await api.graph_session() as db:
        cred = (await db.execute(select(Credential).where(Credential.email == anna.email))).scalar_one()
        assert extract_parameters(cred.password_hash).time_cost == get_settings().password_hash_time_cost
    assert identity._hasher()[0].verify(cred.password_hash, anna.password)
