"""resolve_ai_settings: which provider, key, model and cache a run uses (pure)."""

from __future__ import annotations

import pytest

from openproducer import ConfigError
from openproducer.planning.ai import resolve_ai_settings

KEY = "sk-proj-abcdefghijklmnopqrstuvwxyz0123"


def resolve(env: dict[str, str] | None = None, **inputs: str):  # type: ignore[no-untyped-def]
    args = {"provider": "auto", "api_key": "", "model": "", "base_url": "", **inputs}
    return resolve_ai_settings(env=env or {}, **args)


@pytest.mark.parametrize(
    ("inputs", "env", "provider", "model", "base_url"),
    [
        ({"api_key": KEY}, {}, "openai", "gpt-4.1-mini", "https://api.openai.com/v1"),
        (
            {"api_key": KEY, "base_url": "https://api.z.ai/api/paas/v4/"},
            {},
            "zai",
            "glm-4.6",
            "https://api.z.ai/api/paas/v4/",
        ),
        (
            {"api_key": KEY, "base_url": "http://localhost:11434/v1", "model": "llama3.1"},
            {},
            "custom",
            "llama3.1",
            "http://localhost:11434/v1",
        ),
        ({"api_key": "AIzaSyA-fake-google-key"}, {}, "gemini", "gemini-2.5-flash", None),
        ({}, {"OPENAI_API_KEY": KEY}, "openai", "gpt-4.1-mini", "https://api.openai.com/v1"),
        ({}, {"ZAI_API_KEY": "zai-key"}, "zai", "glm-4.6", "https://api.z.ai/api/paas/v4/"),
        ({}, {"GOOGLE_API_KEY": "g"}, "gemini", "gemini-2.5-flash", None),
        ({"provider": "gemini"}, {"GEMINI_API_KEY": "g"}, "gemini", "gemini-2.5-flash", None),
        (
            {},
            {
                "OPENPRODUCER_AI_PROVIDER": "zai",
                "OPENPRODUCER_AI_API_KEY": "k",
                "OPENPRODUCER_AI_MODEL": "glm-4.5",
            },
            "zai",
            "glm-4.5",
            "https://api.z.ai/api/paas/v4/",
        ),
    ],
)
def test_resolve(inputs, env, provider, model, base_url) -> None:  # type: ignore[no-untyped-def]
    settings = resolve(env, **inputs)
    assert settings is not None
    assert (settings.provider, settings.model, settings.base_url) == (provider, model, base_url)
    assert KEY not in repr(settings)


@pytest.mark.parametrize(
    ("inputs", "env"),
    [({}, {}), ({"provider": "none", "api_key": KEY}, {}), ({"provider": "OFF"}, {})],
)
def test_offline(inputs: dict[str, str], env: dict[str, str]) -> None:
    assert resolve(env, **inputs) is None


@pytest.mark.parametrize(
    ("inputs", "names"),
    [
        ({"provider": "claude", "api_key": KEY}, "`ai-provider`"),
        ({"provider": "custom", "api_key": KEY}, "`ai-base-url`"),
        ({"provider": "openai"}, "`ai-api-key`"),
        ({"provider": "gemini"}, "GEMINI_API_KEY or GOOGLE_API_KEY"),
        ({"provider": "openai", "api_key": KEY, "base_url": "ftp://x"}, "`ai-base-url`"),
    ],
)
def test_config_errors_name_the_input_never_the_key(inputs: dict[str, str], names: str) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve({}, **inputs)
    assert names in str(caught.value)
    assert KEY not in str(caught.value)


@pytest.mark.parametrize(
    ("env", "cache_dir", "ttl"),
    [
        ({}, None, 3600.0),
        ({"HOME": "/home/me"}, "/home/me/.cache/openproducer/ai", 3600.0),
        ({"HOME": "/h", "XDG_CACHE_HOME": "/xdg"}, "/xdg/openproducer/ai", 3600.0),
        (
            {
                "HOME": "/h",
                "OPENPRODUCER_AI_CACHE_DIR": "/tmp/c",
                "OPENPRODUCER_AI_CACHE_TTL": "60",
            },
            "/tmp/c",
            60.0,
        ),
        ({"HOME": "/h", "OPENPRODUCER_AI_CACHE_DIR": "off"}, None, 3600.0),
    ],
)
def test_cache_settings(env: dict[str, str], cache_dir: str | None, ttl: float) -> None:
    settings = resolve({"OPENAI_API_KEY": KEY, **env})
    assert settings is not None
    assert (settings.cache_dir, settings.cache_ttl) == (cache_dir, ttl)


@pytest.mark.parametrize("ttl", ["-1", "soon", "inf"])
def test_bad_cache_ttl(ttl: str) -> None:
    with pytest.raises(ConfigError, match="OPENPRODUCER_AI_CACHE_TTL"):
        resolve({"OPENAI_API_KEY": KEY, "OPENPRODUCER_AI_CACHE_TTL": ttl})
