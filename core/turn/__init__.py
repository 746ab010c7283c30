"""One turn of a conversation, as named stages; `service.ChatService.handle` routes between them."""
