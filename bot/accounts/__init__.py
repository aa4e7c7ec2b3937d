"""Accounts: creating one from a finished registration, its links and their tokens, and its
password, kept only as an Argon2id hash."""

from bot.accounts.links import password_reset_link, verification_link
from bot.accounts.passwords import PasswordHashing, password_candidates
from bot.accounts.resets import PasswordResets, ResetOutcome, ResetStatus
from bot.accounts.service import (
    AccountService,
    CreatedAccount,
    EmailTaken,
    NewAccount,
    ResendOutcome,
    ResendStatus,
    TooManyAccounts,
    UnverifiedNotice,
    VerifyOutcome,
    VerifyStatus,
)
from bot.accounts.tokens import hash_token

__all__ = [
    "AccountService",
    "CreatedAccount",
    "EmailTaken",
    "NewAccount",
    "PasswordHashing",
    "PasswordResets",
    "ResendOutcome",
    "ResendStatus",
    "ResetOutcome",
    "ResetStatus",
    "TooManyAccounts",
    "UnverifiedNotice",
    "VerifyOutcome",
    "VerifyStatus",
    "hash_token",
    "password_candidates",
    "password_reset_link",
    "verification_link",
]
