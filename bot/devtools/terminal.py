"""Chat with the bot from a terminal, through the local Bot API, when there is no Telegram token.
A tool for developers and volunteers: its own few texts are plain Spanish, not catalog entries."""

from __future__ import annotations

import asyncio
import contextlib
import os
import stat
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TextIO

from bot.devtools.local_telegram import LocalBotApi, LocalUser, keyboard_buttons

BANNER = (
    "Chat local con el bot. Escriba sus mensajes; un número presiona el botón con ese número. "
    "/start para empezar, Ctrl+D para salir.\n"
    "(Para enviar un número como texto, escríbalo con un espacio delante. Para enviar una foto, "
    "/foto ruta/de/la/imagen.jpg; python -m bot.devtools.specimens pasaporte.jpg hace una.)"
)
PHOTO_COMMAND = "/foto"
INDENT = "     "

ReadLine = Callable[[], Awaitable[bytes | str]]


def _content(message: dict[str, Any]) -> str:
    labels = []
    if "photo" in message:
        labels.append("[foto]")
    if "voice" in message:
        labels.append("[nota de voz]")
    if "document" in message:
        labels.append(f"[documento: {message['document'].get('file_name', 'sin nombre')}]")
    if "sticker" in message:
        labels.append(f"[sticker {message['sticker'].get('emoji', '')}]".replace(" ]", "]"))
    if "location" in message:
        labels.append("[ubicación]")
    text = message.get("text") or message.get("caption") or ""
    return " ".join([*labels, text]).strip()


def render(message: dict[str, Any]) -> str:
    """How one message from the bot (or the news that it deleted one) looks in the terminal."""
    if message.get("deleted"):
        if message.get("from", {}).get("is_bot"):
            return "(el bot borró su mensaje)"
        # Never echo the person's deleted text: the bot deletes e.g. passwords on purpose.
        return "(el bot borró un mensaje que usted envió)"
    lines = []
    if "edit_date" in message:
        lines.append("(el bot cambió un mensaje anterior:)")
    body = _content(message).splitlines() or [""]
    lines.append(f"Bot: {body[0]}")
    lines.extend(INDENT + line if line else "" for line in body[1:])
    for number, button in enumerate(keyboard_buttons(message), 1):
        target = f" → {button['url']}" if "url" in button else ""
        lines.append(f"  [{number}] {button.get('text', '')}{target}")
    return "\n".join(lines)


def _latest_with_buttons(user: LocalUser) -> dict[str, Any] | None:
    for message in reversed(user.bot_messages):
        if keyboard_buttons(message):
            return message
    return None


def _read_image(path: str) -> bytes:
    return Path(path).expanduser().read_bytes()


async def _send_photo(path: str, user: LocalUser, show: Callable[[str], None]) -> None:
    try:
        image = await asyncio.to_thread(_read_image, path)
    except OSError as error:
        show(f"(no pude leer {path!r}: {error.strerror or error})")
        return
    show(f"(foto enviada: {Path(path).name})")
    await user.send_photo(image=image)


async def _handle_line(line: str, user: LocalUser, show: Callable[[str], None]) -> None:
    if not line.strip():
        return  # Telegram refuses empty messages; an extra Enter is not worth an error
    command, _, argument = line.strip().partition(" ")
    if command == PHOTO_COMMAND:
        if argument.strip():
            await _send_photo(argument.strip(), user, show)
        else:
            show(f"(escriba {PHOTO_COMMAND} y la ruta de la imagen)")
        return
    message = _latest_with_buttons(user)
    buttons = keyboard_buttons(message) if message is not None else []
    # Only a bare number within range is a press, so codes like "483920" still go as text.
    if line.isdigit() and message is not None and 1 <= int(line) <= len(buttons):
        button = buttons[int(line) - 1]
        if "url" in button:
            show(f"Abra este enlace en su navegador: {button['url']}")
            return
        try:
            await user.press_button(button, message)
        except AssertionError:
            show("(ese botón no se puede usar en el chat local)")
        return
    await user.send(line.strip())


# At the end of the input, how long the bot must have said nothing before the chat ends, and
# the longest the chat waits for that.
QUIET_AT_THE_END = 1.0
SCRIPT_PATIENCE = 30.0


