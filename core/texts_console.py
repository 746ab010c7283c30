"""The texts of the owner's web console (Playground, Personas), in English and Korean: merged
into core/texts.py's catalog, kept apart so that catalog stays one readable file."""

from __future__ import annotations

EN: dict[str, str] = {
    "playground.no_messages": "Add a user message for the model to answer.",
    "playground.bad_role": "Message {number}: the role must be user or assistant.",
    "playground.empty_message": "Message {number} is empty: write something or remove it.",
    "playground.too_many_messages": "At most {limit} messages.",
    "playground.too_long": "The prompt ({tokens} tokens) and the answer's cap ({reply}) do not fit {model}'s context window of {window} tokens: shorten the messages or lower max_tokens.",
    "console.persona_missing_prompt": "Give the persona a system prompt.",
    "console.persona_unknown": "There is no saved persona '{name}' there.",
    "personas.shared": " (for every chat)",
    "console.bad_space": "'{space}' is not a chat's space: write PLATFORM:ID (e.g. telegram:12345) or pick one from the list.",
}

KO: dict[str, str] = {
    "playground.no_messages": "모델이 답할 사용자 메시지를 추가하세요.",
    "playground.bad_role": "{number}번 메시지: 역할은 user 또는 assistant여야 해요.",
    "playground.empty_message": "{number}번 메시지가 비어 있어요: 내용을 쓰거나 지우세요.",
    "playground.too_many_messages": "메시지는 최대 {limit}개예요.",
    "playground.too_long": "프롬프트({tokens} 토큰)와 답변 상한({reply})이 {model}의 컨텍스트 창 {window} 토큰에 들어가지 않아요: 메시지를 줄이거나 max_tokens를 낮추세요.",
    "console.persona_missing_prompt": "페르소나의 시스템 프롬프트를 쓰세요.",
    "console.persona_unknown": "그곳에 저장된 '{name}' 페르소나가 없어요.",
    "personas.shared": " (모든 대화용)",
    "console.bad_space": "'{space}'은(는) 대화 공간이 아니에요: 플랫폼:ID (예: telegram:12345) 로 쓰거나 목록에서 고르세요.",
}
