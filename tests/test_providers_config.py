"""PROVIDERS: a TOML file or JSON, checked at start with one line per problem, never a key."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.providers import provider_api_key
from config.settings import ConfigError, load_settings
from config.startup_warnings import startup_warnings
from core.bootstrap import open_providers
from core.model.catalog import ModelCatalog
from core.model.routes import ProviderRoutes

TOML = """
[providers.groq]
base_url = "https://api.groq.com/openai/v1"
api_key_env = "GROQ_API_KEY"
timeout_s = 20
max_retries = 1
models = ["llama-*", "gemma*"]

[providers.ollama]
base_url = "http://localhost:11434/v1"
headers = { "X-Title" = "my bot" }
models = ["qwen*", "*:*"]
"""


def test_a_toml_file_declares_providers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "providers.toml"
    path.write_text(TOML)
    settings = load_settings(providers=str(path), _env_file=None)
    groq, ollama = settings.providers["groq"], settings.providers["ollama"]
    assert (groq.timeout_s, groq.max_retries, groq.models) == (20, 1, ("llama-*", "gemma*"))
    assert ollama.headers == {"X-Title": "my bot"} and ollama.api_key_env == ""
    monkeypatch.setenv("GROQ_API_KEY", "gsk-secret-value")
    assert provider_api_key(groq) == "gsk-secret-value" and provider_api_key(ollama) == ""

    catalog = ModelCatalog.load(8192, routes=ProviderRoutes.of(settings.providers))
    routed = {
        name: catalog.get(name).provider
        for name in ("llama-3.1-8b-instant", "qwen2.5:7b", "llama3.1:8b", "gpt-4o", "mystery")
    }
    assert routed == {
        "llama-3.1-8b-instant": "groq",
        "qwen2.5:7b": "ollama",
        "llama3.1:8b": "ollama",  # "*:*", as Ollama names its models
        "gpt-4o": "openai",
        "mystery": "openai",  # an unknown name goes to the default provider, as before
    }
    assert catalog.get("gpt-4o").estimated_tokens is False
    assert catalog.get("qwen2.5:7b").estimated_tokens is True


def test_json_in_the_variable_works_too(monkeypatch: pytest.MonkeyPatch) -> None:
    entry = '{"base_url": "https://openrouter.ai/api/v1", "models": ["*/*"]}'
    monkeypatch.setenv("PROVIDERS", '{"openrouter": ' + entry + "}")
    settings = load_settings(_env_file=None)
    assert settings.providers["openrouter"].models == ("*/*",)
    assert load_settings(providers="", _env_file=None).providers == {}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('{"x": {"base_url": "localhost:1/v1"}}', "x.base_url: must start with http://"),
        ('{"openai": {"base_url": "http://a/v1"}}', "'openai' is the default provider"),
        ('{"Bad Name": {"base_url": "http://a/v1"}}', "'Bad Name' is not a provider name"),
        ('{"x": {"base_url": "http://a/v1", "colour": 1}}', "x.colour: Extra inputs"),
        ('{"x": {"base_url": "http://a/v1"', "PROVIDERS: is not valid JSON"),
        ("/nowhere/providers.toml", "PROVIDERS: cannot read /nowhere/providers.toml"),
        (
            '{"x": {"base_url": "http://a/v1", "headers": {"Authorization": "Bearer k"}}}',
            "x.headers: Authorization comes from api_key_env",
        ),
    ],
)
def test_bad_providers_are_one_line_naming_the_variable(value: str, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(providers=value, _env_file=None)
    (problem,) = error.value.problems
    assert problem.startswith("PROVIDERS: ") and message.removeprefix("PROVIDERS: ") in problem


def test_a_key_pasted_as_the_variable_name_is_refused_without_echo() -> None:
    key = "sk-proj-abc123/DEF=="
    value = '{"x": {"base_url": "http://a/v1", "api_key_env": "' + key + '"}}'
    with pytest.raises(ConfigError) as error:
        load_settings(providers=value, _env_file=None)
    assert "NAME of an environment variable" in str(error.value)
    assert key not in str(error.value)


def test_a_providers_key_variable_is_not_warned_about(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("GROQ_API_KEY=gsk-1\nGROQ_API_KEYS=gsk-2\n")
    path = tmp_path / "providers.toml"
    path.write_text(TOML)
    settings = load_settings(providers=str(path), _env_file=None)
    warnings = startup_warnings(settings, {}, env_file)
    assert warnings == [
        "GROQ_API_KEYS in .env is not a setting of this bot and is ignored; did you mean "
        "GROQ_API_KEY?"
    ]
    assert provider_api_key(settings.providers["groq"], env_file) == "gsk-1"


async def test_each_provider_gets_its_own_client(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "providers.toml"
    path.write_text(TOML)
    monkeypatch.setenv("GROQ_API_KEY", "gsk-own-key-123")
    settings = load_settings(providers=str(path), openai_timeout_s=60, _env_file=None)
    providers = open_providers(settings)
    try:
        openai, groq, ollama = (providers[n].client for n in ("openai", "groq", "ollama"))
        assert (groq.timeout, groq.max_retries, groq.api_key) == (20, 1, "gsk-own-key-123")
        assert (ollama.timeout, ollama.max_retries) == (60, settings.openai_max_retries)
        assert ollama.default_headers["X-Title"] == "my bot"
        assert len({id(c._client) for c in (openai, groq, ollama)}) == 3  # own pools each
        assert providers["openai"].is_openai and not providers["groq"].is_openai
    finally:
        for provider in providers.values():
            await provider.client.close()


def test_a_catalog_entry_names_its_provider_when_declared() -> None:
    routes = ProviderRoutes.of(load_settings(providers=TOML_AS_JSON, _env_file=None).providers)
    assert routes.route("my-model", catalog_provider="groq") == "groq"
    assert routes.route("my-model", catalog_provider="nobody") == "openai"  # undeclared
    assert routes.route("llama-3", catalog_provider="nobody") == "groq"


TOML_AS_JSON = '{"groq": {"base_url": "https://api.groq.com/openai/v1", "models": ["llama-*"]}}'
