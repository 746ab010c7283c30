"""The owner's web console (issue 16): server-rendered pages on the bot's own web server,
talking to the core through `core.console_port.ConsolePort`. See README.md in this folder."""
