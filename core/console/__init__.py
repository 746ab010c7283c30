"""What the owner's web console asks of the core (Tokenizer, Playground, Personas): small ports
over the same counting, validation, client and storage the chats use; no web library here."""
