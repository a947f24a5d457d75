"""A local HTTPS fake of the ACS Call Automation REST endpoint (the SDK insists on https)."""

from __future__ import annotations

import datetime
import json
import ssl
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import jwt
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from jwt.algorithms import RSAAlgorithm

from local_http import listening
from voiceagent.serve.acs_auth import ACS_ISSUER

CONFIG_PATH = "/calling/.well-known/acsopenidconfiguration"


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, written to ``directory``."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    import ipaddress

    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "acs.pem", directory / "acs.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class FakeAcsRest:
    """Records the answers and rejects the SDK posts; replies as the REST API documents."""

    def __init__(self) -> None:
        self.answers: list[dict[str, Any]] = []
        self.rejects: list[dict[str, Any]] = []
        self.authorizations: list[str] = []
        self.operations: list[tuple[str, Any]] = []
        self.url = ""

    async def connection(self, request: web.Request) -> web.Response:
        """``:terminate`` and ``:transferToParticipant`` on one call connection."""
        target = request.match_info["target"]
        body = await request.text()
        self.operations.append((target, json.loads(body) if body else None))
        if target.endswith(":terminate"):
            return web.Response(status=204)
        return web.json_response({"operationContext": "transfer"}, status=202)

    async def reject(self, request: web.Request) -> web.Response:
        """``POST /calling/callConnections:reject``: 204, no body (the SDK expects exactly that)."""
        self.rejects.append(await request.json())
        self.authorizations.append(request.headers.get("Authorization", ""))
        return web.Response(status=204)

    async def answer(self, request: web.Request) -> web.Response:
        self.answers.append(await request.json())
        self.authorizations.append(request.headers.get("Authorization", ""))
        body = self.answers[-1]
        return web.json_response(
            {
                "callConnectionId": f"conn-{len(self.answers)}",
                "serverCallId": "server-call-1",
                "callConnectionState": "connecting",
                "callbackUri": body.get("callbackUri"),
                "targets": [],
            },
            status=200,
        )


@asynccontextmanager
async def fake_acs_rest(directory: Path) -> AsyncIterator[tuple[FakeAcsRest, Path]]:
    """Serve the fake on https://127.0.0.1:<free port>/; yields it and the CA file to trust."""
    cert, key = self_signed(directory)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    fake = FakeAcsRest()
    app = web.Application()
    app.router.add_post("/calling/callConnections:answer", fake.answer)
    app.router.add_post("/calling/callConnections:reject", fake.reject)
    app.router.add_post("/calling/callConnections/{target}", fake.connection)
    async with listening(app, ssl_context=ctx) as host:
        fake.url = f"https://{host}/"
        yield fake, cert


class FakeAcsOpenId:
    """ACS's OpenID configuration and JWKS on https://127.0.0.1:<port>, counting the reads."""

    def __init__(self, key: rsa.RSAPrivateKey, resource_id: str, *, jwks_uri: bool = True) -> None:
        self.key = key
        self.resource_id = resource_id
        self.jwks_uri = jwks_uri
        self.reads: Counter[str] = Counter()

    async def config(self, request: web.Request) -> web.Response:
        self.reads["config"] += 1
        body = {"issuer": ACS_ISSUER, "id_token_signing_alg_values_supported": ["RS256"]}
        if self.jwks_uri:
            body["jwks_uri"] = f"https://{request.host}/calling/keys"
        return web.json_response(body)

    async def keys(self, request: web.Request) -> web.Response:
        self.reads["keys"] += 1
        jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update(kid="acs-2", use="sig", alg="RS256")
        return web.json_response({"keys": [jwk]})

    def token(self) -> str:
        """A JWT as ACS signs one, for ``resource_id``."""
        now = int(time.time())
        claims = {"iss": ACS_ISSUER, "aud": self.resource_id, "iat": now, "exp": now + 300}
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": "acs-2"})
