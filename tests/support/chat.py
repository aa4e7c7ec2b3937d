"""What a family or a volunteer does in a chat, and what they read there: the steps the
end-to-end tests share."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from bot.devtools.local_telegram import LocalBotApi, LocalGroup, LocalUser

PASSWORD = "Clave-Secreta-2024"


def buttons_of(message: dict) -> list[str]:
    markup = message.get("reply_markup") or {}
    return [button["text"] for row in markup.get("inline_keyboard", []) for button in row]


LINK_BUTTON = "Validar mi correo electrónico"


def url_buttons_of(message: dict) -> dict[str, str]:
    markup = message.get("reply_markup") or {}
    return {
        button["text"]: button["url"]
        for row in markup.get("inline_keyboard", [])
        for button in row
        if "url" in button
    }


async def answer(user: LocalUser, text: str, expect: str) -> dict:
    message = await user.reply(text)
    assert expect in message["text"], message["text"]
    return message


async def press(user: LocalUser, label: str, expect: str) -> dict:
    await user.press(label)
    message = await user.wait_for()
    assert expect in message["text"], message["text"]
    return message


async def create_account(
    user: LocalUser, email: str, *, link_within: float = 10.0
) -> tuple[dict, str]:
    """Fills the form, presses «Crear cuenta»; returns the link message and the link."""
    await fill_form(user, email=email)
    await user.press("Crear cuenta")
    done = await user.wait_for(lambda m: "/validate/" in m["text"], timeout=link_within)
    link = url_buttons_of(done)[LINK_BUTTON]
    assert link in done["text"]
    return done, link


async def fill_form(user: LocalUser, email: str = "familia.perez@gmail.com") -> dict:
    """Answers every question with good data; returns the summary message."""
    await to_the_password(user, email)
    return await from_the_password(user)


async def to_the_password(user: LocalUser, email: str = "familia.perez@gmail.com") -> dict:
    """Steps 1 to 7 with good data; returns the password's question (step 8)."""
    await to_the_country(user)
    return await country_and_email(user, email)


async def to_the_country(user: LocalUser) -> tuple[dict, dict]:
    """Steps 1 to 4 with good data; returns the family's own messages with the first names
    and with the father's surname, for a test to edit."""
    await answer(user, "/crear_cuenta", "Paso 1 de 9")
    named = await user.send("María José")
    await user.wait_for(lambda m: "Paso 2 de 9" in m["text"])
    surname = await user.send("Pérez")
    await user.wait_for(lambda m: "Paso 3 de 9" in m["text"])
    await press(user, "No tiene segundo apellido", "Paso 4 de 9")
    await answer(user, "23-04-2015", "Paso 5 de 9")
    return named, surname


async def finish_form(user: LocalUser, email: str) -> dict:
    """From the country (step 5) on, with good data; returns the summary message."""
    await country_and_email(user, email)
    return await from_the_password(user)


async def country_and_email(user: LocalUser, email: str) -> dict:
    """Steps 5 to 7 with good data; returns the password's question (step 8)."""
    await press(user, "Haití", "Paso 6 de 9")
    await answer(user, email, "Paso 7 de 9")
    return await answer(user, email.upper(), "Paso 8 de 9")


async def from_the_password(user: LocalUser) -> dict:
    """The password (step 8) and its confirmation, and the human check; returns the summary."""
    await answer(user, PASSWORD, "Paso 9 de 9")
    await answer(user, PASSWORD, "no es un robot")
    return await press(user, "No soy un robot", "Revise los datos")


GROUP = -1009876543210


VOLUNTEER = 5555


def in_group(telegram: LocalBotApi, *, forum: bool) -> tuple[LocalGroup, LocalUser]:
    group = telegram.group(GROUP, forum=forum, members=[VOLUNTEER])
    return group, telegram.user(user_id=VOLUNTEER, first_name="Camila")


async def open_ticket(family: LocalUser, group: LocalGroup, number: int = 1) -> dict:
    """/voluntario; returns the header of ticket `number` in the volunteers' group."""
    await family.reply("/voluntario")
    return await group.wait_for(lambda m: f"Consulta #{number}" in (m.get("text") or ""))


async def kept_out(user: LocalUser, sent: dict, said: str) -> dict:
    """The bot's next reply, which must say `said`, with `sent` (the family's message, sent
    or edited) gone from the chat: what a message that may hold the password gets."""
    told = await user.wait_for()
    assert said in told["text"], told["text"]
    assert sent["message_id"] in user.deleted_message_ids
    return told


async def settle(user: LocalUser, quiet: float = 0.5, timeout: float = 5.0) -> None:  # noqa: ASYNC109
    """Waits until the bot has sent this person nothing new for `quiet` seconds."""
    async with asyncio.timeout(timeout):
        while True:
            seen = len(user.bot_messages)
            await asyncio.sleep(quiet)
            if len(user.bot_messages) == seen:
                return


async def eventually(
    condition: Callable[[], Awaitable[bool]],
    timeout: float = 5.0,  # noqa: ASYNC109
) -> None:
    async with asyncio.timeout(timeout):
        while not await condition():
            await asyncio.sleep(0.05)


def texts_of(user: LocalUser) -> list[str]:
    return [m.get("text") or "" for m in user.bot_messages]


def sent_to(telegram: LocalBotApi, chat_id: int) -> list[dict]:
    return [
        params
        for method, params in telegram.requests
        if method == "sendMessage" and str(params.get("chat_id")) == str(chat_id)
    ]


def command_update(update_id: int, user: LocalUser, command: str) -> dict:
    """A Telegram update for a command typed in a private chat, as Telegram would POST it."""
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": user.chat_dict,
            "from": user.user_dict,
            "text": command,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(command)}],
        },
    }