async def _stdin_reader() -> tuple[ReadLine, Callable[[], None]]:
    """A non-blocking line reader on stdin, and how to put stdin back as it was."""
    loop = asyncio.get_running_loop()
    try:
        fd = os.dup(sys.stdin.fileno())
    except (AttributeError, OSError, ValueError):
        return (lambda: asyncio.to_thread(sys.stdin.readline)), lambda: None
    # Only a terminal, a pipe or a socket can be watched by the loop. A regular file
    # (`< guion.txt`) or /dev/null (a service's stdin) cannot: asyncio's loop refuses it with
    # ValueError, but uvloop's libuv aborts the process when epoll does. Reading those never
    # stalls, so a thread is fine, and it cannot hang the exit the way one waiting on a
    # terminal would.
    mode = os.fstat(fd).st_mode
    if not (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or os.isatty(fd)):
        os.close(fd)
        return (lambda: asyncio.to_thread(sys.stdin.readline)), lambda: None
    was_blocking = os.get_blocking(fd)
    pipe = os.fdopen(fd, "rb", buffering=0)
    reader = asyncio.StreamReader()
    try:
        transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), pipe
        )
    except (ValueError, OSError):
        pipe.close()
        return (lambda: asyncio.to_thread(sys.stdin.readline)), lambda: None

    def restore() -> None:
        # The read works on a duplicate so closing it leaves sys.stdin open; but the O_NONBLOCK
        # flag lives on the shared file description (also stdout's, on a terminal), so undo it.
        transport.close()
        with contextlib.suppress(OSError, ValueError):
            os.set_blocking(sys.stdin.fileno(), was_blocking)

    return reader.readline, restore


async def _next_line(read_line: ReadLine, stop: asyncio.Event) -> str | None:
    """The next typed line, or None at end of input or when `stop` is set."""
    reading = asyncio.ensure_future(read_line())
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({reading, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (reading, stopping):
            task.cancel()
        await asyncio.gather(reading, stopping, return_exceptions=True)
    if stop.is_set() or reading.cancelled():
        return None
    data = reading.result()
    if not data:
        return None
    text = data.decode(errors="replace") if isinstance(data, bytes) else data
    return text.rstrip("\r\n")


async def run_terminal_chat(
    api: LocalBotApi,
    *,
    stop: asyncio.Event,
    input_stream: asyncio.StreamReader | None = None,
    output: TextIO | None = None,
    user_id: int = 1001,
    first_name: str = "Familia",
    language: str = "es",
) -> None:
    """Let one person chat with the bot until end of input or `stop`; then set `stop`. The
    person's Telegram app is set to `language`, so the bot starts in it (/idioma changes it)."""
    out = output if output is not None else sys.stdout
    user = api.user(user_id, first_name, language_code=language)

    def show(text: str) -> None:
        out.write(text + "\n")
        out.flush()

    previous_hook = api.on_bot_message
    shown_texts: dict[int, str] = {}
    loop = asyncio.get_running_loop()
    last_heard = loop.time()

    def on_bot_message(chat_id: int, message: dict[str, Any]) -> None:
        nonlocal last_heard
        if previous_hook is not None:
            previous_hook(chat_id, message)
        if chat_id != user_id:
            return
        last_heard = loop.time()
        text = _content(message)
        # The bot takes the buttons off a question once one is pressed; printing the whole
        # message again for that would only bury the conversation.
        unchanged = "edit_date" in message and shown_texts.get(message["message_id"]) == text
        shown_texts[message["message_id"]] = text
        if not unchanged:
            show(render(message))

    if input_stream is not None:
        read_line: ReadLine = input_stream.readline
        restore_input: Callable[[], None] = lambda: None  # noqa: E731
    else:
        read_line, restore_input = await _stdin_reader()
    api.on_bot_message = on_bot_message
    show(BANNER)
    try:
        while (line := await _next_line(read_line, stop)) is not None:
            await _handle_line(line, user, show)
            last_heard = loop.time()
        # The input ended (Ctrl+D, or the end of a script: `python -m bot < guion.txt`): the
        # replies to its last lines are shown before the bot stops.
        deadline = loop.time() + SCRIPT_PATIENCE
        while not stop.is_set() and loop.time() < deadline:
            quiet = loop.time() - last_heard
            if quiet >= QUIET_AT_THE_END:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), QUIET_AT_THE_END - quiet)
        show("(fin del chat local)")
    finally:
        api.on_bot_message = previous_hook
        restore_input()
        stop.set()
