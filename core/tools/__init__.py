"""Tools the model may call during a turn: the contract (`base`), the loop's helpers, the
built-in tools and the MCP servers an owner plugs in."""
