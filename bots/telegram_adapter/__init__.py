"""Telegram adapter: python-telegram-bot v22 on the shared event loop, polling or webhook.

startup: the Application and shutdown; polling, webhook: updates in (intake: none confirmed to
Telegram before its turn started); handlers: PTB's callbacks;
incoming: every event → IncomingMessage; delivery: ReplyEvents → messages; buttons: choices as
inline keyboards; commands: the command menu; options: the knobs; bot_api, send_pacing,
formatting, admins: single calls, outgoing pacing, entities, chat admins.
"""

from bots.telegram_adapter.options import TelegramOptions
from bots.telegram_adapter.startup import run_telegram

__all__ = ["TelegramOptions", "run_telegram"]
