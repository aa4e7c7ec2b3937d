"""Checks on the traffic itself: a flood slowed down, a redelivered update handled once, a chat
the bot does not serve told once and left."""
