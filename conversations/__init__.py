"""Telegram-facing conversations: one module each, calling the services in `bot/`."""
