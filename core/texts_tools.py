"""The texts of tools (issue 14): /tools, the confirmation asked before a call that needs one,
and the built-in drawing tool; English and Korean, merged into core/texts.py's catalog."""

from __future__ import annotations

# What the model reads of the drawing tool (in English, whatever the chat's language).
DRAW_DESCRIPTION = (
    "Draw a picture from a description and send it to the chat. Use it when the user asks "
    "for an image, a drawing or a picture."
)
DRAW_PROMPT = "What to draw, in detail"

EN: dict[str, str] = {
    "command.tools": "List the tools I can use here; admins turn them on or off",
    "arg.tools.action": "on or off",
    "arg.tools.name": "The tool's name",
    "tools.header": "Tools in this chat (/tools on|off NAME):",
    "tools.source": "{source}:",
    "tools.line": "{mark} {name}: {description}",
    "tools.off_here": "(off in groups until an admin turns it on)",
    "tools.none": "No tools are available in this chat.",
    "tools.off_bot": "Tools are turned off for this bot.",
    "tools.model_cannot": "{model} can't call tools: switch to one that can (/models).",
    "tools.usage": "Usage: /tools, or /tools on|off NAME",
    "tools.unknown": "There is no tool named {name} here. /tools lists them.",
    "tools.switched": "{name} is now {state} in this chat.",
    "tools.confirm": "Run `{tool}` with {arguments}?",
    "tools.yes": "Yes",
    "tools.no": "No",
    "tools.confirmed": "OK, running it.",
    "tools.declined": "OK, not running it.",
    "tools.not_yours": "Only the person who asked can answer this.",
    "tools.expired": "That question has expired or was answered already.",
    "tools.draw_progress": "🎨 drawing: {prompt}",
}

KO: dict[str, str] = {
    "command.tools": "이 대화에서 쓸 수 있는 도구 보기; 관리자가 켜고 끄기",
    "arg.tools.action": "on 또는 off",
    "arg.tools.name": "도구 이름",
    "tools.header": "이 대화의 도구 (/tools on|off 이름):",
    "tools.source": "{source}:",
    "tools.line": "{mark} {name}: {description}",
    "tools.off_here": "(그룹에서는 관리자가 켤 때까지 꺼져 있어요)",
    "tools.none": "이 대화에서 쓸 수 있는 도구가 없어요.",
    "tools.off_bot": "이 봇은 도구가 꺼져 있어요.",
    "tools.model_cannot": "{model}은(는) 도구를 못 써요: 쓸 수 있는 모델로 바꿔 주세요 (/models).",
    "tools.usage": "사용법: /tools 또는 /tools on|off 이름",
    "tools.unknown": "여기에는 {name}(이)라는 도구가 없어요. /tools 로 목록을 볼 수 있어요.",
    "tools.switched": "이제 이 대화에서 {name}: {state}.",
    "tools.confirm": "`{tool}`을(를) {arguments}(으)로 실행할까요?",
    "tools.yes": "예",
    "tools.no": "아니요",
    "tools.confirmed": "네, 실행할게요.",
    "tools.declined": "네, 실행하지 않을게요.",
    "tools.not_yours": "질문한 사람만 답할 수 있어요.",
    "tools.expired": "이 질문은 만료되었거나 이미 답을 받았어요.",
    "tools.draw_progress": "🎨 그리는 중: {prompt}",
}
