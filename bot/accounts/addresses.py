"""One way to write an e-mail address, for storing it and for finding it again.

The registration stores what email-validator normalises (Unicode NFC, the domain in its
canonical form), lowercased whole; a login or a reset that only lowercased what was typed
would miss an address typed with a composed accent or a full-width character the validator
folds. Both go through here.
"""

from __future__ import annotations

import email_validator


def normalise_address(text: str, *, check_deliverability: bool = False) -> str:
    """The address as stored; raises email_validator.EmailNotValidError when it is none."""
    result = email_validator.validate_email(
        text.strip(),
        check_deliverability=check_deliverability,
        # The portal (like most webmail) refuses accents before the @; better to say so now.
        allow_smtputf8=False,
    )
    # Lowercased whole: the portal treats addresses case-insensitively, and it makes the
    # confirmation and duplicate checks simple comparisons.
    return result.normalized.lower()


def address_key(text: str) -> str:
    """What to look an address up by: as stored when it is valid, else as typed, lowercased
    (it then matches no account, as it should, and is still counted for the login's lock)."""
    try:
        return normalise_address(text)
    except email_validator.EmailNotValidError:
        return text.strip().lower()
