"""The links the bot hands out; one place, so the chat and the e-mail always agree."""


def verification_link(link_base: str, token: str) -> str:
    return f"{link_base.rstrip('/')}/validate/{token}"


def password_reset_link(link_base: str, token: str) -> str:
    return f"{link_base.rstrip('/')}/reset/{token}"
