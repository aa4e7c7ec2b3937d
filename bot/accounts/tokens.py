"""Tokens of the links: random from `secrets`, kept only as their SHA-256."""

from __future__ import annotations

import hashlib

# 32 bytes = 256 bits from the OS's CSPRNG; URL-safe base64 gives a 43-character token.
TOKEN_BYTES = 32


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def hash_address(email: str) -> str:
    # Enough to tell addresses apart for a day; the table never holds one to read.
    return hashlib.sha256(b"taken-address:" + email.lower().encode("utf-8")).hexdigest()
