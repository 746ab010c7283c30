"""The core's side of the owner's web console (core/console_port.py): reports and actions built
on the same stores, planner and command handlers the chats use; and the Playground, Tokenizer
and Personas ports over the chats' own counting, validation, model client and storage."""
