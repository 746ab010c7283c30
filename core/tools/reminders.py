"""Built-in tools: the current date and time in the chat's timezone, and reminders (set, list,
cancel) that the scheduler (core/reminders/scheduler.py) delivers in the chat when due.

What they return is for the model, in English (it answers in the user's language); a refusal
is one line the model can pass on. None of them acts outside the bot.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

from core.reminders.timezones import canonical_zone, local_time, zone
from core.reminders.when import WhenRefused, due_time
from core.storage.errors import StorageError
from core.storage.reminders import Added, NewReminder, Reminder, ReminderStore
from core.tools.base import Tool, ToolCallContext, ToolOutput, ToolSpec

MAX_TEXT_CHARS = 500
SHOWN_TEXT_CHARS = 80


def _timezone(context: ToolCallContext) -> str:
    return canonical_zone(context.timezone) or "UTC"


def _object(properties: Mapping[str, object], required: Sequence[str] = ()) -> dict[str, object]:
    return {
        "type": "object",
        "properties": dict(properties),
        "required": list(required),
        "additionalProperties": False,
    }


class CurrentTime:
    spec = ToolSpec(
        name="current_time",
        description=(
            "The current date, time and weekday in this chat's timezone. Use it for anything "
            "that depends on today's date or the time of day."
        ),
        parameters=_object({}),
    )

    def progress(self, arguments: Mapping[str, object]) -> str:
        return "🕒 checking the time"

    async def run(self, arguments: Mapping[str, object], context: ToolCallContext) -> ToolOutput:
        timezone = _timezone(context)
        local = context.now.astimezone(zone(timezone))
        offset = local.strftime("%z")
        return ToolOutput(
            f"{local:%A %Y-%m-%d %H:%M:%S} {local.tzname()} (UTC{offset[:3]}:{offset[3:]}), "
            f"timezone {timezone}"
        )


@dataclass(frozen=True, slots=True)
class ReminderConfig:
    max_pending: int = 20  # REMINDERS_MAX_PENDING


class _StoredTool:
    """A tool that reads or writes reminders: a database that is away is a refusal the model
    can pass on, not an exception."""

    async def run(self, arguments: Mapping[str, object], context: ToolCallContext) -> ToolOutput:
        try:
            return await self._run(arguments, context)
        except StorageError:
            return _refused("the bot cannot reach its database right now: try again in a moment")

    async def _run(self, arguments: Mapping[str, object], context: ToolCallContext) -> ToolOutput:
        raise NotImplementedError


class SetReminder(_StoredTool):
    spec = ToolSpec(
        name="set_reminder",
        description=(
            "Set a reminder that the bot sends in this chat at the given time, addressed to the "
            "user who asked. Give either 'at' (a local date and time in the chat's timezone) "
            "or 'in_minutes'. Call current_time first if you need today's date."
        ),
        parameters=_object(
            {
                "text": {
                    "type": "string",
                    "description": "What to remind of, as the reminder should read "
                    "(e.g. 'call mum'), in the user's language",
                },
                "at": {
                    "type": "string",
                    "description": "Local date and time in the chat's timezone, ISO 8601 "
                    "without offset, e.g. 2026-12-08T09:00",
                },
                "in_minutes": {
                    "type": "number",
                    "description": "Or: how many minutes from now",
                },
            },
            required=["text"],
        ),
    )

    def __init__(
        self, store: ReminderStore, config: ReminderConfig, on_added: Callable[[], None]
    ) -> None:
        self._store = store
        self._config = config
        self._on_added = on_added

    def progress(self, arguments: Mapping[str, object]) -> str:
        return f"⏰ setting a reminder: {_clip(str(arguments.get('text', '')))}"

    async def _run(self, arguments: Mapping[str, object], context: ToolCallContext) -> ToolOutput:
        timezone = _timezone(context)
        text = " ".join(str(arguments.get("text") or "").split())
        if not text:
            return _refused("say what to remind of ('text')")
        if len(text) > MAX_TEXT_CHARS:
            return _refused(f"the text is too long (at most {MAX_TEXT_CHARS} characters)")
        try:
            due = due_time(context.now, timezone, arguments.get("at"), arguments.get("in_minutes"))
        except WhenRefused as refused:
            return _refused(str(refused))
        name = await self._store.author_name(context.key, context.user_id)
        added = await self._store.add(
            NewReminder(
                key=context.key,
                user_id=context.user_id,
                user_name=name,
                text=text,
                due_at=due,
                timezone=timezone,
                language=context.language,
            ),
            self._config.max_pending,
            context.now,
        )
        if added is Added.FULL:
            return _refused(
                f"this chat already has {self._config.max_pending} pending reminders, the most "
                "it may have: cancel one first (/reminders)"
            )
        assert isinstance(added, Reminder)
        self._on_added()
        return ToolOutput(
            f"Reminder #{added.id} set for {local_time(due, timezone)} ({timezone}), "
            f"{_from_now(due - context.now)}: {text}"
        )


class ListReminders(_StoredTool):
    spec = ToolSpec(
        name="list_reminders",
        description="The reminders pending in this chat, with their ids and local times.",
        parameters=_object({}),
    )

    def __init__(self, store: ReminderStore) -> None:
        self._store = store

    def progress(self, arguments: Mapping[str, object]) -> str:
        return "⏰ looking at the reminders"

    async def _run(self, arguments: Mapping[str, object], context: ToolCallContext) -> ToolOutput:
        pending = await self._store.pending(context.key)
        if not pending:
            return ToolOutput("No reminders are pending in this chat.")
        timezone = _timezone(context)
        return ToolOutput(
            "\n".join(
                f"#{r.id} {local_time(r.due_at, timezone)}"
                + (f" for {r.user_name}" if r.user_name else "")
                + f": {r.text}"
                for r in pending
            )
        )


class CancelReminder(_StoredTool):
    spec = ToolSpec(
        name="cancel_reminder",
        description="Cancel a pending reminder of this chat by its id (see list_reminders).",
        parameters=_object({"id": {"type": "integer", "description": "The reminder's id"}}, ["id"]),
    )

    def __init__(self, store: ReminderStore) -> None:
        self._store = store

    def progress(self, arguments: Mapping[str, object]) -> str:
        return f"⏰ cancelling reminder #{_clip(str(arguments.get('id', '')))}"

    async def _run(self, arguments: Mapping[str, object], context: ToolCallContext) -> ToolOutput:
        raw = str(arguments.get("id", "")).strip().lstrip("#")
        if not raw.isdigit() or len(raw) > 18:
            return _refused("'id' must be a reminder's number, as list_reminders shows it")
        reminder = await self._store.get(context.key, int(raw))
        if reminder is None or reminder.state != "pending":
            return _refused(f"there is no pending reminder #{raw} in this chat")
        if not (context.user_id == reminder.user_id or context.is_owner or context.is_private):
            return _refused(
                f"only the person who set reminder #{raw} or an admin (with /reminders) may "
                "cancel it"
            )
        if not await self._store.cancel(context.key, reminder.id):
            return _refused(f"reminder #{raw} was sent or cancelled meanwhile")
        return ToolOutput(f"Cancelled reminder #{raw}: {reminder.text}")


class ReminderTools:
    """The source of these tools: `current_time` always, the reminder tools unless
    REMINDERS_ENABLED is off."""

    def __init__(
        self,
        store: ReminderStore,
        *,
        enabled: bool = True,
        config: ReminderConfig | None = None,
        on_added: Callable[[], None] = lambda: None,
    ) -> None:
        config = config or ReminderConfig()
        self._tools: tuple[Tool, ...] = (CurrentTime(),)
        if enabled:
            self._tools += (
                SetReminder(store, config, on_added),
                ListReminders(store),
                CancelReminder(store),
            )

    def tools(self) -> Sequence[Tool]:
        return self._tools

    def allowed_in(self, context: ToolCallContext) -> bool:
        return True


def _refused(reason: str) -> ToolOutput:
    return ToolOutput(f"Not done: {reason}.", is_error=True)


def _clip(text: str) -> str:
    return text if len(text) <= SHOWN_TEXT_CHARS else text[: SHOWN_TEXT_CHARS - 1] + "…"


def _from_now(delay: timedelta) -> str:
    minutes = max(round(delay.total_seconds() / 60), 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [f"{days} d"] * bool(days) + [f"{hours} h"] * bool(hours) + [f"{minutes} min"]
    return "in " + " ".join(parts)
