"""Texts cut to fit Telegram's limits, at line or word boundaries, in order.

Telegram counts a message's length in UTF-16 code units (an emoji counts two), and refuses a
text over 4,096 or a caption over 1,024 outright: a long answer must go as several messages.
"""

from __future__ import annotations

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024


def telegram_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """`text` as pieces of at most `limit` UTF-16 units, cut at the last line break, else the
    last space, that fits; a word longer than a whole piece is cut where it must be. Joined
    back with the separators they were cut at, the pieces give `text` again (less the spaces
    and line breaks at the cuts). An empty text stays one empty piece."""
    if limit < 2:
        raise ValueError("limit must leave room for a character")
    pieces: list[str] = []
    rest = text
    while telegram_length(rest) > limit:
        head = _longest_prefix(rest, limit)
        cut = head.rfind("\n")
        if cut <= 0:
            cut = head.rfind(" ")
        if cut <= 0:
            pieces.append(head)
            rest = rest[len(head) :]
            continue
        pieces.append(head[:cut].rstrip())
        rest = rest[cut + 1 :].lstrip("\n ")
    pieces.append(rest)
    return [piece for piece in pieces if piece] or [""]


def _longest_prefix(text: str, limit: int) -> str:
    """The longest start of `text` within `limit` UTF-16 units, never half a character."""
    units = 0
    for index, character in enumerate(text):
        units += 2 if ord(character) > 0xFFFF else 1
        if units > limit:
            return text[:index]
    return text
