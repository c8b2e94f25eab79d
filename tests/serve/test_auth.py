"""Bearer tokens, loopback binding and `qgm serve`'s refusals before serving."""
from __future__ import annotations

import asyncio

import pytest

from qgm.cli import main
from qgm.errors import ConfigError
from qgm.serve.auth import StaticTokens, check_bind, is_loopback, load_tokens

TOKENS = {"alice": "a" * 16, "bob": "b" * 24}


def test_static_tokens_name_the_client():
    verifier = StaticTokens(TOKENS)
    got = asyncio.run(verifier.verify_token("b" * 24))
    assert (got.client_id, got.scopes) == ("bob", ["qgm"])
    for wrong in ("b" * 23, "a" * 17, "", "A" * 16):
        assert asyncio.run(verifier.verify_token(wrong)) is None


@pytest.mark.parametrize("tokens,message", [
    ({"alice": "short"}, "token of 'alice': use at least 16 characters"),
    ({"alice": "has space inside the token"}, "token of 'alice'"),
    ({"a/../b": "a" * 16}, "client name 'a/../b'"),
    ({"alice": "a" * 16, "bob": "a" * 16}, "two clients share a token"),
    ({}, "give at least one client token"),
])
def test_static_tokens_refusals(tokens, message):
    with pytest.raises(ConfigError, match=message):
        StaticTokens(tokens)


def test_load_tokens_file_and_single(tmp_path):
    path = tmp_path / "tokens.yaml"
    path.write_text("alice: " + "a" * 16 + "\nbob: " + "b" * 16 + "\n")
    assert load_tokens("c" * 16, str(path)) == {"alice": "a" * 16, "bob": "b" * 16, "agent": "c" * 16}
    assert load_tokens(None, None) == {}
    with pytest.raises(ConfigError, match="--tokens: file"):
        load_tokens(None, str(tmp_path / "missing.yaml"))


def test_loopback_and_bind():
    assert all(map(is_loopback, ("127.0.0.1", "127.8.9.1", "::1", "[::1]", "localhost")))
    assert not any(map(is_loopback, ("0.0.0.0", "10.0.0.1", "::", "example.org", "localhost.evil")))
    check_bind("127.0.0.1", {})
    check_bind("0.0.0.0", TOKENS)
    with pytest.raises(ConfigError, match="--host 0.0.0.0: serving beyond this machine needs a bearer token"):
        check_bind("0.0.0.0", {})


def test_cli_refuses_before_serving(capsys, monkeypatch):
    monkeypatch.delenv("QGM_TOKEN", raising=False)
    assert main(["serve", "--http", "--host", "0.0.0.0"]) == 2
    assert "--host 0.0.0.0: serving beyond this machine needs a bearer token" in capsys.readouterr().err
    assert main(["serve", "--http", "--token", "short"]) == 2
    assert "token of 'agent': use at least 16 characters" in capsys.readouterr().err
    monkeypatch.setenv("QGM_TOKEN", "short-env")
    assert main(["serve", "--http"]) == 2
    assert "token of 'agent'" in capsys.readouterr().err
    assert main(["serve", "--token", "x" * 20]) == 2
    assert "--token/--tokens: tokens guard HTTP" in capsys.readouterr().err
    assert main(["serve", "--http", "--port", "70000"]) == 2
    assert "--port: expected 1-65535" in capsys.readouterr().err
