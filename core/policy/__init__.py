"""Who may use the bot and how much: allow and deny lists, rate limits and budgets, retention."""
