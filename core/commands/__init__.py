"""Chat commands: the catalog adapters read (`catalog`), and the handlers that run them."""
