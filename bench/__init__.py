"""`python -m bench`: how fast the bot is and how much memory it takes, measured, not asserted.

Four parts: the pure validators, Argon2id, a whole registration end to end (the real bot
against the Bot API stand-in, families driven concurrently), and memory. See bench/README.md.
"""
