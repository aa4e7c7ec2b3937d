"""The web pages the links open, and the server that serves them in the bot's event loop."""
