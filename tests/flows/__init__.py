"""End to end, black box: the real bot, driven through the Bot API stand-in, SMTP and HTTP."""
