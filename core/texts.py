"""Every text a user sees, in English and Korean, chosen from the user's platform language."""

from __future__ import annotations

from typing import Any

from core import texts_console, texts_media_out, texts_reminders, texts_tools, texts_vision
from core.boundary import CommandReply
from core.model.catalog import ModelSpec
from core.storage.records import UsageTotal

LANGUAGES = ("en", "ko")

EN: dict[str, str] = {
    "start": "Hi! I'm a GPT chat bot. Talk to me and I'll remember this chat. Current persona: {persona}.",
    "help.title": "Commands:",
    "not_allowed": "Only this chat's admins can change that (an admin can allow everyone with /access everyone).",
    "not_allowed_user": "Sorry, this bot is private. Ask its owner to add you to the allowed users.",
    "unknown_command": "Unknown command /{name}. Send /help for the list.",
    "empty_message": "I read text, voice messages, audio, text files and PDFs: send me one of those.",
    "personas.title": "Personas (▶ = active):",
    "personas.custom": " (saved here)",
    "personas.hint": "Switch with /persona NAME. Save your own with /newpersona NAME PROMPT.",
    "persona.current": "Persona: {name} — {description}\n\nSystem prompt:\n{prompt}",
    "persona.unknown": "There is no persona named '{name}'. See /personas.",
    "persona.switched": "Persona is now {name}. Starting a fresh context (earlier messages stay stored).",
    "newpersona.usage": "Usage: /newpersona NAME PROMPT — e.g. /newpersona pirate You are a cheerful pirate.",
    "newpersona.bad_name": "'{name}' can't be a persona name: use 1–32 lowercase letters, digits, - or _.",
    "newpersona.too_long": "That prompt is too long: at most {limit} characters.",
    "newpersona.builtin": "'{name}' is a built-in persona; pick another name.",
    "newpersona.exists": "A persona named '{name}' already exists here. Delete it first with /delpersona {name}.",
    "newpersona.saved": "Saved persona '{name}' with this chat's model and parameters. Use it with /persona {name}.",
    "delpersona.usage": "Usage: /delpersona NAME",
    "delpersona.builtin": "'{name}' is built in and can't be deleted.",
    "delpersona.deleted": "Deleted persona '{name}'.",
    "reset.done": "Done: I forgot this chat's history ({count} messages).",
    "model.unknown": "Unknown model '{name}'. Known models: {models}",
    "model.switched": "Model is now {name}.",
    "model.max_tokens_reset": "max_tokens was above this model's limit and is back to the default.",
    "model.not_in_catalog": "This model is not in the catalog: I assume a {window}-token context and no price.",
    "models.title": "Models (context · max reply · $ per 1M input/cached/output):",
    "set.usage": "Usage: /set PARAM VALUE (or /set PARAM default). Parameters: {allowed}",
    "set.unknown_param": "Unknown parameter '{name}'. Parameters: {allowed}",
    "set.missing_value": "Give a value: /set {name} VALUE (or /set {name} default).",
    "set.float_range": "{name} must be a number from {low} to {high}.",
    "set.int_range": "{name} must be a whole number from {low} to {high}.",
    "set.stop": "stop takes 1 to {limit} sequences separated by | (each up to 64 characters).",
    "set.done": "{name} = {value}",
    "settings.title": "Settings of this chat:",
    "settings.default": "default",
    "usage.none": "No usage recorded in this chat yet.",
    "usage.title": "Usage in this chat:",
    "usage.line": "{model}: {requests} requests, {prompt} prompt tokens ({cached} cached), {completion} completion tokens, ${cost}",
    "usage.total": "Total: ${cost}",
    "tokens.usage": "Usage: /tokens TEXT — I'll count its tokens for this chat's model.",
    "tokens.too_long": "That text is too long to count here (at most {limit} characters).",
    "tokens.result": "{tokens} tokens, {chars} characters ({per_token} characters per token) for {model} ({encoding}).",
    "toggle.usage": "Usage: /{name} on|off",
    "listen.on": "Listening: I'll remember messages in this chat that aren't addressed to me.",
    "listen.off": "Not listening: I only remember messages addressed to me.",
    "answerall.on": "I'll answer every message here.",
    "answerall.off": "I'll answer only when addressed.",
    "trigger.usage": "Usage: /trigger WORD (2–32 letters or digits) or /trigger off",
    "trigger.on": "I'll also answer messages that contain '{word}'.",
    "trigger.off": "Trigger word removed.",
    "access.usage": "Usage: /access admins|everyone",
    "access.admins": "Only admins can change this chat's settings now.",
    "access.everyone": "Everyone can change this chat's settings now.",
    "notice.trimmed": "ℹ️ Older messages no longer fit the context window and were left out ({kept} messages sent).",
    "notice.input_cut": "ℹ️ Your message was too long: I read only its first {tokens} tokens.",
    "notice.answer_cut": "ℹ️ The answer was cut at the max_tokens limit ({limit}). Raise it with /set max_tokens N.",
    "notice.stream_broken": "⚠️ The answer was interrupted; above is what arrived.",
    "error.no_room": "This chat's settings leave no room for the conversation: lower max_tokens or raise context_tokens.",
    "error.rate_limit": "The AI service is busy right now (rate limit). Please try again in a moment.",
    "error.quota": "The AI service's quota for this bot is used up. The owner needs to check the billing.",
    "error.auth": "The bot can't sign in to the AI service. The owner needs to check the API key.",
    "error.model_not_found": "The AI service doesn't know this chat's model. Pick another with /model.",
    "error.context_length": "The conversation is too long for the model. Try /reset or a lower context_tokens.",
    "error.timeout": "The AI service took too long to answer. Please try again.",
    "error.connection": "I can't reach the AI service right now. Please try again later.",
    "error.server": "The AI service had an error. Please try again.",
    "error.bad_request": "The AI service rejected the request. Check /settings or try /reset.",
    "error.broken_stream": "The answer was interrupted. Please try again.",
    "error.empty_answer": "The model returned an empty answer. Please try again.",
    "error.storage": "I couldn't reach my memory (database). Please try again in a moment.",
    "error.internal": "Something went wrong on my side. Please try again.",
    "limit.rate_user": "You're sending messages too fast (at most {limit} a minute). Try again in {seconds} s.",
    "limit.rate_chat": "This chat is sending messages too fast (at most {limit} a minute). Try again in {seconds} s.",
    "limit.budget_user": "You've used up your {period} budget ({spent} of {limit}). It renews {renews}.",
    "limit.budget_chat": "This chat has used up its {period} budget ({spent} of {limit}). It renews {renews}.",
    "limit.tokens": "{count} tokens",
    "limit.daily": "daily",
    "limit.monthly": "monthly",
    "limit.renews_daily": "at 00:00 UTC",
    "limit.renews_monthly": "on the 1st of the month (UTC)",
    "limit.scope_user": "You",
    "limit.scope_chat": "This chat",
    "usage.limits_title": "Limits:",
    "usage.limit_left": "{scope}, {period}: {left} of {limit} left",
    "usage.rate": "{scope}: at most {limit} messages a minute",
    "usage.owner": "You're an owner of this bot: no limits apply to you.",
    "command.start": "Start chatting and see what I can do",
    "command.help": "List the commands",
    "command.personas": "List the personas",
    "command.persona": "Show or switch the persona",
    "command.newpersona": "Save a persona with the current settings",
    "command.delpersona": "Delete a saved persona",
    "command.reset": "Forget this chat's history",
    "command.model": "Show or switch the model",
    "command.models": "List the models and prices",
    "command.set": "Change a parameter",
    "command.settings": "Show this chat's settings",
    "command.usage": "Tokens and cost of this chat",
    "command.tokens": "Count the tokens of a text",
    "command.listen": "Remember group messages not addressed to me",
    "command.answerall": "Answer every message here",
    "command.trigger": "A word that calls me in groups",
    "command.access": "Who may change settings",
    "command.forget": "Delete what I stored about you",
    "arg.persona.name": "Persona name",
    "arg.newpersona.name": "Persona name",
    "arg.newpersona.prompt": "The persona's instructions",
    "arg.delpersona.name": "Persona name",
    "arg.model.name": "Model name",
    "arg.set.parameter": "Setting to change",
    "arg.set.value": "New value",
    "arg.tokens.text": "Text to count",
    "arg.answerall.state": "on or off",
    # issue 11 item 6: a flooded conversation's extra messages are refused, once said
    "busy.backlog_full": (
        "I'm still answering earlier messages here, so I skipped the newest. "
        "Please send yours again once I've replied."
    ),
    # issue 11 item 3: model choice under cost control; item 17: a wrong base URL
    "model.not_allowed": "'{name}' isn't one of the models you can pick here: {models}",
    "model.unpriced": "'{name}' has no price, and this bot has spending limits in dollars. Models you can pick: {models}",
    "model.unpriced_owner": "It has no price: dollar budgets won't count its use (UNPRICED_MODEL_USD_PER_1M gives it one).",
    "model.not_in_catalog_priced": "This model is not in the catalog: I assume a {window}-token context and ${price} per 1M tokens.",
    "models.provider": "[{provider}]",
    "models.provider_failed": "[{provider}] its list of models can't be read right now.",
    "tokens.estimate": "About {tokens} tokens, {chars} characters ({per_token} characters per token) for {model}: an estimate, since I don't have its tokenizer ({local} in {encoding} × {ratio}, learned from its answers).",
    "tokens.estimate_unlearned": "About {tokens} tokens, {chars} characters ({per_token} characters per token) for {model}: an estimate, since I don't have its tokenizer ({local} in {encoding} × {ratio}, a cautious guess until its first answer).",
    "model.unpriced_turn": "This chat's model '{name}' has no price, and this bot has spending limits in dollars. Pick a priced model with /model (see /models).",
    "error.endpoint_not_found": "The AI service's address looks wrong (it answers 'not found' to everything). The owner needs to check OPENAI_BASE_URL (or this provider's base_url in PROVIDERS).",
    # issue 11 items 1, 2, 4: /forget says what it removed and what it kept; persona caps
    "forget.done": "Done. Deleted: {messages} of your messages, {answers} of my answers to them, {personas} personas you created, {conversations} conversations. Kept without your identity, so limits still count them: {usage} usage records.",
    "personas.more": "…and {count} more saved here: /persona NAME switches to any of them.",
    "newpersona.full": "This chat already has {limit} saved personas, the most allowed. Delete one first with /delpersona NAME.",
    # issue 12: per-model capabilities, reasoning models
    "set.ignored": "(kept, but {model} ignores it: it applies when this chat uses a model that takes it)",
    "set.choice": "{name} must be one of: {allowed}.",
    "set.logit_bias": "logit_bias takes TOKEN:BIAS pairs separated by commas (e.g. 1234:-100,5678:5), biases from -100 to 100, at most {limit}.",
    "settings.ignored": "(ignored by this model)",
    "model.ignores": "It ignores what this chat set for: {names} (kept for a model that takes it).",
    "usage.reasoning": "of which {tokens} reasoning, ${cost}",
    "thinking": "💭 thinking…",
    "error.thought_too_long": "The model spent its whole budget ({limit} tokens) thinking and had nothing left for the answer. Raise /set max_tokens, or lower /set reasoning_effort if the model takes it.",
    # issue 13: files and voice notes in
    "media.video_unsupported": "I can't watch videos. I read voice notes, audio, text files (txt, md, csv, json, source code) and PDFs.",
    "media.file_unsupported": "I can't read {name}: I read text files (txt, md, csv, json, source code), PDFs, voice notes and audio.",
    "media.files_off": "Reading files is turned off for this bot.",
    "media.voice_off": "Voice messages are turned off for this bot: please type your message.",
    "media.too_large": "{name} is too large for me: at most {limit} MB.",
    "media.too_long": "That recording is too long for me: at most {minutes} minutes.",
    "media.fetch_failed": "I couldn't download {name}. Please send it again.",
    "media.no_text_layer": "{name} has no text layer (a scan?): I can only read PDFs that contain text.",
    "media.damaged": "I couldn't read {name}: it looks damaged or password-protected.",
    "media.binary": "I couldn't read {name}: it isn't a text file.",
    "voice.transcript": "🎤 “{text}”",
    "voice.empty": "I couldn't make out any words in that recording.",
    "voice.failed": "I couldn't transcribe that recording: the speech service failed. Please try again.",
    "usage.transcription": "{model}: {requests} recordings transcribed, {minutes} min, ${cost}",
}

