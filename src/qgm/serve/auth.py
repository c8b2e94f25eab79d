"""Who may call the server over HTTP, and who is calling.

Over streamable HTTP every request carries ``Authorization: Bearer <token>``;
:class:`StaticTokens` is the SDK's :class:`~mcp.server.auth.provider.TokenVerifier`
over a fixed table ``{client name: token}`` (one ``--token``, or a ``--tokens``
file for several clients), compared in constant time. A request without a
valid token is answered 401 by the SDK before any tool runs. The client name
is the owner of the jobs it submits (:func:`client_id`), and what the
per-client limits count.

Over stdio there is no header: the process that launched the server is its
one client, :data:`LOCAL_CLIENT`. HTTP without a token is only served on a
loopback address (:func:`check_bind`).
"""
from __future__ import annotations

import hmac
import ipaddress
import re
from pathlib import Path
from typing import Mapping, Optional

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken, TokenVerifier
from mcp.server.auth.settings import AuthSettings

from qgm.errors import ConfigError
from qgm.train.config import yaml_load

__all__ = [
    "StaticTokens", "LOCAL_CLIENT", "SCOPE", "MIN_TOKEN_CHARS", "client_id", "is_loopback", "check_bind",
    "load_tokens", "auth_settings", "TOKEN_ENV",
]

#: The client of a stdio server, and of an HTTP server without tokens.
LOCAL_CLIENT = "local"
#: The scope every accepted token carries (and the server requires).
SCOPE = "qgm"
#: Shortest token accepted: guessing 16 random characters is out of reach.
MIN_TOKEN_CHARS = 16
#: Environment variable holding the token when ``--token`` is not given.
TOKEN_ENV = "QGM_TOKEN"


def _check_token(name: str, token: object) -> str:
    if not isinstance(token, str) or len(token) < MIN_TOKEN_CHARS or re.search(r"\s", token):
        raise ConfigError(f"token of {name!r}: use at least {MIN_TOKEN_CHARS} characters without spaces "
                          "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')")
    return token


def _check_name(name: object) -> str:
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.\-]{1,64}", name):
        raise ConfigError(f"tokens: client name {name!r}: use 1-64 letters, digits, '_', '-' or '.'")
    return name


class StaticTokens(TokenVerifier):
    """Accepts the tokens of a ``{client name: token}`` table; the access token names the client."""

    def __init__(self, tokens: Mapping[str, str]) -> None:
        if not tokens:
            raise ConfigError("tokens: give at least one client token")
        self._tokens = {_check_name(name): _check_token(name, token) for name, token in tokens.items()}
        if len(set(self._tokens.values())) != len(self._tokens):
            raise ConfigError("tokens: two clients share a token; give each client its own")

    async def verify_token(self, token: str) -> Optional[AccessToken]:
        found = None
        for name, known in self._tokens.items():  # no early exit: the time does not depend on which matched
            if hmac.compare_digest(token.encode(), known.encode()):
                found = name
        return None if found is None else AccessToken(token=token, client_id=found, scopes=[SCOPE])


def load_tokens(token: Optional[str], tokens_file: Optional[str]) -> dict[str, str]:
    """``{client name: token}`` from one token (client ``"agent"``) and/or a YAML/JSON file of them."""
    tokens: dict[str, str] = {}
    if tokens_file is not None:
        path = Path(tokens_file)
        if not path.is_file():
            raise ConfigError(f"--tokens: file {tokens_file!r} not found")
        data = yaml_load(path.read_text(), path.name)
        if not isinstance(data, dict):
            raise ConfigError(f"--tokens: {tokens_file} must map client names to tokens")
        tokens.update({str(k): v for k, v in data.items()})
    if token is not None:
        tokens.setdefault("agent", token)
    for name, value in tokens.items():
        _check_token(_check_name(name), value)
    return tokens


def client_id() -> str:
    """The client of the current request: the authenticated client's name, else :data:`LOCAL_CLIENT`."""
    access = get_access_token()
    return access.client_id if access is not None else LOCAL_CLIENT


def is_loopback(host: str) -> bool:
    """Is ``host`` a loopback address (``127.0.0.0/8``, ``::1``, ``localhost``)?"""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, tokens: Mapping[str, str]) -> None:
    """Refuse to serve HTTP on a non-loopback ``host`` without tokens."""
    if not tokens and not is_loopback(host):
        raise ConfigError(f"--host {host}: serving beyond this machine needs a bearer token; "
                          f"give --token (or ${TOKEN_ENV}) or --tokens FILE, or bind 127.0.0.1")


def auth_settings(url: str) -> AuthSettings:
    """The SDK's auth settings of a server with static tokens: the server is its own issuer, scope :data:`SCOPE`."""
    return AuthSettings(issuer_url=url, resource_server_url=None, required_scopes=[SCOPE])
