"""Several bot processes on one PostgreSQL database (issue 15): locks and the inbox they share."""