KO: dict[str, str] = {
    "start": "안녕하세요! GPT 챗봇입니다. 말을 걸면 이 대화를 기억해요. 현재 페르소나: {persona}.",
    "help.title": "명령어:",
    "not_allowed": "이 대화의 관리자만 바꿀 수 있어요 (관리자가 /access everyone 으로 모두에게 허용할 수 있어요).",
    "not_allowed_user": "죄송해요, 이 봇은 비공개예요. 봇 주인에게 허용 사용자로 추가해 달라고 하세요.",
    "unknown_command": "알 수 없는 명령어 /{name} 입니다. /help 로 목록을 보세요.",
    "empty_message": "텍스트, 음성 메시지, 오디오, 텍스트 파일과 PDF를 읽을 수 있어요: 그중 하나를 보내 주세요.",
    "personas.title": "페르소나 (▶ = 사용 중):",
    "personas.custom": " (여기서 저장됨)",
    "personas.hint": "/persona 이름 으로 바꾸고, /newpersona 이름 프롬프트 로 직접 저장할 수 있어요.",
    "persona.current": "페르소나: {name} — {description}\n\n시스템 프롬프트:\n{prompt}",
    "persona.unknown": "'{name}' 페르소나가 없어요. /personas 를 보세요.",
    "persona.switched": "페르소나를 {name}(으)로 바꿨어요. 새 문맥으로 시작해요 (이전 메시지는 저장되어 있어요).",
    "newpersona.usage": "사용법: /newpersona 이름 프롬프트 — 예: /newpersona pirate You are a cheerful pirate.",
    "newpersona.bad_name": "'{name}'은(는) 페르소나 이름으로 쓸 수 없어요: 영문 소문자, 숫자, -, _ 로 1–32자.",
    "newpersona.too_long": "프롬프트가 너무 길어요: 최대 {limit}자.",
    "newpersona.builtin": "'{name}'은(는) 기본 페르소나예요. 다른 이름을 고르세요.",
    "newpersona.exists": "'{name}' 페르소나가 이미 있어요. 먼저 /delpersona {name} 으로 지우세요.",
    "newpersona.saved": "이 대화의 모델과 매개변수로 '{name}' 페르소나를 저장했어요. /persona {name} 으로 사용하세요.",
    "delpersona.usage": "사용법: /delpersona 이름",
    "delpersona.builtin": "'{name}'은(는) 기본 페르소나라 지울 수 없어요.",
    "delpersona.deleted": "'{name}' 페르소나를 지웠어요.",
    "reset.done": "완료: 이 대화의 기록을 지웠어요 (메시지 {count}개).",
    "model.unknown": "알 수 없는 모델 '{name}'. 사용 가능한 모델: {models}",
    "model.switched": "모델을 {name}(으)로 바꿨어요.",
    "model.max_tokens_reset": "max_tokens가 이 모델의 한도를 넘어서 기본값으로 돌렸어요.",
    "model.not_in_catalog": "카탈로그에 없는 모델이에요: 문맥 {window} 토큰, 가격 없음으로 가정해요.",
    "models.title": "모델 (문맥 · 최대 답변 · 100만 토큰당 $ 입력/캐시/출력):",
    "set.usage": "사용법: /set 매개변수 값 (또는 /set 매개변수 default). 매개변수: {allowed}",
    "set.unknown_param": "알 수 없는 매개변수 '{name}'. 매개변수: {allowed}",
    "set.missing_value": "값을 주세요: /set {name} 값 (또는 /set {name} default).",
    "set.float_range": "{name}은(는) {low}부터 {high}까지의 숫자여야 해요.",
    "set.int_range": "{name}은(는) {low}부터 {high}까지의 정수여야 해요.",
    "set.stop": "stop은 | 로 구분한 1–{limit}개의 문자열이에요 (각 64자 이하).",
    "set.done": "{name} = {value}",
    "settings.title": "이 대화의 설정:",
    "settings.default": "기본값",
    "usage.none": "이 대화에는 아직 사용 기록이 없어요.",
    "usage.title": "이 대화의 사용량:",
    "usage.line": "{model}: 요청 {requests}회, 프롬프트 {prompt} 토큰 (캐시 {cached}), 답변 {completion} 토큰, ${cost}",
    "usage.total": "합계: ${cost}",
    "tokens.usage": "사용법: /tokens 텍스트 — 이 대화의 모델 기준으로 토큰을 세어 드려요.",
    "tokens.too_long": "텍스트가 너무 길어요 (최대 {limit}자).",
    "tokens.result": "{model} ({encoding}) 기준 {tokens} 토큰, {chars}자 (토큰당 {per_token}자).",
    "toggle.usage": "사용법: /{name} on|off",
    "listen.on": "듣기 켜짐: 저에게 하지 않은 메시지도 기억해요.",
    "listen.off": "듣기 꺼짐: 저에게 한 메시지만 기억해요.",
    "answerall.on": "여기서는 모든 메시지에 답할게요.",
    "answerall.off": "저를 부를 때만 답할게요.",
    "trigger.usage": "사용법: /trigger 단어 (글자나 숫자 2–32자) 또는 /trigger off",
    "trigger.on": "'{word}'이(가) 들어간 메시지에도 답할게요.",
    "trigger.off": "호출 단어를 지웠어요.",
    "access.usage": "사용법: /access admins|everyone",
    "access.admins": "이제 관리자만 설정을 바꿀 수 있어요.",
    "access.everyone": "이제 누구나 설정을 바꿀 수 있어요.",
    "notice.trimmed": "ℹ️ 오래된 메시지는 문맥 창에 들어가지 않아 빠졌어요 (메시지 {kept}개 전송).",
    "notice.input_cut": "ℹ️ 메시지가 너무 길어서 앞의 {tokens} 토큰만 읽었어요.",
    "notice.answer_cut": "ℹ️ 답변이 max_tokens 한도({limit})에서 잘렸어요. /set max_tokens N 으로 늘릴 수 있어요.",
    "notice.stream_broken": "⚠️ 답변이 중간에 끊겼어요. 위는 도착한 부분이에요.",
    "error.no_room": "이 대화의 설정으로는 대화를 보낼 공간이 없어요: max_tokens를 줄이거나 context_tokens를 늘리세요.",
    "error.rate_limit": "AI 서비스가 지금 바빠요 (요청 한도). 잠시 후 다시 시도해 주세요.",
    "error.quota": "이 봇의 AI 서비스 사용 한도가 다 찼어요. 봇 주인이 결제를 확인해야 해요.",
    "error.auth": "봇이 AI 서비스에 로그인하지 못했어요. 봇 주인이 API 키를 확인해야 해요.",
    "error.model_not_found": "AI 서비스가 이 대화의 모델을 몰라요. /model 로 다른 모델을 고르세요.",
    "error.context_length": "대화가 모델에 비해 너무 길어요. /reset 하거나 context_tokens를 줄여 보세요.",
    "error.timeout": "AI 서비스의 응답이 너무 늦어요. 다시 시도해 주세요.",
    "error.connection": "지금 AI 서비스에 연결할 수 없어요. 나중에 다시 시도해 주세요.",
    "error.server": "AI 서비스에 오류가 있었어요. 다시 시도해 주세요.",
    "error.bad_request": "AI 서비스가 요청을 거부했어요. /settings 를 확인하거나 /reset 해 보세요.",
    "error.broken_stream": "답변이 중간에 끊겼어요. 다시 시도해 주세요.",
    "error.empty_answer": "모델이 빈 답변을 보냈어요. 다시 시도해 주세요.",
    "error.storage": "기억(데이터베이스)에 접근하지 못했어요. 잠시 후 다시 시도해 주세요.",
    "error.internal": "제 쪽에서 문제가 생겼어요. 다시 시도해 주세요.",
    "limit.rate_user": "메시지를 너무 빨리 보내고 있어요 (1분에 최대 {limit}개). {seconds}초 뒤에 다시 시도해 주세요.",
    "limit.rate_chat": "이 대화에서 메시지가 너무 빨리 오고 있어요 (1분에 최대 {limit}개). {seconds}초 뒤에 다시 시도해 주세요.",
    "limit.budget_user": "{period} 사용 한도를 다 썼어요 ({limit} 중 {spent}). {renews} 다시 채워져요.",
    "limit.budget_chat": "이 대화의 {period} 사용 한도를 다 썼어요 ({limit} 중 {spent}). {renews} 다시 채워져요.",
    "limit.tokens": "{count} 토큰",
    "limit.daily": "하루",
    "limit.monthly": "한 달",
    "limit.renews_daily": "매일 00:00 UTC에",
    "limit.renews_monthly": "매월 1일(UTC)에",
    "limit.scope_user": "나",
    "limit.scope_chat": "이 대화",
    "usage.limits_title": "한도:",
    "usage.limit_left": "{scope}, {period}: {limit} 중 {left} 남음",
    "usage.rate": "{scope}: 1분에 최대 {limit}개 메시지",
    "usage.owner": "봇 주인이라 한도가 적용되지 않아요.",
    "command.start": "대화를 시작하고 기능 보기",
    "command.help": "명령어 목록",
    "command.personas": "페르소나 목록",
    "command.persona": "페르소나 보기 또는 바꾸기",
    "command.newpersona": "현재 설정으로 페르소나 저장",
    "command.delpersona": "저장한 페르소나 삭제",
    "command.reset": "이 대화의 기록 지우기",
    "command.model": "모델 보기 또는 바꾸기",
    "command.models": "모델과 가격 목록",
    "command.set": "매개변수 바꾸기",
    "command.settings": "이 대화의 설정 보기",
    "command.usage": "이 대화의 토큰과 비용",
    "command.tokens": "텍스트의 토큰 수 세기",
    "command.listen": "그룹 대화 기억하기",
    "command.answerall": "모든 메시지에 답하기",
    "command.trigger": "그룹에서 부르는 단어",
    "command.access": "설정 권한",
    "command.forget": "내 데이터 삭제",
    "arg.persona.name": "페르소나 이름",
    "arg.newpersona.name": "페르소나 이름",
    "arg.newpersona.prompt": "페르소나의 지시문",
    "arg.delpersona.name": "페르소나 이름",
    "arg.model.name": "모델 이름",
    "arg.set.parameter": "바꿀 설정",
    "arg.set.value": "새 값",
    "arg.tokens.text": "셀 텍스트",
    "arg.answerall.state": "켜기 또는 끄기",
    # issue 11 item 6: a flooded conversation's extra messages are refused, once said
    "busy.backlog_full": (
        "아직 이전 메시지들에 답하는 중이라 최근 메시지는 건너뛰었어요. "
        "제 답을 받은 뒤에 다시 보내 주세요."
    ),
    # issue 11 item 3: model choice under cost control; item 17: a wrong base URL
    "model.not_allowed": "'{name}'은(는) 여기서 고를 수 있는 모델이 아니에요. 고를 수 있는 모델: {models}",
    "model.unpriced": "'{name}'은(는) 가격이 없는데, 이 봇에는 달러 사용 한도가 있어요. 고를 수 있는 모델: {models}",
    "model.unpriced_owner": "가격이 없는 모델이라 달러 사용 한도에 계산되지 않아요 (UNPRICED_MODEL_USD_PER_1M로 가격을 정할 수 있어요).",
    "model.not_in_catalog_priced": "카탈로그에 없는 모델이에요: 문맥 {window} 토큰, 100만 토큰당 ${price}로 가정해요.",
    "models.provider": "[{provider}]",
    "models.provider_failed": "[{provider}] 지금은 모델 목록을 읽을 수 없어요.",
    "tokens.estimate": "{model} 기준 약 {tokens} 토큰, {chars}자 (토큰당 {per_token}자): 이 모델의 토크나이저가 없어서 추정한 값이에요 ({encoding} 기준 {local} × {ratio}, 모델의 답변에서 배운 비율).",
    "tokens.estimate_unlearned": "{model} 기준 약 {tokens} 토큰, {chars}자 (토큰당 {per_token}자): 이 모델의 토크나이저가 없어서 추정한 값이에요 ({encoding} 기준 {local} × {ratio}, 첫 답변 전까지의 조심스러운 추정).",
    "model.unpriced_turn": "이 대화의 모델 '{name}'은(는) 가격이 없는데, 이 봇에는 달러 사용 한도가 있어요. /model 로 가격이 있는 모델을 고르세요 (/models 참고).",
    "error.endpoint_not_found": "AI 서비스 주소가 잘못된 것 같아요 (모든 요청에 'not found'라고 답해요). 봇 주인이 OPENAI_BASE_URL(또는 PROVIDERS의 이 제공자 base_url)을 확인해야 해요.",
    # issue 11 items 1, 2, 4: /forget says what it removed and what it kept; persona caps
    "forget.done": "완료. 지운 것: 당신의 메시지 {messages}개, 그에 대한 제 답변 {answers}개, 당신이 만든 페르소나 {personas}개, 대화 {conversations}개. 사용 기록 {usage}개는 한도 계산을 위해 누구인지 알 수 없게 남겨 두었어요.",
    "personas.more": "…그리고 여기 저장된 페르소나 {count}개가 더 있어요: /persona 이름 으로 바꿀 수 있어요.",
    "newpersona.full": "이 대화에는 이미 저장된 페르소나가 최대치인 {limit}개 있어요. 먼저 /delpersona 이름 으로 하나를 지우세요.",
    # issue 12: per-model capabilities, reasoning models
    "set.ignored": "(저장했지만 {model}은(는) 이 값을 쓰지 않아요: 이 값을 받는 모델로 바꾸면 적용돼요)",
    "set.choice": "{name}은(는) 다음 중 하나여야 해요: {allowed}.",
    "set.logit_bias": "logit_bias는 쉼표로 구분한 토큰:값 쌍이에요 (예: 1234:-100,5678:5). 값은 -100부터 100까지, 최대 {limit}개.",
    "settings.ignored": "(이 모델은 쓰지 않음)",
    "model.ignores": "이 모델은 이 대화에서 정한 다음 값을 쓰지 않아요: {names} (이 값을 받는 모델을 위해 남겨 둬요).",
    "usage.reasoning": "그중 추론 {tokens} 토큰, ${cost}",
    "thinking": "💭 생각 중…",
    "error.thought_too_long": "모델이 예산({limit} 토큰)을 모두 생각하는 데 써서 답변할 여유가 없었어요. /set max_tokens 를 늘리거나, 모델이 받는다면 /set reasoning_effort 를 낮춰 보세요.",
    # issue 13: files and voice notes in
    "media.video_unsupported": "동영상은 볼 수 없어요. 음성 메시지, 오디오, 텍스트 파일(txt, md, csv, json, 소스 코드)과 PDF를 읽을 수 있어요.",
    "media.file_unsupported": "{name}은(는) 읽을 수 없어요: 텍스트 파일(txt, md, csv, json, 소스 코드), PDF, 음성 메시지와 오디오를 읽을 수 있어요.",
    "media.files_off": "이 봇은 파일 읽기가 꺼져 있어요.",
    "media.voice_off": "이 봇은 음성 메시지가 꺼져 있어요: 메시지를 글로 보내 주세요.",
    "media.too_large": "{name}은(는) 너무 커요: 최대 {limit} MB까지예요.",
    "media.too_long": "녹음이 너무 길어요: 최대 {minutes}분까지예요.",
    "media.fetch_failed": "{name}을(를) 내려받지 못했어요. 다시 보내 주세요.",
    "media.no_text_layer": "{name}에는 텍스트가 없어요 (스캔본인가요?): 텍스트가 들어 있는 PDF만 읽을 수 있어요.",
    "media.damaged": "{name}을(를) 읽지 못했어요: 손상되었거나 암호로 보호된 것 같아요.",
    "media.binary": "{name}을(를) 읽지 못했어요: 텍스트 파일이 아니에요.",
    "voice.transcript": "🎤 “{text}”",
    "voice.empty": "녹음에서 알아들을 수 있는 말이 없었어요.",
    "voice.failed": "녹음을 글로 옮기지 못했어요: 음성 서비스에 오류가 있었어요. 다시 시도해 주세요.",
    "usage.transcription": "{model}: 녹음 {requests}개 받아쓰기, {minutes}분, ${cost}",
}

