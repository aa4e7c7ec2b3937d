"""A stand-in for the Telegram Bot API on 127.0.0.1, keeping private chats and (forum) supergroups
in memory, that the real python-telegram-bot client talks to over HTTP; `LocalUser` plays a person
(in their private chat, or in a group with `send_in`), `LocalGroup` a supergroup."""

from __future__ import annotations

import abc
import asyncio
import contextlib
import html.parser
import itertools
import json
import logging
import math
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from email import policy
from email.parser import BytesParser
from typing import Any, ClassVar
from urllib.parse import parse_qsl

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

logger = logging.getLogger(__name__)

# Parameters that python-telegram-bot (like any form-posting client) sends as JSON-encoded strings.
_JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "link_preview_options",
        "allowed_updates",
        "reply_parameters",
        "commands",
        "scope",
    }
)
_MAX_TEXT = 4096
_MAX_CAPTION = 1024
_MAX_CALLBACK_DATA = 64
_INLINE_ACTIONS = (
    "callback_data",
    "url",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
# Keys of our stored message dicts that Telegram never returns; stripped before answering the bot.
_PRIVATE_KEYS = ("deleted", "parse_mode")
# What copyMessage / forwardMessage must not carry over from the source message.
_ENVELOPE_KEYS = frozenset(
    {
        "message_id",
        "date",
        "chat",
        "from",
        "edit_date",
        "reply_to_message",
        "reply_markup",
        "forward_origin",
        "link_preview_options",
        "message_thread_id",
        "is_topic_message",
        *_PRIVATE_KEYS,
    }
)

# Service messages: Telegram refuses to copy or forward them.
_SERVICE_KEYS = frozenset(
    {"forum_topic_created", "forum_topic_edited", "forum_topic_closed", "forum_topic_reopened"}
)
_MEMBER_STATUSES = ("member", "administrator", "creator")
_TOPIC_ICON_COLOR = 7322096
# What getChat adds to a chat for python-telegram-bot's ChatFullInfo.
_FULL_INFO = {
    "accent_color_id": 0,
    "max_reaction_count": 11,
    "accepted_gift_types": {
        "unlimited_gifts": False,
        "limited_gifts": False,
        "unique_gifts": False,
        "premium_subscription": False,
        "gifts_from_channels": False,
    },
}

BotMessageHook = Callable[[int, dict[str, Any]], None]
# Who Telegram says wrote a message sent on behalf of a group (an anonymous admin).
_GROUP_ANONYMOUS_BOT = {
    "id": 1087968824,
    "is_bot": True,
    "first_name": "Group",
    "username": "GroupAnonymousBot",
}


class _ApiError(Exception):
    def __init__(
        self, description: str, code: int = 400, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.description = description
        self.code = code
        self.parameters = parameters


class _Pulse:
    """Wakes everyone waiting right now; later waiters wait for the next fire()."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def fire(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, seconds: float) -> None:
        event = self._event
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(seconds, 0)):
                await event.wait()


class _EmbeddedServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # The server runs inside someone else's process (pytest, the bot's own main): that
        # program owns SIGINT/SIGTERM. uvicorn's version would swap the handlers and re-raise
        # any signal caught while serving once it stops, killing its host.
        yield


def _now() -> int:
    return int(time.time())


def _utf16_len(text: str) -> int:
    # Telegram measures entity offsets and lengths in UTF-16 code units (emoji count as two).
    return len(text.encode("utf-16-le")) // 2


def _int(params: dict[str, Any], key: str, default: int | None = None) -> int | None:
    value = params.get(key)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _ApiError(f'Bad Request: field "{key}" must be a valid Number') from None


def _bool(params: dict[str, Any], key: str) -> bool:
    value = params.get(key)
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1")
    return bool(value)


def _required_text(params: dict[str, Any], key: str) -> str:
    value = params.get(key)
    if value is None or str(value).strip() == "":
        raise _ApiError(f"Bad Request: {key} is empty")
    return str(value)


class _TelegramHtml(html.parser.HTMLParser):
    """Telegram's HTML parse mode: the subset of tags it accepts, turned into text + entities."""

    _KINDS: ClassVar[dict[str, str]] = {
        "b": "bold",
        "strong": "bold",
        "i": "italic",
        "em": "italic",
        "u": "underline",
        "ins": "underline",
        "s": "strikethrough",
        "strike": "strikethrough",
        "del": "strikethrough",
        "tg-spoiler": "spoiler",
        "span": "spoiler",
        "a": "text_link",
        "code": "code",
        "pre": "pre",
        "blockquote": "blockquote",
        "tg-emoji": "custom_emoji",
    }

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.entities: list[dict[str, Any]] = []
        self._length = 0
        self._open: list[tuple[str, int, dict[str, Any] | None]] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
        self._length += _utf16_len(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        kind = self._KINDS.get(tag)
        attributes = {name: value or "" for name, value in attrs}
        if kind is None or (tag == "span" and attributes.get("class") != "tg-spoiler"):
            raise _ApiError(f'Bad Request: can\'t parse entities: Unsupported start tag "{tag}"')
        entity: dict[str, Any] = {"type": kind}
        opened: dict[str, Any] | None = entity
        if tag == "a":
            entity["url"] = attributes.get("href", "")
        elif tag == "tg-emoji":
            entity["custom_emoji_id"] = attributes.get("emoji-id", "")
        elif tag == "blockquote" and "expandable" in attributes:
            entity["type"] = "expandable_blockquote"
        elif tag == "code" and self._open and self._open[-1][0] == "pre":
            # <pre><code class="language-x"> is one pre entity with a language, not two.
            pre = self._open[-1][2]
            language = attributes.get("class", "")
            if pre is not None and language.startswith("language-"):
                pre["language"] = language.removeprefix("language-")
            opened = None
        self._open.append((tag, self._length, opened))

    def handle_endtag(self, tag: str) -> None:
        if not self._open or self._open[-1][0] != tag:
            expected = f'"</{self._open[-1][0]}>"' if self._open else "no end tag"
            raise _ApiError(
                "Bad Request: can't parse entities: Unmatched end tag, "
                f'expected {expected}, found "</{tag}>"'
            )
        _, start, entity = self._open.pop()
        if entity is not None and self._length > start:
            self.entities.append({**entity, "offset": start, "length": self._length - start})

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        self.handle_endtag(tag)

    def unknown_decl(self, data: str) -> None:
        raise _ApiError("Bad Request: can't parse entities: Unsupported HTML declaration")

    def handle_decl(self, decl: str) -> None:
        self.unknown_decl(decl)

    def handle_comment(self, data: str) -> None:
        self.unknown_decl(data)

    def handle_pi(self, data: str) -> None:
        self.unknown_decl(data)

    def result(self, markup: str) -> tuple[str, list[dict[str, Any]]]:
        self.feed(markup)
        self.close()
        if self._open:
            raise _ApiError(
                "Bad Request: can't parse entities: Can't find end tag corresponding to start "
                f'tag "{self._open[-1][0]}"'
            )
        entities = sorted(self.entities, key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.parts), entities


def _formatted(
    text: str, parse_mode: Any, entities: Any
) -> tuple[str, list[dict[str, Any]] | None]:
    if entities:
        return text, list(entities)
    mode = str(parse_mode or "").lower()
    if mode == "html":
        parsed, found = _TelegramHtml().result(text)
        return parsed, found or None
    if mode in ("", "markdown", "markdownv2"):
        # Markdown is passed through as typed: enough for a stand-in, and tests see the markup.
        return text, None
    raise _ApiError(f"Bad Request: unsupported parse_mode {parse_mode}")


def _validate_markup(markup: Any) -> dict[str, Any] | None:
    if markup is None or markup == "":
        return None
    if not isinstance(markup, dict):
        raise _ApiError("Bad Request: can't parse reply keyboard markup JSON object")
    for row in markup.get("inline_keyboard", []):
        if not isinstance(row, list):
            raise _ApiError("Bad Request: can't parse inline keyboard button: row is not an array")
        for button in row:
            if not isinstance(button, dict) or not button.get("text"):
                raise _ApiError("Bad Request: can't parse inline keyboard button: text is empty")
            actions = [key for key in _INLINE_ACTIONS if key in button]
            if len(actions) != 1:
                raise _ApiError(
                    "Bad Request: can't parse inline keyboard button: "
                    "Text buttons are unallowed in the inline keyboard"
                )
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= _MAX_CALLBACK_DATA:
                raise _ApiError("Bad Request: BUTTON_DATA_INVALID")
            url = button.get("url")
            if url is not None and not str(url).startswith(("http://", "https://", "tg://")):
                raise _ApiError(
                    f"Bad Request: inline keyboard button URL '{url}' is invalid: "
                    "Unsupported URL protocol"
                )
    return markup


def _public(message: dict[str, Any]) -> dict[str, Any]:
    """The message as Telegram would return it: no bookkeeping, only inline keyboards."""
    result = {key: value for key, value in message.items() if key not in _PRIVATE_KEYS}
    markup = result.get("reply_markup")
    if not (isinstance(markup, dict) and "inline_keyboard" in markup):
        result.pop("reply_markup", None)
    if "reply_to_message" in result:
        result["reply_to_message"] = _public(result["reply_to_message"])
    return result


def keyboard_buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The buttons a person could press under this message, row by row."""
    markup = message.get("reply_markup")
    if message.get("deleted") or not isinstance(markup, dict):
        return []
    rows = markup.get("inline_keyboard") or markup.get("keyboard") or []
    buttons = []
    for row in rows:
        for button in row:
            # Reply keyboards may list buttons as bare strings.
            buttons.append(button if isinstance(button, dict) else {"text": str(button)})
    return buttons


def _describe(message: dict[str, Any]) -> str:
    text = message.get("text") or message.get("caption") or ""
    for kind in ("photo", "voice", "document", "sticker", "location"):
        if kind in message:
            text = f"[{kind}] {text}".strip()
    return text + (" (deleted)" if message.get("deleted") else "")


class _LocalChat(abc.ABC):
    """What private chats and groups share: their messages and what the bot posted there."""

    def __init__(self, api: LocalBotApi, chat_id: int) -> None:
        self.api = api
        self.id = chat_id
        self.bot_messages: list[dict[str, Any]] = []
        self.deleted_message_ids: set[int] = set()
        self.messages: dict[int, dict[str, Any]] = {}  # every message of the chat, by id
        self._message_ids = itertools.count(1)
        self._events: list[tuple[str, dict[str, Any]]] = []  # ("new" | "edit", bot message)
        self._mark = 0  # len(_events) at the last send/press
        self._pulse = _Pulse()

    @property
    @abc.abstractmethod
    def chat_dict(self) -> dict[str, Any]:
        """The chat as the Bot API describes it."""

    def _new_message(self, sender: dict[str, Any], content: dict[str, Any]) -> dict[str, Any]:
        message = {
            "message_id": next(self._message_ids),
            "date": _now(),
            "chat": self.chat_dict,
            "from": sender,
            **content,
        }
        self.messages[message["message_id"]] = message
        return message

    def mark(self) -> None:
        """From now on, wait_for() only looks at bot messages posted after this call."""
        self._mark = len(self._events)

    async def wait_for(
        self,
        predicate: Callable[[dict[str, Any]], bool] | None = None,
        *,
        timeout: float = 10.0,  # noqa: ASYNC109 -- tests read better with a plain deadline
        include_edits: bool = False,
    ) -> dict[str, Any]:
        """The first bot message sent after the last send/press that satisfies `predicate`
        (with include_edits, a message the bot edited since then also counts)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for kind, message in self._events[self._mark :]:
                if kind == "edit" and not include_edits:
                    continue
                if predicate is None or predicate(message):
                    return message
            remaining = deadline - loop.time()
            if remaining <= 0:
                since = [_describe(m) for k, m in self._events[self._mark :] if k == "new"]
                before = [_describe(m) for k, m in self._events[: self._mark] if k == "new"]
                raise AssertionError(
                    f"No matching bot message within {timeout}s. Since the last action: {since}; "
                    f"earlier: {before}"
                )
            await self._pulse.wait(remaining)

    def _record(self, kind: str, message: dict[str, Any]) -> None:
        if kind == "new":
            self.bot_messages.append(message)
        self._events.append((kind, message))
        self._pulse.fire()
        self.api._notify(self.id, message)


class LocalGroup(_LocalChat):
    """A supergroup (a forum when `forum`) the bot is in; people post with `LocalUser.send_in`.

    Anyone may post, member or not: the bot has to check membership itself (getChatMember).
    The bot counts as an administrator unless `add_member(bot_id, ...)` says otherwise."""

    def __init__(self, api: LocalBotApi, chat_id: int, title: str, forum: bool) -> None:
        super().__init__(api, chat_id)
        self.title = title
        self.forum = forum
        self.members: dict[int, str] = {}  # user id -> "member" | "administrator" | "creator"
        self.topics: dict[int, dict[str, Any]] = {}  # message_thread_id -> {"name", "closed"}
        self.rate_limit_per_minute: int | None = None  # Telegram's ~20/min, off by default
        self.left_by_bot = False  # the bot called leaveChat here
        self._bot_post_times: list[float] = []

    @property
    def chat_dict(self) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": self.id, "type": "supergroup", "title": self.title}
        if self.forum:
            chat["is_forum"] = True
        return chat

    def add_member(self, user_id: int, status: str = "member") -> None:
        if status not in _MEMBER_STATUSES:
            raise ValueError(f"status must be one of {_MEMBER_STATUSES}, not {status!r}")
        self.members[user_id] = status

    def remove_member(self, user_id: int) -> None:
        self.members.pop(user_id, None)

    def status_of(self, user_id: int) -> str:
        default = "administrator" if user_id == self.api.bot_id else "left"
        return self.members.get(user_id, default)

    @property
    def bot_is_in(self) -> bool:
        return self.status_of(self.api.bot_id) in _MEMBER_STATUSES

    def add_bot(self, by: LocalUser, status: str = "member") -> None:
        """Someone adds the bot to this group: the bot hears of it as Telegram tells it."""
        self._change_bot_status(by, status)

    def remove_bot(self, by: LocalUser) -> None:
        """Someone removes the bot from this group."""
        self._change_bot_status(by, "kicked")

    def _change_bot_status(self, by: LocalUser, status: str) -> None:
        old = self.status_of(self.api.bot_id)
        self.members[self.api.bot_id] = status
        self.mark()
        self.api._enqueue(
            {
                "my_chat_member": {
                    "chat": self.chat_dict,
                    "from": by.user_dict,
                    "date": _now(),
                    "old_chat_member": self.api._member(self.api.bot_id, old),
                    "new_chat_member": {
                        **self.api._member(self.api.bot_id, status),
                        **({"until_date": 0} if status == "kicked" else {}),
                    },
                }
            }
        )

    def _placement(
        self, target: dict[str, Any] | None, thread_id: int | None, missing: Callable[[], Exception]
    ) -> dict[str, Any]:
        """reply_to_message / message_thread_id of a new message, as Telegram sets them: a reply
        inside a topic stays in it, and a message in a topic that replies to nothing else
        replies to the topic's creation message."""
        extra: dict[str, Any] = {}
        if thread_id is None and target is not None and target.get("is_topic_message"):
            thread_id = target["message_thread_id"]
        if thread_id is not None and self.forum:
            if thread_id not in self.topics:
                raise missing()
            extra["message_thread_id"] = thread_id
            extra["is_topic_message"] = True
            if target is None:
                target = self.messages.get(thread_id)
        if target is not None:
            extra["reply_to_message"] = _public(
                {k: v for k, v in target.items() if k != "reply_to_message"}
            )
        return extra

    def _check_rate(self) -> None:
        now = time.monotonic()
        self._bot_post_times = [t for t in self._bot_post_times if now - t < 60]
        limit = self.rate_limit_per_minute
        if limit is not None and len(self._bot_post_times) >= limit:
            retry_after = max(1, math.ceil(60 - (now - self._bot_post_times[0])))
            raise _ApiError(
                f"Too Many Requests: retry after {retry_after}", 429, {"retry_after": retry_after}
            )
        self._bot_post_times.append(now)


class LocalUser(_LocalChat):
    """A person in a private chat with the bot (chat id == user id), who can also post in a
    `LocalGroup` (send_in, send_photo_in, ...)."""

    def __init__(self, api: LocalBotApi, user_id: int, first_name: str, language_code: str) -> None:
        super().__init__(api, user_id)
        self.first_name = first_name
        self.language_code = language_code
        self.callback_answers: list[dict[str, Any]] = []
        self.last_update: dict[str, Any] | None = None  # the newest update this person caused
        self.blocked_bot = False  # set: every request about this chat answers 403, as Telegram

    @property
    def user_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "is_bot": False,
            "first_name": self.first_name,
            "language_code": self.language_code,
        }

    @property
    def chat_dict(self) -> dict[str, Any]:
        return {"id": self.id, "type": "private", "first_name": self.first_name}

    def _act(self, kind: str, payload: dict[str, Any]) -> None:
        self._mark = len(self._events)
        self.last_update = self.api._enqueue({kind: payload})

    def redeliver_last(self) -> None:
        """Sends this person's last update again, same update_id: what Telegram does when the
        bot did not confirm it in time (a crash, a slow webhook)."""
        assert self.last_update is not None, "nothing was sent yet"
        self._mark = len(self._events)
        self.api._redeliver(self.last_update)

    async def _send_content(self, content: dict[str, Any]) -> dict[str, Any]:
        message = self._new_message(self.user_dict, content)
        self._act("message", message)
        return message

    @staticmethod
    def _text(text: str) -> dict[str, Any]:
        content: dict[str, Any] = {"text": text}
        # "/cerrar@NinezMigranteBot" is one bot_command entity, as in Telegram.
        command = text.split(maxsplit=1)[0] if text.strip() else ""
        if command.startswith("/") and len(command) > 1:
            content["entities"] = [
                {"type": "bot_command", "offset": 0, "length": _utf16_len(command)}
            ]
        return content

    async def send(self, text: str) -> dict[str, Any]:
        return await self._send_content(self._text(text))

    async def edit(self, message: dict[str, Any], text: str) -> dict[str, Any]:
        """Edits one of this person's messages (in this chat or a group): an edited_message."""
        chat = self.api._chat_by_id(message["chat"]["id"])
        edited = {**chat.messages[message["message_id"]], **self._text(text)}
        edited["edit_date"] = _now()
        chat.messages[message["message_id"]] = edited
        chat.mark()
        self._mark = len(self._events)
        self.last_update = self.api._enqueue({"edited_message": edited})
        return edited

    async def press_data(self, data: str, *, message: dict[str, Any] | None = None) -> dict:
        """Presses a button that says `data`, forged or stale: on `message` (by default the bot's
        last message here), whatever buttons it really has."""
        target = message if message is not None else self.bot_messages[-1]
        return await self._press({"text": "?", "callback_data": data}, target, None)

    async def _post_in(
        self,
        group: LocalGroup,
        content: dict[str, Any],
        reply_to: dict[str, Any] | None,
        thread_id: int | None,
    ) -> dict[str, Any]:
        target = None
        if reply_to is not None:
            target = group.messages.get(reply_to.get("message_id", 0))
            if target is None or reply_to.get("chat", {}).get("id") != group.id:
                raise AssertionError(f"reply_to is not a message of the group {group.title!r}")
        if thread_id is not None and group.forum and thread_id not in group.topics:
            raise AssertionError(f"No topic {thread_id} in {group.title!r}: {group.topics}")
        placement = group._placement(target, thread_id, lambda: AssertionError("no topic"))
        topic = group.topics.get(placement.get("message_thread_id", 0))
        if topic and topic["closed"] and group.status_of(self.id) not in _MEMBER_STATUSES[1:]:
            raise AssertionError(f"Topic {topic['name']!r} is closed: only admins can post there")
        sender = _GROUP_ANONYMOUS_BOT if "sender_chat" in content else self.user_dict
        message = group._new_message(sender, {**content, **placement})
        group.mark()
        # A group the bot is not in sends it nothing.
        self.last_update = self.api._enqueue({"message": message}) if group.bot_is_in else None
        return message

    async def send_in(
        self,
        group: LocalGroup,
        text: str,
        *,
        reply_to: dict[str, Any] | None = None,
        thread_id: int | None = None,
        anonymous: bool = False,
    ) -> dict[str, Any]:
        """Posts `text` in the group (in topic `thread_id` of a forum; replying to `reply_to`);
        `anonymous`: as an anonymous admin does, on behalf of the group itself."""
        content = self._text(text)
        if anonymous:
            content["sender_chat"] = group.chat_dict
        return await self._post_in(group, content, reply_to, thread_id)

    async def send_photo_in(
        self,
        group: LocalGroup,
        caption: str | None = None,
        reply_to: dict[str, Any] | None = None,
        thread_id: int | None = None,
    ) -> dict[str, Any]:
        return await self._post_in(group, self._photo(caption), reply_to, thread_id)

    async def send_voice_in(
        self,
        group: LocalGroup,
        duration: int = 4,
        reply_to: dict[str, Any] | None = None,
        thread_id: int | None = None,
    ) -> dict[str, Any]:
        return await self._post_in(group, self._voice(duration), reply_to, thread_id)

    async def send_document_in(
        self,
        group: LocalGroup,
        file_name: str = "documento.pdf",
        reply_to: dict[str, Any] | None = None,
        thread_id: int | None = None,
    ) -> dict[str, Any]:
        content = self._document(file_name, "application/pdf")
        return await self._post_in(group, content, reply_to, thread_id)

    def _file(self, kind: str) -> dict[str, str]:
        serial = next(self.api._file_ids)
        return {"file_id": f"LOCAL-{kind}-{serial}", "file_unique_id": f"u{kind}{serial}"}

    async def send_sticker(self, emoji: str = "👍") -> dict[str, Any]:
        sticker = {
            **self._file("sticker"),
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }
        return await self._send_content({"sticker": sticker})

    async def send_photo(
        self, caption: str | None = None, *, image: bytes | None = None
    ) -> dict[str, Any]:
        """A photo; with `image`, one the bot can download (getFile) as those bytes."""
        return await self._send_content(self._photo(caption, image))

    def _photo(self, caption: str | None, image: bytes | None = None) -> dict[str, Any]:
        file = self._file("photo")
        sizes = [
            {
                "file_id": f"{file['file_id']}-{w}",
                "file_unique_id": f"{file['file_unique_id']}-{w}",
                "width": w,
                "height": w * 3 // 4,
            }
            for w in (90, 320, 1280)
        ]
        for size in sizes:
            size["file_size"] = int(size["width"]) * int(size["height"]) // 8
        if image is not None:
            # Telegram keeps a smaller copy per size; here every size is the very upload.
            for size in sizes:
                self.api.files[str(size["file_id"])] = image
                size["file_size"] = len(image)
        content: dict[str, Any] = {"photo": sizes}
        if caption is not None:
            content["caption"] = caption
        return content

    async def send_voice(self, duration: int = 4) -> dict[str, Any]:
        return await self._send_content(self._voice(duration))

    def _voice(self, duration: int) -> dict[str, Any]:
        voice = {
            **self._file("voice"),
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": 4000 * duration,
        }
        return {"voice": voice}

    async def send_location(
        self, latitude: float = -33.4489, longitude: float = -70.6693
    ) -> dict[str, Any]:
        return await self._send_content(
            {"location": {"latitude": latitude, "longitude": longitude}}
        )

    async def send_document(
        self,
        file_name: str = "documento.pdf",
        mime_type: str = "application/pdf",
        *,
        data: bytes | None = None,
    ) -> dict[str, Any]:
        """A file; with `data`, one the bot can download (getFile) as those bytes."""
        content = self._document(file_name, mime_type)
        if data is not None:
            self.api.files[content["document"]["file_id"]] = data
            content["document"]["file_size"] = len(data)
        return await self._send_content(content)

    def _document(self, file_name: str, mime_type: str) -> dict[str, Any]:
        document = {
            **self._file("document"),
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": 52_431,
        }
        return {"document": document}

    def _find_button(
        self, button_text: str, message: dict[str, Any] | None, chat: _LocalChat | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        wanted = button_text.casefold()
        posted = (chat or self).bot_messages
        candidates = [message] if message is not None else reversed(posted)
        for candidate in candidates:
            buttons = keyboard_buttons(candidate)
            exact = [b for b in buttons if b.get("text") == button_text]
            if exact:
                return candidate, exact[0]
            partial = [b for b in buttons if wanted in str(b.get("text", "")).casefold()]
            if len(partial) > 1:
                raise AssertionError(
                    f"{button_text!r} matches several buttons: {[b['text'] for b in partial]}"
                )
            if partial:
                return candidate, partial[0]
        available = [
            [b.get("text") for b in keyboard_buttons(m)]
            for m in ([message] if message is not None else posted)
        ]
        raise AssertionError(
            f"No button {button_text!r}; buttons available (oldest message first): "
            f"{[texts for texts in available if texts]}"
        )

    async def press(self, button_text: str, *, message: dict[str, Any] | None = None) -> dict:
        """Press a button by its text; returns the callback_query (or, on a reply keyboard, the
        message that pressing it sends)."""
        found_in, button = self._find_button(button_text, message)
        return await self.press_button(button, found_in)

    async def press_in(
        self, group: LocalGroup, button_text: str, *, message: dict[str, Any] | None = None
    ) -> dict:
        """press(), on a message the bot posted in `group`."""
        found_in, button = self._find_button(button_text, message, group)
        return await self._press(button, found_in, group)

    async def press_button(self, button: dict[str, Any], message: dict[str, Any]) -> dict:
        """Press this very button of `message` (the terminal presses by position, not text)."""
        return await self._press(button, message, None)

    async def _press(
        self, button: dict[str, Any], message: dict[str, Any], group: LocalGroup | None
    ) -> dict:
        markup = message.get("reply_markup") or {}
        if "keyboard" in markup:
            if set(button) - {"text"}:
                raise AssertionError(f"Reply-keyboard button {button} does more than send text")
            if group is not None:
                thread = message.get("message_thread_id")
                return await self.send_in(group, button["text"], thread_id=thread)
            return await self.send(button["text"])
        if "callback_data" not in button:
            kind = "URL" if "url" in button else "non-callback"
            raise AssertionError(
                f"{button.get('text')!r} is a {kind} button ({button}); it cannot be pressed"
            )
        query = {
            "id": str(next(self.api._callback_ids)),
            "from": self.user_dict,
            "chat_instance": f"{(group or self).id}{self.api.bot_id}",
            "data": button["callback_data"],
            "message": _public(message),
        }
        self.api._open_queries[query["id"]] = self
        if group is None:
            self._act("callback_query", query)
        else:
            group.mark()
            self.last_update = self.api._enqueue({"callback_query": query})
        return query

    async def reply(self, text: str, **kw: Any) -> dict[str, Any]:
        await self.send(text)
        return await self.wait_for(**kw)


class LocalBotApi:
    """The Bot API server; see the module docstring."""

    def __init__(
        self,
        *,
        token: str = "123456:LOCAL",
        bot_username: str = "NinezMigranteBot",
        bot_name: str = "Niñez Migrante",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_username = bot_username
        self.bot_name = bot_name
        self.host = host
        self.port = port
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.on_bot_message: BotMessageHook | None = None
        self.webhook: dict[str, Any] = {}
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        # Chat id -> seconds: requests about that chat are carried out only after this long,
        # as over a bad connection or for a group at its rate limit.
        self.slow_chats: dict[int, float] = {}
        # Chat id -> seconds: requests about that chat are carried out at once, but the answer
        # reaches the bot only after this long (the way back is slow).
        self.late_chats: dict[int, float] = {}
        self._users: dict[int, LocalUser] = {}
        self._groups: dict[int, LocalGroup] = {}
        self._updates: list[dict[str, Any]] = []
        self._redeliveries: list[dict[str, Any]] = []
        # As Telegram's, update ids only grow, from one start of the stand-in to the next (the
        # milliseconds since 1970): the bot's ledger keeps the ids it handled, and a `make run`
        # on the same data whose ids began at 1 again had its first messages taken for
        # redeliveries of the last run's, and left unanswered.
        self._update_ids = itertools.count(time.time_ns() // 1_000_000)
        self._callback_ids = itertools.count(4_000_000_000_000_000_001)
        self._file_ids = itertools.count(1)
        # file_id -> the bytes people uploaded (photos, files), for getFile and the download.
        self.files: dict[str, bytes] = {}
        self._file_paths: dict[str, str] = {}
        self.downloads: list[str] = []  # the file_path of each file the bot downloaded
        self._open_queries: dict[str, LocalUser] = {}
        self._allowed_updates: set[str] = set()
        self._pulse = _Pulse()
        self._poll_generation = 0
        self._closing = False
        self._server: _EmbeddedServer | None = None
        self._serve_task: asyncio.Task[None] | None = None
        self._methods: dict[str, Callable[[dict[str, Any]], Any]] = {
            name.removeprefix("_m_").lower(): getattr(self, name)
            for name in dir(self)
            if name.startswith("_m_")
        }
        self.app = Starlette(
            routes=[
                Route("/bot{token}/{method}", self._endpoint, methods=["GET", "POST"]),
                Route("/file/bot{token}/{path:path}", self._download, methods=["GET"]),
                Route("/{path:path}", self._not_found, methods=["GET", "POST"]),
            ]
        )

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("LocalBotApi is not started")
        return f"http://{self.host}:{self.port}/bot"

    @property
    def bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_name,
            "username": self.bot_username,
        }

    async def start(self) -> None:
        # Binding here rather than in uvicorn gives the real port at once and turns a busy port
        # into a plain OSError instead of uvicorn's sys.exit().
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            # asyncio sets TCP_NODELAY only on sockets made with IPPROTO_TCP; without it every
            # long-poll answer waits ~40 ms for a delayed ACK (Nagle), which Telegram does not.
            # Accepted connections inherit it from the listening socket.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.bind((self.host, self.port))
        except OSError:
            sock.close()
            raise
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=2,
        )
        self._closing = False
        self._server = _EmbeddedServer(config)
        self._serve_task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:
            if self._serve_task.done():
                self._server = None
                await self._serve_task  # surfaces the startup error
                raise RuntimeError("local Bot API server stopped during startup")
            await asyncio.sleep(0.005)

    async def stop(self) -> None:
        if self._server is None or self._serve_task is None:
            return
        # Long polls would otherwise hold the graceful shutdown for their whole timeout.
        self._closing = True
        self._pulse.fire()
        self._server.should_exit = True
        await self._serve_task
        self._server = None
        self._serve_task = None

    async def __aenter__(self) -> LocalBotApi:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # -- people ------------------------------------------------------------------------------

    def user(
        self, user_id: int = 1001, first_name: str = "Ana", language_code: str = "es"
    ) -> LocalUser:
        if user_id not in self._users:
            self._users[user_id] = LocalUser(self, user_id, first_name, language_code)
        return self._users[user_id]

    def group(
        self,
        chat_id: int = -1001234567890,
        title: str = "Voluntarios Niñez Migrante",
        *,
        forum: bool = False,
        members: Iterable[int] = (),
    ) -> LocalGroup:
        """The supergroup `chat_id` (created on first use; later calls return the same one)."""
        if chat_id not in self._groups:
            if chat_id in self._users:
                raise ValueError(f"{chat_id} is already a private chat")
            self._groups[chat_id] = LocalGroup(self, chat_id, title, forum)
        group = self._groups[chat_id]
        for member in members:
            group.members.setdefault(member, "member")
        return group

    def _user_dict(self, user_id: int) -> dict[str, Any]:
        if user_id == self.bot_id:
            return self.bot_user
        if user_id in self._users:
            return self._users[user_id].user_dict
        return {"id": user_id, "is_bot": False, "first_name": f"Usuario {user_id}"}

    def _enqueue(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        (kind,) = payload
        if self._allowed_updates and kind not in self._allowed_updates:
            return None  # Telegram never creates updates the bot opted out of.
        update = {"update_id": next(self._update_ids), **payload}
        self._updates.append(update)
        self._pulse.fire()
        return update

    def _redeliver(self, update: dict[str, Any]) -> None:
        # Its id is below the bot's offset by now; it is handed out once regardless, as
        # Telegram does with an update whose confirmation never arrived.
        self._redeliveries.append(update)
        self._pulse.fire()

    async def take_updates(self, timeout: float = 1.0) -> list[dict[str, Any]]:  # noqa: ASYNC109
        """Takes out the updates waiting, redeliveries first, waiting up to `timeout` for one:
        what Telegram would POST to a webhook, for a caller that delivers them itself (to
        several processes behind one webhook URL, say)."""
        if not self._updates and not self._redeliveries:
            await self._pulse.wait(timeout)
        taken, self._redeliveries, self._updates = [*self._redeliveries, *self._updates], [], []
        return taken

    def _notify(self, chat_id: int, message: dict[str, Any]) -> None:
        if self.on_bot_message is None:
            return
        try:
            self.on_bot_message(chat_id, message)
        except Exception:
            # A broken observer must not turn into an API error the bot would have to handle.
            logger.exception("on_bot_message hook failed")

    # -- HTTP --------------------------------------------------------------------------------

    async def _not_found(self, request: Request) -> JSONResponse:
        return JSONResponse(
            {"ok": False, "error_code": 404, "description": "Not Found"}, status_code=404
        )

    async def _download(self, request: Request) -> Response:
        """A file getFile named, as Telegram serves it: /file/bot<token>/<file_path>."""
        if request.path_params["token"] != self.token:
            return JSONResponse(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status_code=401
            )
        path = request.path_params["path"]
        file_id = next((fid for fid, known in self._file_paths.items() if known == path), None)
        if file_id is None or file_id not in self.files:
            return await self._not_found(request)
        self.downloads.append(path)
        return Response(self.files[file_id], media_type="application/octet-stream")

    async def _endpoint(self, request: Request) -> JSONResponse:
        if request.path_params["token"] != self.token:
            return JSONResponse(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status_code=401
            )
        method = request.path_params["method"]
        try:
            params = await _read_params(request)
            self.requests.append((method, params))
            await self._wait_for_chat(params, self.slow_chats)
            handler = self._methods.get(method.lower())
            if handler is None:
                raise _ApiError("Not Found: method not found", 404)
            result = await handler(params)
            await self._wait_for_chat(params, self.late_chats)
        except _ApiError as error:
            body: dict[str, Any] = {
                "ok": False,
                "error_code": error.code,
                "description": error.description,
            }
            if error.parameters:
                body["parameters"] = error.parameters
            return JSONResponse(body, status_code=error.code)
        except Exception as error:
            logger.exception("local Bot API failed on %s", method)
            return JSONResponse(
                {"ok": False, "error_code": 500, "description": f"Internal Server Error: {error}"},
                status_code=500,
            )
        return JSONResponse({"ok": True, "result": result})

    async def _wait_for_chat(self, params: dict[str, Any], delays: dict[int, float]) -> None:
        try:
            chat_id = int(params.get("chat_id", ""))
        except (TypeError, ValueError):
            return
        delay = delays.get(chat_id)
        if not delay:
            return
        loop = asyncio.get_running_loop()
        until = loop.time() + delay
        # Cut short when the server closes, like long polls, so a stop never waits for it.
        while not self._closing and loop.time() < until:
            await self._pulse.wait(until - loop.time())

    # -- helpers for the methods -------------------------------------------------------------

    def _chat(self, params: dict[str, Any], key: str = "chat_id") -> _LocalChat:
        if params.get(key) in (None, ""):
            raise _ApiError(f"Bad Request: {key} is empty")
        try:
            chat_id = int(params[key])
        except (TypeError, ValueError):
            raise _ApiError("Bad Request: chat not found") from None
        chat = self._chat_by_id(chat_id)
        if isinstance(chat, LocalUser) and chat.blocked_bot:
            raise _ApiError("Forbidden: bot was blocked by the user", 403)
        if isinstance(chat, LocalGroup) and not chat.bot_is_in:
            raise _ApiError("Forbidden: bot is not a member of the supergroup chat", 403)
        return chat

    def _chat_by_id(self, chat_id: int) -> _LocalChat:
        chat = self._users.get(chat_id) or self._groups.get(chat_id)
        if chat is None:
            raise _ApiError("Bad Request: chat not found")
        return chat

    def _forum(self, params: dict[str, Any]) -> LocalGroup:
        chat = self._chat(params)
        if not (isinstance(chat, LocalGroup) and chat.forum):
            raise _ApiError("Bad Request: the chat is not a forum")
        if chat.status_of(self.bot_id) not in _MEMBER_STATUSES[1:]:
            raise _ApiError("Bad Request: not enough rights to manage topics")
        return chat

    def _topic(self, params: dict[str, Any]) -> tuple[LocalGroup, dict[str, Any]]:
        group = self._forum(params)
        topic = group.topics.get(_int(params, "message_thread_id", 0) or 0)
        if topic is None:
            raise _ApiError("Bad Request: message thread not found")
        return group, topic

    def _message(self, user: _LocalChat, message_id: int | None, missing: str) -> dict[str, Any]:
        message = user.messages.get(message_id) if message_id is not None else None
        if message is None or message.get("deleted"):
            raise _ApiError(f"Bad Request: {missing}")
        return message

    def _send(self, params: dict[str, Any], content: dict[str, Any]) -> dict[str, Any]:
        user = self._chat(params)
        extra: dict[str, Any] = {}
        reply = params.get("reply_parameters") or {}
        reply_to = _int(reply, "message_id") or _int(params, "reply_to_message_id")
        target = None
        if reply_to is not None:
            target = user.messages.get(reply_to)
            if target is not None and not target.get("deleted"):
                extra["reply_to_message"] = {
                    k: v for k, v in target.items() if k != "reply_to_message"
                }
            elif not (
                _bool(reply, "allow_sending_without_reply")
                or _bool(params, "allow_sending_without_reply")
            ):
                raise _ApiError("Bad Request: message to be replied not found")
            else:
                target = None
        thread = _int(params, "message_thread_id")
        if isinstance(user, LocalGroup):
            # A plain supergroup ignores message_thread_id, as Telegram does.
            not_found = lambda: _ApiError("Bad Request: message thread not found")  # noqa: E731
            extra.update(user._placement(target, thread if user.forum else None, not_found))
            topic = user.topics.get(extra.get("message_thread_id", 0))
            if topic and topic["closed"] and user.status_of(self.bot_id) == "member":
                raise _ApiError("Bad Request: TOPIC_CLOSED")
            user._check_rate()
        elif thread is not None:
            extra["message_thread_id"] = thread
        markup = _validate_markup(params.get("reply_markup"))
        if markup is not None:
            extra["reply_markup"] = markup
        if params.get("link_preview_options") is not None:
            extra["link_preview_options"] = params["link_preview_options"]
        elif _bool(params, "disable_web_page_preview"):
            extra["link_preview_options"] = {"is_disabled": True}
        if params.get("parse_mode"):
            extra["parse_mode"] = params["parse_mode"]
        message = user._new_message(self.bot_user, {**content, **extra})
        user._record("new", message)
        return message

    def _caption(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("caption") in (None, ""):
            return {}
        caption, entities = _formatted(
            str(params["caption"]), params.get("parse_mode"), params.get("caption_entities")
        )
        if _utf16_len(caption) > _MAX_CAPTION:
            raise _ApiError("Bad Request: message caption is too long")
        return {"caption": caption, **({"caption_entities": entities} if entities else {})}

    def _media(self, params: dict[str, Any], key: str) -> dict[str, Any]:
        value = params.get(key)
        if value in (None, ""):
            raise _ApiError(f"Bad Request: there is no {key} in the request")
        serial = next(self._file_ids)
        file: dict[str, Any] = {"file_id": f"LOCAL-{key}-{serial}", "file_unique_id": f"b{serial}"}
        if isinstance(value, dict):  # an upload
            file["file_size"] = value["file_size"]
            file["file_name"] = value["file_name"]
            file["mime_type"] = value["mime_type"]
        elif not str(value).startswith(("http://", "https://")):
            file["file_id"] = str(value)  # re-sending a known file_id keeps it
        return file

    # -- Bot API methods (each `_m_<name>` serves `<name>`, case-insensitively) --------------

    async def _m_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _m_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook.get("url"):
            raise _ApiError(
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
                409,
            )
        if params.get("allowed_updates") is not None:
            self._allowed_updates = set(params["allowed_updates"])
        offset = _int(params, "offset", 0) or 0
        limit = min(max(_int(params, "limit", 100) or 100, 1), 100)
        try:
            timeout = float(params.get("timeout") or 0)
        except ValueError:
            raise _ApiError('Bad Request: field "timeout" must be a valid Number') from None
        self._poll_generation += 1
        generation = self._poll_generation
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if offset > 0:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            elif offset < 0:
                self._updates = self._updates[offset:]
            if generation != self._poll_generation:
                raise _ApiError(
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                    409,
                )
            if self._redeliveries:
                again, self._redeliveries = self._redeliveries, []
                return again
            remaining = deadline - loop.time()
            if self._updates or remaining <= 0 or self._closing:
                return self._updates[:limit]
            await self._pulse.wait(remaining)

    async def _m_setWebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = {key: value for key, value in params.items() if key != "certificate"}
        if _bool(params, "drop_pending_updates"):
            self._updates.clear()
        return True

    async def _m_deleteWebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = {}
        if _bool(params, "drop_pending_updates"):
            self._updates.clear()
        return True

    async def _m_getWebhookInfo(self, params: dict[str, Any]) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook.get("max_connections"):
            info["max_connections"] = int(self.webhook["max_connections"])
        if self.webhook.get("allowed_updates"):
            info["allowed_updates"] = self.webhook["allowed_updates"]
        return info

    @staticmethod
    def _commands_key(params: dict[str, Any]) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")

    async def _m_setMyCommands(self, params: dict[str, Any]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _ApiError("Bad Request: can't parse commands JSON object")
        self.commands[self._commands_key(params)] = commands
        return True

    async def _m_getMyCommands(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        return self.commands.get(self._commands_key(params), [])

    async def _m_deleteMyCommands(self, params: dict[str, Any]) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    async def _m_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        self._chat(params)  # an unknown chat is reported before an empty text, as Telegram does
        text, entities = _formatted(
            str(params.get("text") or ""), params.get("parse_mode"), params.get("entities")
        )
        if not text.strip():
            raise _ApiError("Bad Request: message text is empty")
        if _utf16_len(text) > _MAX_TEXT:
            raise _ApiError("Bad Request: message is too long")
        content: dict[str, Any] = {"text": text}
        if entities:
            content["entities"] = entities
        return _public(self._send(params, content))

    async def _m_sendPhoto(self, params: dict[str, Any]) -> dict[str, Any]:
        file = self._media(params, "photo")
        file.pop("file_name", None)
        file.pop("mime_type", None)
        # One upload, three sizes: Telegram gives each its own unique id.
        sizes = [
            {
                **file,
                "file_unique_id": f"{file['file_unique_id']}-{w}",
                "width": w,
                "height": w * 3 // 4,
            }
            for w in (90, 320, 1280)
        ]
        content = {"photo": sizes, **self._caption(params)}
        return _public(self._send(params, content))

    async def _m_getFile(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = str(params.get("file_id") or "")
        if file_id not in self.files:
            raise _ApiError("Bad Request: invalid file_id")
        folder = "photos" if "-photo-" in file_id else "documents"
        path = self._file_paths.setdefault(file_id, f"{folder}/file_{len(self._file_paths)}")
        return {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_size": len(self.files[file_id]),
            "file_path": path,
        }

    async def _m_sendVoice(self, params: dict[str, Any]) -> dict[str, Any]:
        voice = self._media(params, "voice")
        voice.pop("file_name", None)
        voice.setdefault("mime_type", "audio/ogg")
        voice["duration"] = _int(params, "duration", 1)
        return _public(self._send(params, {"voice": voice, **self._caption(params)}))

    async def _m_sendDocument(self, params: dict[str, Any]) -> dict[str, Any]:
        document = self._media(params, "document")
        return _public(self._send(params, {"document": document, **self._caption(params)}))

    def _copy_source(self, params: dict[str, Any], missing: str) -> dict[str, Any]:
        source_chat = self._chat(params, "from_chat_id")
        source = self._message(source_chat, _int(params, "message_id"), missing)
        if _SERVICE_KEYS & source.keys():
            raise _ApiError("Bad Request: message can't be copied")
        return source

    async def _m_copyMessage(self, params: dict[str, Any]) -> dict[str, int]:
        self._chat(params)
        source = self._copy_source(params, "message to copy not found")
        content = {k: v for k, v in source.items() if k not in _ENVELOPE_KEYS}
        if "caption" in params:
            content.pop("caption", None)
            content.pop("caption_entities", None)
            content.update(self._caption(params))
        return {"message_id": self._send(params, content)["message_id"]}

    async def _m_forwardMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        self._chat(params)
        source = self._copy_source(params, "message to forward not found")
        content = {k: v for k, v in source.items() if k not in _ENVELOPE_KEYS}
        content["forward_origin"] = source.get("forward_origin") or {
            "type": "user",
            "sender_user": source["from"],
            "date": source["date"],
        }
        forwarded = {k: v for k, v in params.items() if k not in ("reply_markup",)}
        return _public(self._send(forwarded, content))

    async def _m_deleteMessage(self, params: dict[str, Any]) -> bool:
        user = self._chat(params)
        message = self._message(user, _int(params, "message_id"), "message to delete not found")
        message["deleted"] = True
        user.deleted_message_ids.add(message["message_id"])
        user._pulse.fire()
        self._notify(user.id, message)
        return True

    def _editable(self, params: dict[str, Any]) -> tuple[_LocalChat, dict[str, Any]]:
        if params.get("inline_message_id"):
            raise _ApiError("Bad Request: inline messages are not supported by the local API")
        user = self._chat(params)
        message = self._message(user, _int(params, "message_id"), "message to edit not found")
        if message["from"].get("id") != self.bot_id:
            raise _ApiError("Bad Request: message can't be edited")
        return user, message

    def _apply_edit(
        self, user: _LocalChat, message: dict[str, Any], changes: dict[str, Any]
    ) -> dict[str, Any]:
        if all(message.get(key) == value for key, value in changes.items()):
            raise _ApiError(
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message"
            )
        for key, value in changes.items():
            if value is None:
                message.pop(key, None)
            else:
                message[key] = value
        message["edit_date"] = _now()
        user._record("edit", message)
        return _public(message)

    async def _m_editMessageText(self, params: dict[str, Any]) -> dict[str, Any]:
        user, message = self._editable(params)
        if "text" not in message:
            raise _ApiError("Bad Request: there is no text in the message to edit")
        text, entities = _formatted(
            _required_text(params, "text"), params.get("parse_mode"), params.get("entities")
        )
        if _utf16_len(text) > _MAX_TEXT:
            raise _ApiError("Bad Request: message is too long")
        # Like Telegram: an edit without reply_markup drops the inline keyboard.
        changes = {
            "text": text,
            "entities": entities,
            "reply_markup": _validate_markup(params.get("reply_markup")),
        }
        result = self._apply_edit(user, message, changes)
        if params.get("link_preview_options") is not None:
            message["link_preview_options"] = params["link_preview_options"]
        if params.get("parse_mode"):
            message["parse_mode"] = params["parse_mode"]
        return result

    async def _m_editMessageReplyMarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        user, message = self._editable(params)
        changes = {"reply_markup": _validate_markup(params.get("reply_markup"))}
        return self._apply_edit(user, message, changes)

    async def _m_answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        user = self._open_queries.pop(str(params.get("callback_query_id")), None)
        if user is None:
            raise _ApiError(
                "Bad Request: query is too old and response timeout expired or query ID is invalid"
            )
        user.callback_answers.append(dict(params))
        return True

    async def _m_sendChatAction(self, params: dict[str, Any]) -> bool:
        self._chat(params)
        _required_text(params, "action")
        return True

    # -- chats, members and forum topics ---------------------------------------------------

    async def _m_getChat(self, params: dict[str, Any]) -> dict[str, Any]:
        return {**self._chat(params).chat_dict, **_FULL_INFO}

    def _member(self, user_id: int, status: str) -> dict[str, Any]:
        member: dict[str, Any] = {"status": status, "user": self._user_dict(user_id)}
        if status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            member.update(
                can_be_edited=False,
                is_anonymous=False,
                can_manage_chat=True,
                can_delete_messages=True,
                can_manage_video_chats=True,
                can_restrict_members=True,
                can_promote_members=False,
                can_change_info=True,
                can_invite_users=True,
                can_post_stories=False,
                can_edit_stories=False,
                can_delete_stories=False,
                can_pin_messages=True,
                can_manage_topics=True,
            )
        return member

    async def _m_getChatMember(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(params)
        user_id = _int(params, "user_id")
        if user_id is None:
            raise _ApiError("Bad Request: user_id is empty")
        if isinstance(chat, LocalGroup):
            return self._member(user_id, chat.status_of(user_id))
        if user_id not in (chat.id, self.bot_id):
            raise _ApiError("Bad Request: user not found")
        return self._member(user_id, "member")

    async def _m_getChatAdministrators(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        chat = self._chat(params)
        if not isinstance(chat, LocalGroup):
            raise _ApiError("Bad Request: there are no administrators in the private chat")
        everyone = [*chat.members, *([] if self.bot_id in chat.members else [self.bot_id])]
        return [
            self._member(user_id, chat.status_of(user_id))
            for user_id in everyone
            if chat.status_of(user_id) in _MEMBER_STATUSES[1:]
        ]

    async def _m_getChatMemberCount(self, params: dict[str, Any]) -> int:
        chat = self._chat(params)
        if not isinstance(chat, LocalGroup):
            return 2
        return len(chat.members) + (self.bot_id not in chat.members)

    async def _m_createForumTopic(self, params: dict[str, Any]) -> dict[str, Any]:
        group = self._forum(params)
        name = _required_text(params, "name")
        if len(name) > 128:
            raise _ApiError("Bad Request: TOPIC_TITLE_INVALID")
        color = _int(params, "icon_color", _TOPIC_ICON_COLOR)
        created = {"name": name, "icon_color": color}
        # The topic's id is the id of its creation (service) message, as in Telegram.
        message = group._new_message(self.bot_user, {"forum_topic_created": created})
        thread = message["message_id"]
        message["message_thread_id"] = thread
        message["is_topic_message"] = True
        group.topics[thread] = {"name": name, "closed": False}
        return {"message_thread_id": thread, **created}

    async def _m_editForumTopic(self, params: dict[str, Any]) -> bool:
        _, topic = self._topic(params)
        name = params.get("name")
        if name in (None, "") or name == topic["name"]:
            raise _ApiError("Bad Request: TOPIC_NOT_MODIFIED")
        topic["name"] = str(name)
        return True

    async def _set_closed(self, params: dict[str, Any], closed: bool) -> bool:
        _, topic = self._topic(params)
        if topic["closed"] == closed:
            raise _ApiError("Bad Request: TOPIC_NOT_MODIFIED")
        topic["closed"] = closed
        return True

    async def _m_closeForumTopic(self, params: dict[str, Any]) -> bool:
        return await self._set_closed(params, True)

    async def _m_reopenForumTopic(self, params: dict[str, Any]) -> bool:
        return await self._set_closed(params, False)

    async def _m_deleteForumTopic(self, params: dict[str, Any]) -> bool:
        group, _ = self._topic(params)
        thread = _int(params, "message_thread_id", 0) or 0
        del group.topics[thread]
        for message in group.messages.values():
            if message.get("message_thread_id") == thread and not message.get("deleted"):
                message["deleted"] = True
                group.deleted_message_ids.add(message["message_id"])
        group._pulse.fire()
        return True

    async def _m_leaveChat(self, params: dict[str, Any]) -> bool:
        chat = self._chat(params)
        if not isinstance(chat, LocalGroup):
            raise _ApiError("Bad Request: chat member status can't be changed in private chats")
        chat.members[self.bot_id] = "left"
        chat.left_by_bot = True
        chat._pulse.fire()
        return True

    async def _m_close(self, params: dict[str, Any]) -> bool:
        return True

    async def _m_logOut(self, params: dict[str, Any]) -> bool:
        return True


async def _read_params(request: Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query_params)
    body = await request.body()
    content_type = request.headers.get("content-type", "")
    mime = content_type.split(";", 1)[0].strip().lower()
    try:
        if not body:
            pass
        elif mime == "application/json":
            data = json.loads(body)
            if not isinstance(data, dict):
                raise ValueError("JSON body is not an object")
            params.update(data)
        elif mime == "multipart/form-data":
            params.update(_parse_multipart(content_type, body))
        else:
            params.update(parse_qsl(body.decode(), keep_blank_values=True))
    except (ValueError, UnicodeDecodeError) as error:
        raise _ApiError(f"Bad Request: can't parse request body: {error}") from None
    for key in _JSON_PARAMS & params.keys():
        if isinstance(params[key], str) and params[key]:
            try:
                params[key] = json.loads(params[key])
            except ValueError:
                raise _ApiError(f"Bad Request: can't parse {key} JSON object") from None
    for key, value in params.items():
        # Uploads referenced as attach://<name> (PTB does this for media inside JSON objects).
        if isinstance(value, str) and value.startswith("attach://"):
            params[key] = params.get(value.removeprefix("attach://"), value)
    return params


def _parse_multipart(content_type: str, body: bytes) -> dict[str, Any]:
    # Starlette's own form parser needs python-multipart, which this project does not depend on;
    # the stdlib email parser reads multipart/form-data well enough for a local stand-in.
    head = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1")
    envelope = BytesParser(policy=policy.HTTP).parsebytes(head + body)
    if not envelope.is_multipart():
        raise ValueError("malformed multipart body")
    fields: dict[str, Any] = {}
    for part in envelope.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str) or not name:
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            payload = b""
        filename = part.get_filename()
        if filename is None:
            fields[name] = payload.decode()
        else:
            fields[name] = {
                "file_name": filename,
                "mime_type": part.get_content_type(),
                "file_size": len(payload),
            }
    return fields
