"""The local Bot API stand-in, driven by python-telegram-bot's real client and by the terminal."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator

import httpx
import pytest
from telegram import (
    ChatMemberAdministrator,
    ChatMemberLeft,
    ChatMemberMember,
    ChatMemberOwner,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ChatMemberStatus, ParseMode
from telegram.error import BadRequest, RetryAfter
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.devtools.local_telegram import LocalBotApi, LocalUser
from bot.devtools.terminal import run_terminal_chat

KEYBOARD = InlineKeyboardMarkup(
    [
        [InlineKeyboardButton("Crear cuenta", callback_data="create")],
        [InlineKeyboardButton("Validar mi correo", url="http://127.0.0.1:8080/validar?t=abc")],
    ]
)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        "Hola <b>familia</b>. ¿Qué desea hacer? https://tramites.extranjeria.gob.cl",
        parse_mode=ParseMode.HTML,
        reply_markup=KEYBOARD,
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    )


async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None and query.message is not None
    await query.answer("Listo")
    await context.bot.send_message(query.message.chat.id, f"Usted eligió: {query.data}")


class Screen(io.StringIO):
    """The terminal's output, which a test can wait on."""

    def __init__(self) -> None:
        super().__init__()
        self.written = asyncio.Event()

    def write(self, text: str) -> int:
        self.written.set()
        return super().write(text)

    async def shows(self, text: str) -> None:
        async with asyncio.timeout(2):
            while text not in self.getvalue():
                self.written.clear()
                await self.written.wait()


@pytest.fixture
async def api() -> AsyncIterator[LocalBotApi]:
    async with LocalBotApi() as local_api:
        yield local_api


@pytest.fixture
async def app(api: LocalBotApi) -> AsyncIterator[Application]:
    application = Application.builder().token(api.token).base_url(api.base_url).build()
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CallbackQueryHandler(pressed))
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, timeout=1)
        yield application
        await application.updater.stop()
        await application.stop()


async def test_start_press_and_delete_through_python_telegram_bot(
    api: LocalBotApi, app: Application
) -> None:
    user = api.user()

    greeting = await user.reply("/start")
    # Telegram strips the HTML into entities; the stand-in does the same.
    assert greeting["text"].startswith("Hola familia.")
    assert greeting["entities"] == [{"type": "bold", "offset": 5, "length": 7}]
    assert greeting["link_preview_options"] == {"is_disabled": True}
    assert greeting["from"]["username"] == "NinezMigranteBot"
    sent = [params for method, params in api.requests if method == "sendMessage"]
    assert sent[0]["link_preview_options"] == {"is_disabled": True}

    with pytest.raises(AssertionError, match="URL button"):
        await user.press("Validar mi correo")
    with pytest.raises(AssertionError, match="Crear cuenta"):
        await user.press("Salir")

    await user.press("crear")  # partial, case-insensitive match
    answer = await user.wait_for(lambda m: "eligió" in m["text"])
    assert answer["text"] == "Usted eligió: create"
    assert user.callback_answers[0]["text"] == "Listo"

    typed = await user.send("mi contraseña secreta")
    assert await app.bot.delete_message(user.id, typed["message_id"])
    assert await app.bot.delete_message(user.id, greeting["message_id"])
    assert user.deleted_message_ids == {typed["message_id"], greeting["message_id"]}
    assert greeting["deleted"] is True and user.bot_messages[0] is greeting
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await app.bot.delete_message(user.id, typed["message_id"])