# Texts of later features live in modules of their own (this one is at its size limit).
EN.update(texts_vision.EN_VISION | texts_tools.EN | texts_reminders.EN | texts_console.EN)
KO.update(texts_vision.KO_VISION | texts_tools.KO | texts_reminders.KO | texts_console.KO)
CATALOG = {"en": EN | texts_media_out.EN, "ko": KO | texts_media_out.KO}


def language_of(tag: str | None) -> str:
    """Our language for a platform's IETF tag ("ko-KR" -> "ko"); English otherwise."""
    base = (tag or "").split("-")[0].split("_")[0].lower()
    return base if base in CATALOG else "en"


class Texts:
    """The catalog in one language."""

    def __init__(self, language: str | None) -> None:
        self.language = language_of(language)
        self._texts = CATALOG[self.language]

    def get(self, key: str, **values: Any) -> str:
        template = self._texts.get(key) or CATALOG["en"][key]
        return template.format(**values)

    def error(self, key: str, **values: Any) -> CommandReply:
        return CommandReply(self.get(key, **values), is_error=True)

    def model_line(self, spec: ModelSpec, current: bool) -> str:
        mark = "▶ " if current else "• "
        if spec.input_per_1m is None or spec.output_per_1m is None:
            price = "—"
        else:
            cached = spec.cached_input_per_1m
            cached_text = f"{cached:g}" if cached is not None else "—"
            price = f"${spec.input_per_1m:g}/{cached_text}/{spec.output_per_1m:g}"
        endpoint = " (completions)" if spec.endpoint == "completions" else ""
        return (
            f"{mark}{spec.name}{endpoint}: {spec.context_window:,} · "
            f"{spec.max_output_tokens:,} · {price}"
        )

    def usage_line(self, total: UsageTotal, reasoning_usd: float = 0.0) -> str:
        if total.kind != "chat":  # quantity: seconds heard, characters spoken, images
            return self.get(
                f"usage.{total.kind}",
                model=total.model,
                requests=total.requests,
                minutes=f"{total.quantity / 60:.1f}",
                chars=f"{int(total.quantity):,}",
                cost=f"{total.cost_usd:.4f}",
            )
        line = self.get(
            "usage.line",
            model=total.model,
            requests=total.requests,
            prompt=f"{total.prompt_tokens:,}",
            cached=f"{total.cached_tokens:,}",
            completion=f"{total.completion_tokens:,}",
            cost=f"{total.cost_usd:.4f}",
        )
        if not total.reasoning_tokens:
            return line
        reasoning = self.get(
            "usage.reasoning", tokens=f"{total.reasoning_tokens:,}", cost=f"{reasoning_usd:.4f}"
        )
        return f"{line} ({reasoning})"
