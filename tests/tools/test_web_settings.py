"""The web tools' settings: a named search backend needs what it uses, said at start in one
line per variable, never with a key in it."""

from __future__ import annotations

import pytest

from config.settings import ConfigError, load_settings
from core.tools.web_search import BraveBackend, SearxngBackend, TavilyBackend
from core.tools.web_tools import search_backend


def test_a_named_backend_without_its_url_or_key_stops_the_start() -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(_env_file=None, web_search_backend="Brave", tavily_api_key="tvly-secret-1")

    assert raised.value.problems == [
        "WEB_SEARCH_BACKEND: brave needs BRAVE_API_KEY (or set it to auto or off)"
    ]
    assert "tvly-secret-1" not in str(raised.value)


def test_bad_web_values_are_named() -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(
            _env_file=None,
            web_search_backend="bing",
            searxng_url="localhost:8888",
            web_fetch_max_kb=0,
        )

    assert [problem.split(":")[0] for problem in raised.value.problems] == [
        "SEARXNG_URL",
        "WEB_SEARCH_BACKEND",
        "WEB_FETCH_MAX_KB",
    ]


def test_keys_come_from_the_environment_and_stay_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEB_SEARCH_BACKEND", "tavily")
    monkeypatch.setenv("TAVILY_API_KEY", "tvly-from-env-42")

    settings = load_settings(_env_file=None)
    backend = search_backend(settings)

    assert isinstance(backend, TavilyBackend)
    assert "tvly-from-env-42" not in repr(settings) + repr(backend)


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        ({}, type(None)),
        ({"searxng_url": "http://searx.lan:8888"}, SearxngBackend),
        ({"brave_api_key": "b", "tavily_api_key": "t"}, TavilyBackend),
        ({"brave_api_key": "b"}, BraveBackend),
        (
            {"web_search_backend": "brave", "brave_api_key": "b", "tavily_api_key": "t"},
            BraveBackend,
        ),
        ({"web_search_backend": "off", "searxng_url": "http://searx.lan"}, type(None)),
    ],
)
def test_the_backend_follows_the_settings(values: dict[str, str], kind: type) -> None:
    assert isinstance(search_backend(load_settings(_env_file=None, **values)), kind)