async def test_edits_commands_and_errors(api: LocalBotApi, app: Application) -> None:
    user = api.user(2002, "Luis")
    await user.send("hola")  # no handler: the bot stays silent
    message = await app.bot.send_message(user.id, "Paso 1", reply_markup=KEYBOARD)
    assert message.reply_markup == KEYBOARD
    assert user.bot_messages[-1]["message_id"] == message.message_id

    await app.bot.edit_message_text("Paso 2", chat_id=user.id, message_id=message.message_id)
    edited = user.bot_messages[-1]
    assert edited["text"] == "Paso 2" and "reply_markup" not in edited and "edit_date" in edited
    with pytest.raises(BadRequest, match=r"(?i)not modified"):
        await app.bot.edit_message_text("Paso 2", chat_id=user.id, message_id=message.message_id)

    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await app.bot.send_message(user.id, "Hola <nombre>", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await app.bot.send_message(999, "¿Hay alguien?")

    # An upload goes as multipart/form-data, which the stand-in parses without python-multipart.
    image = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    await app.bot.send_photo(user.id, image, caption="<i>Su</i> carnet", parse_mode=ParseMode.HTML)
    photo = user.bot_messages[-1]
    assert photo["caption"] == "Su carnet" and photo["photo"][-1]["file_size"] == len(image)
    document = await user.send_document()
    copy = await app.bot.copy_message(user.id, user.id, document["message_id"])
    assert user.bot_messages[-1]["document"] == document["document"]
    assert user.bot_messages[-1]["message_id"] == copy.message_id

    await app.bot.set_my_commands([("start", "Empezar")])
    assert [c.command for c in await app.bot.get_my_commands()] == ["start"]

    async with httpx.AsyncClient() as client:
        unknown = await client.post(f"{api.base_url}{api.token}/sendTelepathy")
        wrong_token = await client.get(f"{api.base_url}1:WRONG/getMe")
    assert unknown.status_code == 404
    assert unknown.json()["description"] == "Not Found: method not found"
    assert wrong_token.status_code == 401

    with pytest.raises(AssertionError, match=r"Since the last action: \[.\[document\]"):
        await user.wait_for(lambda m: False, timeout=0.05)


async def test_terminal_chat_ends_when_stopped(api: LocalBotApi) -> None:
    stop = asyncio.Event()
    chat = asyncio.create_task(
        run_terminal_chat(api, stop=stop, input_stream=asyncio.StreamReader(), output=Screen())
    )
    await asyncio.sleep(0)
    stop.set()
    async with asyncio.timeout(1):
        await chat


async def test_terminal_chat(api: LocalBotApi, app: Application) -> None:
    typed = asyncio.StreamReader()
    screen = Screen()
    stop = asyncio.Event()
    chat = asyncio.create_task(run_terminal_chat(api, stop=stop, input_stream=typed, output=screen))

    typed.feed_data(b"/start\n")
    await screen.shows("[1] Crear cuenta")
    await screen.shows("[2] Validar mi correo → http://127.0.0.1:8080/validar?t=abc")
    typed.feed_data(b"1\n")
    await screen.shows("Usted eligió: create")
    typed.feed_data(b"2\n")
    await screen.shows("http://127.0.0.1:8080/validar?t=abc\n")

    bot_message = api.user(1001).bot_messages[0]
    await app.bot.delete_message(1001, bot_message["message_id"])
    await screen.shows("(el bot borró su mensaje)")

    typed.feed_eof()
    async with asyncio.timeout(2):
        await chat
    assert stop.is_set()
    assert screen.getvalue().startswith("Chat local con el bot.")
    assert api.on_bot_message is None


GROUP_ID = -1001234567890


def volunteers_app(api: LocalBotApi) -> Application:
    """A bot that gives each family a forum topic: private messages are copied into the
    family's topic, and replies of group members there are copied back to the family."""
    application = Application.builder().token(api.token).base_url(api.base_url).build()
    topics: dict[int, int] = {}  # family user id -> message_thread_id

    async def from_family(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, family = update.effective_message, update.effective_user
        assert message is not None and family is not None
        if family.id not in topics:
            topic = await context.bot.create_forum_topic(GROUP_ID, f"Familia {family.first_name}")
            topics[family.id] = topic.message_thread_id
        await message.copy(GROUP_ID, message_thread_id=topics[family.id])

    async def from_volunteer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, volunteer = update.effective_message, update.effective_user
        assert message is not None and volunteer is not None
        member = await context.bot.get_chat_member(GROUP_ID, volunteer.id)
        if member.status == ChatMemberStatus.LEFT or not message.is_topic_message:
            return
        family = next(f for f, t in topics.items() if t == message.message_thread_id)
        await message.copy(family)

    async def close(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None and message.message_thread_id is not None
        await context.bot.close_forum_topic(GROUP_ID, message.message_thread_id)
        await message.reply_text("Caso cerrado.")

    application.add_handler(CommandHandler("cerrar", close, filters.Chat(GROUP_ID)))
    application.add_handler(MessageHandler(filters.ChatType.PRIVATE, from_family))
    application.add_handler(MessageHandler(filters.Chat(GROUP_ID), from_volunteer))
    return application


# RetryAfter.retry_after warns about its future type, inside python-telegram-bot itself.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_forum_relay_through_python_telegram_bot(api: LocalBotApi) -> None:
    family = api.user(3003, "Rosa")
    volunteer, outsider = api.user(4004, "Marta"), api.user(5005, "Pedro")
    group = api.group(GROUP_ID, forum=True, members=[volunteer.id])
    group.add_member(6006, "creator")

    application = volunteers_app(api)
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, timeout=1)
        try:
            await relay_and_check(api, application, family, volunteer, outsider)
        finally:
            await application.updater.stop()
            await application.stop()


async def relay_and_check(
    api: LocalBotApi,
    application: Application,
    family: LocalUser,
    volunteer: LocalUser,
    outsider: LocalUser,
) -> None:
    group = api.group(GROUP_ID)
    photo = await family.send_photo("Mi carnet")
    copied = await group.wait_for(lambda m: "photo" in m)
    assert copied["photo"] == photo["photo"] and copied["caption"] == "Mi carnet"
    thread = copied["message_thread_id"]
    assert copied["is_topic_message"] and group.topics == {
        thread: {"name": "Familia Rosa", "closed": False}
    }
    await family.send("¿Cuándo es la cita?")
    question = await group.wait_for(lambda m: m.get("text") == "¿Cuándo es la cita?")
    assert question["message_thread_id"] == thread

    # A reply inside the topic keeps its thread id; only members are relayed.
    await outsider.send_in(group, "spam", thread_id=thread)
    answer = await volunteer.send_in(group, "El lunes a las 10", reply_to=question)
    assert answer["message_thread_id"] == thread
    assert answer["reply_to_message"]["message_id"] == question["message_id"]
    relayed = await family.wait_for()
    assert relayed["text"] == "El lunes a las 10"
    await volunteer.send_photo_in(group, "Formulario", thread_id=thread)
    assert (await family.wait_for(lambda m: "photo" in m))["caption"] == "Formulario"
    assert [m.get("text") for m in family.bot_messages] == ["El lunes a las 10", None]

    await volunteer.send_in(group, "/cerrar@NinezMigranteBot", thread_id=thread)
    closed = await group.wait_for(lambda m: m.get("text") == "Caso cerrado.")
    assert closed["message_thread_id"] == thread and group.topics[thread]["closed"]

    bot = application.bot
    statuses = {
        uid: type(await bot.get_chat_member(GROUP_ID, uid))
        for uid in (volunteer.id, outsider.id, 6006, api.bot_id)
    }
    assert statuses == {
        volunteer.id: ChatMemberMember,
        outsider.id: ChatMemberLeft,
        6006: ChatMemberOwner,
        api.bot_id: ChatMemberAdministrator,
    }
    admins = await bot.get_chat_administrators(GROUP_ID)
    assert {a.user.id for a in admins} == {6006, api.bot_id}
    chat = await bot.get_chat(GROUP_ID)
    assert chat.type == "supergroup" and chat.is_forum and chat.title == group.title
    assert (await bot.get_chat(family.id)).first_name == "Rosa"

    forwarded = await bot.forward_message(family.id, GROUP_ID, answer["message_id"])
    assert forwarded.forward_origin is not None and forwarded.text == "El lunes a las 10"
    with pytest.raises(BadRequest, match=r"(?i)message thread not found"):
        await bot.send_message(GROUP_ID, "¿?", message_thread_id=999)
    with pytest.raises(BadRequest, match=r"(?i)topic_not_modified"):
        await bot.close_forum_topic(GROUP_ID, thread)
    assert await bot.reopen_forum_topic(GROUP_ID, thread)
    assert not group.topics[thread]["closed"]

    plain = api.group(-1009, "Coordinación")
    assert api.group(-1009) is plain and "is_forum" not in plain.chat_dict
    with pytest.raises(BadRequest, match=r"(?i)the chat is not a forum"):
        await bot.create_forum_topic(plain.id, "Tema")
    sent = await bot.send_message(plain.id, "Hola", message_thread_id=5)
    assert sent.message_thread_id is None and plain.bot_messages[-1]["text"] == "Hola"
    plain.rate_limit_per_minute = 1
    with pytest.raises(RetryAfter):
        await bot.send_message(plain.id, "Otra vez")


async def test_a_photo_and_a_file_are_downloaded_as_from_telegram(
    api: LocalBotApi, tmp_path
) -> None:
    got: list[bytes] = []

    async def keep(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None
        media = message.photo[-1] if message.photo else message.document
        assert media is not None
        got.append(bytes(await (await media.get_file()).download_as_bytearray()))
        await message.reply_text("recibido")

    base = api.base_url.removesuffix("bot")
    application = (
        Application.builder()
        .token(api.token)
        .base_url(api.base_url)
        .base_file_url(base + "file/bot")
        .build()
    )
    application.add_handler(MessageHandler(filters.PHOTO | filters.Document.ALL, keep))
    user = api.user(1001)
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, timeout=1)
        await user.send_photo(image=b"\xff\xd8 a photo")
        await user.wait_for(lambda m: m["text"] == "recibido")
        await user.send_document("foto.png", "image/png", data=b"\x89PNG a file")
        await user.wait_for(lambda m: m["text"] == "recibido")
        await application.updater.stop()
        await application.stop()
    assert got == [b"\xff\xd8 a photo", b"\x89PNG a file"]
    assert [path.split("/")[0] for path in api.downloads] == ["photos", "documents"]

    async with httpx.AsyncClient() as client:
        wrong_token = await client.get(f"{base}file/bot1:WRONG/{api.downloads[0]}")
        unknown = await client.get(f"{base}file/bot{api.token}/photos/nothing")
    assert (wrong_token.status_code, unknown.status_code) == (401, 404)


async def test_the_terminal_sends_a_local_image_with_foto(api: LocalBotApi, tmp_path) -> None:
    image = tmp_path / "pasaporte.jpg"
    image.write_bytes(b"\xff\xd8 pretend jpeg")
    typed = asyncio.StreamReader()
    screen = Screen()
    stop = asyncio.Event()
    chat = asyncio.create_task(run_terminal_chat(api, stop=stop, input_stream=typed, output=screen))
    typed.feed_data(f"/foto {image}\n".encode())
    await screen.shows("(foto enviada: pasaporte.jpg)")
    typed.feed_data(b"/foto /no/such/file.jpg\n")
    await screen.shows("(no pude leer '/no/such/file.jpg'")
    typed.feed_eof()
    async with asyncio.timeout(2):
        await chat
    sent = [m for m in api.user(1001).messages.values() if "photo" in m]
    assert len(sent) == 1
    assert api.files[sent[0]["photo"][-1]["file_id"]] == image.read_bytes()
