"""Texts cut to fit Telegram's limits: at line or word boundaries, in order, nothing lost."""

from __future__ import annotations

import random

import pytest

from bot.splitting import CAPTION_LIMIT, TEXT_LIMIT, split_text, telegram_length


def words_of(pieces: list[str]) -> list[str]:
    return " ".join(pieces).split()


def test_a_short_text_is_one_piece() -> None:
    assert split_text("Hola") == ["Hola"]
    assert split_text("") == [""]
    assert split_text("x" * TEXT_LIMIT) == ["x" * TEXT_LIMIT]


def test_a_long_text_is_cut_at_line_breaks_first() -> None:
    lines = [f"línea {n}: " + "a" * 90 for n in range(100)]
    pieces = split_text("\n".join(lines))
    assert len(pieces) > 1
    assert all(telegram_length(piece) <= TEXT_LIMIT for piece in pieces)
    assert "\n".join(pieces).split("\n") == lines  # whole lines, in order


def test_a_text_without_line_breaks_is_cut_between_words() -> None:
    text = " ".join(f"palabra{n}" for n in range(2000))
    pieces = split_text(text)
    assert all(telegram_length(piece) <= TEXT_LIMIT for piece in pieces)
    assert words_of(pieces) == text.split()


def test_one_endless_word_is_cut_where_it_must() -> None:
    pieces = split_text("z" * 9000)
    assert [len(piece) for piece in pieces] == [4096, 4096, 808]


def test_emoji_count_twice_as_telegram_counts_them() -> None:
    text = "🙂" * 3000  # 6,000 UTF-16 units
    pieces = split_text(text)
    assert [telegram_length(piece) for piece in pieces] == [4096, 1904]
    assert "".join(pieces) == text  # never half an emoji


@pytest.mark.parametrize("limit", [CAPTION_LIMIT, 50, 7])
def test_any_text_at_any_limit_keeps_its_words_in_order(limit: int) -> None:
    rng = random.Random(limit)
    for _ in range(50):
        text = "".join(rng.choice(["a", "b", "ñ", " ", "\n", "🙂", "  "]) for _ in range(500))
        pieces = split_text(text, limit)
        assert all(telegram_length(piece) <= limit for piece in pieces)
        assert "".join(words_of(pieces)) == "".join(text.split())
