"""Niñez Migrante bot: the services that know nothing of Telegram, and the wiring to it."""
