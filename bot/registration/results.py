"""What a validator answers: a value, a refusal, or a few likely meanings for the person to choose.

Messages are msgids (marked with N_) with `{placeholders}`; the conversation translates them,
so validators stay pure and know nothing of locales or Telegram.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Valid(Generic[T]):
    value: T
    # An optional remark to show while accepting the value (e.g. "the program is for minors").
    note: str | None = None
    note_params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Invalid:
    message: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Choice:
    """One button of a suggestion: what it says, and the value pressing it gives."""

    label: str
    value: str


@dataclass(frozen=True)
class Suggestion:
    """The input is probably something else: offer these choices, the family decides."""

    message: str
    choices: tuple[Choice, ...]
    params: dict[str, Any] = field(default_factory=dict)


Result = Valid[Any] | Invalid | Suggestion
