"""Commands that tell: /start, /help, /usage, /tokens."""

from __future__ import annotations

from core.boundary import CommandReply
from core.commands.catalog import COMMANDS, command_description
from core.commands.context import CommandContext, CommandTools, handles
from core.policy.limits import usage_lines
from core.tokens import count_text

MAX_TOKENS_TEXT = 100_000


@handles("start")
async def start(tools: CommandTools, context: CommandContext, args: str) -> CommandReply:
    persona = await tools.active_persona(context)
    intro = context.texts.get("start", persona=persona.name)
    return CommandReply(f"{intro}\n\n{_help_text(context)}")


@handles("help")
async def help_(tools: CommandTools, context: CommandContext, args: str) -> CommandReply:
    return CommandReply(_help_text(context))


def _help_text(context: CommandContext) -> str:
    language = context.texts.language
    lines = [context.texts.get("help.title")]
    for spec in COMMANDS:
        usage = f" {spec.usage}" if spec.usage else ""
        lines.append(f"/{spec.name}{usage} — {command_description(spec.name, language)}")
    return "\n".join(lines)


@handles("usage")
async def usage(tools: CommandTools, context: CommandContext, args: str) -> CommandReply:
    totals = await tools.storage.usage.usage_totals(context.conversation.id)
    if not totals:
        lines = [context.texts.get("usage.none")]
    else:
        lines = [context.texts.get("usage.title")]
        for total in totals:
            reasoning_usd = tools.models.get(total.model).output_cost_usd(total.reasoning_tokens)
            lines.append(context.texts.usage_line(total, reasoning_usd))
        cost = sum(total.cost_usd for total in totals)
        lines.append(context.texts.get("usage.total", cost=f"{cost:.4f}"))
    statuses = [] if context.is_owner else await tools.limits.statuses(context.message)
    limits = usage_lines(tools.limits.config, statuses, context.texts, context.is_owner)
    if limits:
        lines += ["", *limits]
    return CommandReply("\n".join(lines))


@handles("tokens")
async def tokens(tools: CommandTools, context: CommandContext, args: str) -> CommandReply:
    if not args:
        return context.texts.error("tokens.usage")
    if len(args) > MAX_TOKENS_TEXT:
        return context.texts.error("tokens.too_long", limit=MAX_TOKENS_TEXT)
    spec = await tools.model_spec(context)
    count = count_text(args, spec.encoding)
    if spec.estimated_tokens:
        # Not this model's tokenizer: the local count scaled by what its answers taught.
        ratio = tools.token_ratios.ratio(spec)
        learned = tools.token_ratios.learned(spec.name) is not None
        estimate = round(count * ratio)
        per_token = len(args) / estimate if estimate else 0.0
        return CommandReply(
            context.texts.get(
                "tokens.estimate" if learned else "tokens.estimate_unlearned",
                tokens=estimate,
                chars=len(args),
                per_token=f"{per_token:.2f}",
                model=spec.name,
                encoding=spec.encoding,
                local=count,
                ratio=f"{ratio:.2f}",
            )
        )
    per_token = len(args) / count if count else 0.0
    return CommandReply(
        context.texts.get(
            "tokens.result",
            tokens=count,
            chars=len(args),
            per_token=f"{per_token:.2f}",
            model=spec.name,
            encoding=spec.encoding,
        )
    )
