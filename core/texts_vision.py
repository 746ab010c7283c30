"""The texts of photos read by the model (vision) and of the per-chat switches of media in
(/set files|voice_notes|photos off), in English and Korean: merged into core/texts.py's catalog,
kept apart so that catalog stays one readable file."""

from __future__ import annotations

EN_VISION: dict[str, str] = {
    "vision.off": "Reading images is turned off for this bot: tell me in words what you'd like to know about the picture.",
    "vision.model_cannot": "{model} can't see images. Switch to a model that can: {models}.",
    "vision.model_none": "{model} can't see images, and no model this bot offers can: tell me in words what you'd like to know about the picture.",
    "vision.unreadable": "I couldn't open {name} as an image: send a photo, PNG, JPEG, GIF or WebP.",
    "vision.no_room": "That picture takes more of the context than this chat has: try /set image_detail low.",
    "vision.off_chat": "Reading images is turned off in this chat: tell me in words what you'd like to know about the picture (an admin can turn it on with /set photos on).",
    "media.files_off_chat": "Reading files is turned off in this chat (an admin can turn it on with /set files on).",
    "media.voice_off_chat": "Voice messages are turned off in this chat: please type your message (an admin can turn them on with /set voice_notes on).",
}

KO_VISION: dict[str, str] = {
    "vision.off": "이 봇은 이미지 읽기가 꺼져 있어요: 사진에 대해 알고 싶은 것을 글로 알려 주세요.",
    "vision.model_cannot": "{model}은(는) 이미지를 볼 수 없어요. 이미지를 볼 수 있는 모델로 바꿔 보세요: {models}.",
    "vision.model_none": "{model}은(는) 이미지를 볼 수 없고, 이 봇에는 이미지를 볼 수 있는 모델이 없어요: 사진에 대해 알고 싶은 것을 글로 알려 주세요.",
    "vision.unreadable": "{name}을(를) 이미지로 열지 못했어요: 사진, PNG, JPEG, GIF 또는 WebP를 보내 주세요.",
    "vision.no_room": "이 사진은 이 대화의 컨텍스트보다 커요: /set image_detail low 를 시도해 보세요.",
    "vision.off_chat": "이 대화에서는 이미지 읽기가 꺼져 있어요: 사진에 대해 알고 싶은 것을 글로 알려 주세요 (관리자가 /set photos on 으로 켤 수 있어요).",
    "media.files_off_chat": "이 대화에서는 파일 읽기가 꺼져 있어요 (관리자가 /set files on 으로 켤 수 있어요).",
    "media.voice_off_chat": "이 대화에서는 음성 메시지가 꺼져 있어요: 메시지를 글로 보내 주세요 (관리자가 /set voice_notes on 으로 켤 수 있어요).",
}
