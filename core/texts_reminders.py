"""The texts of reminders (the reminder itself, /reminders) and of /set timezone, in English and
Korean: merged into core/texts.py's catalog, kept apart so that catalog stays one readable file.
What the reminder tools tell the model is for the model, in English (core/tools/reminders.py)."""

from __future__ import annotations

EN: dict[str, str] = {
    "reminder.due": "⏰ Reminder for {name}: {text}",
    "reminder.late": "⏰ Reminder for {name} (late: it was due {when}, while I was offline): {text}",
    "reminder.due_unnamed": "⏰ Reminder: {text}",
    "reminder.late_unnamed": "⏰ Reminder (late: it was due {when}, while I was offline): {text}",
    "reminders.none": "No reminders are set in this chat. Ask me, e.g. “remind me tomorrow at 9 to call mum”.",
    "reminders.title": "Reminders in this chat ({timezone}):",
    "reminders.line": "#{id} {when} — {text} (for {name})",
    "reminders.line_unnamed": "#{id} {when} — {text}",
    "reminders.hint": "Cancel one with its button or /reminders cancel ID.",
    "reminders.button": "✖ #{id} {text}",
    "reminders.usage": "Usage: /reminders, or /reminders cancel ID",
    "reminders.unknown": "There is no pending reminder #{id} in this chat: see /reminders.",
    "reminders.not_yours": "Only the person who set reminder #{id} or an admin can cancel it.",
    "reminders.cancelled": "Cancelled reminder #{id}: {text}",
    "set.timezone": "timezone must be an IANA time zone name, e.g. Europe/Berlin, America/New_York or Asia/Seoul (or UTC).",
    "command.reminders": "List or cancel this chat's reminders",
    "arg.reminders.action": "cancel ID: cancel that reminder",
}

KO: dict[str, str] = {
    "reminder.due": "⏰ {name}님께 알림: {text}",
    "reminder.late": "⏰ {name}님께 알림 (늦었어요: {when}에 보내야 했는데 그때 봇이 꺼져 있었어요): {text}",
    "reminder.due_unnamed": "⏰ 알림: {text}",
    "reminder.late_unnamed": "⏰ 알림 (늦었어요: {when}에 보내야 했는데 그때 봇이 꺼져 있었어요): {text}",
    "reminders.none": "이 대화에는 설정된 알림이 없어요. 예: “내일 9시에 엄마한테 전화하라고 알려줘”.",
    "reminders.title": "이 대화의 알림 ({timezone}):",
    "reminders.line": "#{id} {when} — {text} ({name}님)",
    "reminders.line_unnamed": "#{id} {when} — {text}",
    "reminders.hint": "버튼이나 /reminders cancel ID 로 취소할 수 있어요.",
    "reminders.button": "✖ #{id} {text}",
    "reminders.usage": "사용법: /reminders 또는 /reminders cancel ID",
    "reminders.unknown": "이 대화에 대기 중인 알림 #{id}이(가) 없어요: /reminders 를 보세요.",
    "reminders.not_yours": "알림 #{id}은(는) 설정한 사람이나 관리자만 취소할 수 있어요.",
    "reminders.cancelled": "알림 #{id}을(를) 취소했어요: {text}",
    "set.timezone": "timezone은 IANA 시간대 이름이어야 해요. 예: Asia/Seoul, Europe/Berlin, America/New_York (또는 UTC).",
    "command.reminders": "이 대화의 알림 보기·취소",
    "arg.reminders.action": "cancel ID: 그 알림 취소",
}
