"""Niñez Migrante bot: services that know nothing of Telegram, and the wiring that connects them to it."""
