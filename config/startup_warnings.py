"""Settings that are valid but probably not what the owner meant, warned about at start: SQLite
on a PaaS, `ALLOWED_USERS=*`, and variables that look like this bot's (or another well-known
bot's) settings but are none, which would otherwise be ignored without a word."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path

from dotenv import dotenv_values

from config.settings import Settings

# Environment variables that tell which PaaS runs the process.
PAAS_MARKERS = {
    "DYNO": "Heroku",
    "RAILWAY_ENVIRONMENT": "Railway",
    "RENDER": "Render",
    "FLY_APP_NAME": "Fly.io",
}
# Prefixes only this bot's settings use: an unknown variable with one is a typo or a guess.
OWN_PREFIXES = ("TELEGRAM_", "DISCORD_", "ALLOWED_", "DENIED_", "ADMIN_", "BUDGET_", "RATE_LIMIT_")
# Settings of other well-known chat bots (chatgpt-telegram-bot and the like) and what means the
# same here.
OTHER_BOTS_SETTINGS = {
    "ALLOWED_TELEGRAM_USER_IDS": "ALLOWED_USERS",
    "ALLOWED_USER_IDS": "ALLOWED_USERS",
    "ADMIN_USER_IDS": "ADMIN_USERS",
    "TELEGRAM_TOKEN": "TELEGRAM_BOT_TOKEN",
    "BOT_TOKEN": "TELEGRAM_BOT_TOKEN",
    "DISCORD_TOKEN": "DISCORD_BOT_TOKEN",
    "OPENAI_MODEL": "DEFAULT_MODEL",
    "MODEL": "DEFAULT_MODEL",
    "OPENAI_API_BASE": "OPENAI_BASE_URL",
    "OPENAI_KEY": "OPENAI_API_KEY",
    "ASSISTANT_PROMPT": "DEFAULT_PERSONA",
    "SYSTEM_PROMPT": "DEFAULT_PERSONA",
    "MAX_HISTORY_SIZE": "DEFAULT_CONTEXT_TOKENS",
    "WEBHOOK_URL": "TELEGRAM_WEBHOOK_URL",
    "USER_BUDGETS": "BUDGET_USER_MONTHLY_USD",
}
LOOKALIKE_CUTOFF = 0.85


def startup_warnings(
    settings: Settings, environ: Mapping[str, str], env_file: Path | None = Path(".env")
) -> list[str]:
    """One line per doubtful setting, each naming the variable and what to do."""
    file_values = {
        name.upper(): value or ""
        for name, value in (
            dotenv_values(env_file) if env_file and env_file.is_file() else {}
        ).items()
    }
    environment = {name.upper(): value for name, value in environ.items()}
    known = {name.upper() for name in Settings.model_fields}
    # The variables PROVIDERS names for its keys are the owner's own, not typos.
    known |= {config.api_key_env.upper() for config in settings.providers.values()}
    warnings: list[str] = []

    paas = next((name for marker, name in PAAS_MARKERS.items() if marker in environment), None)
    if paas and settings.database_url.startswith("sqlite"):
        warnings.append(
            f"DATABASE_URL: SQLite on {paas}, whose disk is wiped at each deploy, so the bot "
            "would forget every conversation: add PostgreSQL and set DATABASE_URL to it"
        )
    for name in ("ALLOWED_USERS", "ALLOWED_CHATS"):
        raw = environment.get(name, file_values.get(name, ""))
        if "*" in (part.strip() for part in raw.split(",")):
            warnings.append(f"{name}=*: everyone may use the bot (the same as leaving it empty)")

    for name in sorted(set(environment) - known):
        guess = _meant(name, known, strict=True)
        if guess:
            warnings.append(f"{name} is not a setting of this bot and is ignored; {guess}")
    for name in sorted(set(file_values) - known):
        guess = _meant(name, known, strict=False) or "see .env.example for the settings"
        warnings.append(f"{name} in .env is not a setting of this bot and is ignored; {guess}")
    return warnings


def _meant(name: str, known: set[str], *, strict: bool) -> str:
    """What an unknown variable probably meant ("" if it does not look like a setting; with
    `strict`, as for the process's whole environment, only close look-alikes count)."""
    if name in OTHER_BOTS_SETTINGS:
        return f"use {OTHER_BOTS_SETTINGS[name]}"
    close = difflib.get_close_matches(name, known, n=1, cutoff=LOOKALIKE_CUTOFF)
    if close:
        return f"did you mean {close[0]}?"
    if not strict or name.startswith(OWN_PREFIXES):
        return "see .env.example for the settings"
    return ""
