"""What the owner's web console does in a conversation, with the chat service's own parts: plan
the next turn's window (the turn's planner and window reading), run a command as the owner (the
command handlers, in the conversation's turn order)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from core.boundary import Author, CommandReply, ConversationKey, IncomingMessage
from core.commands.context import CommandContext
from core.commands.runner import CommandRunner
from core.storage.stores import Storage
from core.texts import Texts
from core.tools.toolbox import ToolBox
from core.turn.conversation_locks import ConversationQueue
from core.turn.history import read_window
from core.turn.prompt_plan import PromptPlan, PromptPlanner
from core.turn.tool_loop import plan_with_tools
from core.turn.window import MIN_HISTORY_BUDGET, Window

OWNER_CONSOLE_ID = "web-console"  # the author of what the owner does from the web console


class OwnerActions:
    def __init__(
        self,
        storage: Storage,
        planner: PromptPlanner,
        commands: CommandRunner,
        locks: ConversationQueue,
        low_watermark_share: float,
        toolbox: ToolBox,
        clock: Callable[[], datetime],
    ) -> None:
        self._storage = storage
        self._planner = planner
        self._commands = commands
        self._locks = locks
        self._low_watermark_share = low_watermark_share
        self._toolbox = toolbox  # the tools turns offer: their definitions take window room
        self._clock = clock

    async def next_window(
        self, key: ConversationKey, *, is_private: bool, space_id: str = ""
    ) -> tuple[PromptPlan, Window]:
        """The plan and window the conversation's next turn would send, before its new
        message."""
        message = owner_message(key, "", is_private, space_id)
        conversation = await self._storage.conversations.conversation(key)
        # As a member's turn would plan it: an owner's may also offer the owners' MCP servers.
        plan, _ = await plan_with_tools(
            self._planner, self._toolbox, message, False, conversation, self._clock()
        )
        window = await read_window(
            self._storage.messages,
            conversation,
            plan.spec,
            max(plan.budget, MIN_HISTORY_BUDGET),
            self._low_watermark_share,
        )
        return plan, window

    async def command(
        self,
        key: ConversationKey,
        name: str,
        args: str,
        *,
        is_private: bool,
        space_id: str = "",
        language: str | None = None,
    ) -> CommandReply:
        """Run a chat command as the owner: the chat's own handler, after any turn running."""
        message = owner_message(key, f"/{name} {args}".strip(), is_private, space_id, language)
        async with self._locks.hold(key):
            context = CommandContext(
                message=message,
                conversation=await self._storage.conversations.conversation(key),
                texts=Texts(language),
                space_id=space_id or key.chat_id,
                is_owner=True,
            )
            return await self._commands.run(context, name, args)


def owner_message(
    key: ConversationKey, text: str, is_private: bool, space_id: str, language: str | None = None
) -> IncomingMessage:
    """What the owner does from the console, as the message a chat would send."""
    owner = Author(OWNER_CONSOLE_ID, "owner", language, can_manage=True)
    return IncomingMessage(key, owner, text, True, is_private, space_id=space_id)
