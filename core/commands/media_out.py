"""/voice: a chat's answers also spoken. (/image and /speak are turns: core/turn/media_out.py.)"""

from __future__ import annotations

from dataclasses import replace

from core.boundary import CommandReply
from core.commands.context import CommandContext, CommandTools, handles, on_off
from core.media.out_params import speech_choice
from core.model.params import ON_OFF


@handles("voice")
async def voice(tools: CommandTools, context: CommandContext, args: str) -> CommandReply:
    params, texts = context.conversation.params, context.texts
    word = args.strip().lower()
    if word not in ON_OFF:
        return texts.error("voice.usage", state=on_off(bool(params.voice_replies)))
    on = ON_OFF[word]
    options = tools.media_out
    if on and not options.config.speech_enabled:
        return texts.error("speech.off")
    if on and params.speech is False:
        return texts.error("speech.off_chat")
    await tools.storage.conversations.update_conversation(
        context.conversation.id, params=replace(params, voice_replies=on)
    )
    if not on:
        return CommandReply(texts.get("voice.off_now"))
    _, name = speech_choice(params, options.config, options.speech)
    return CommandReply(texts.get("voice.on", voice=name))
