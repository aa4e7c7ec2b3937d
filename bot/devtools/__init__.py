"""A development tool: a Bot API server in memory (for the tests and the terminal chat), and the
terminal chat itself."""
