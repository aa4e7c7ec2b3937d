"""The composition root: the services, and every handler in one place, in order. The whole
bot's surface is readable here; the runtime (bot/runtime) runs what this composes."""

from __future__ import annotations

from datetime import timedelta

from bot.accounts import AccountService, PasswordResets, ResetOutcome, VerifyOutcome
from bot.accounts.sessions import Sessions
from bot.documents import DocumentReader, Documents, ReaderSettings
from bot.inbox import Inbox
from bot.languages import Languages
from bot.mail.outbox import FailedEmail, Outbox, RetryPolicy, TokenSeal
from bot.mail.sender import Mailer, MailSettings
from bot.open_questions import OpenQuestions
from bot.privacy import Privacy
from bot.registration import Registrations
from bot.runtime import jobs
from bot.runtime.application import Application
from bot.runtime.commands import publish_for_chat
from bot.runtime.errors import ErrorHook
from bot.runtime.processing import MAX_RUNNING
from bot.runtime.running import RunningBot, UpdateQueue, Wiring
from bot.runtime.running import start_bot as start_runtime
from bot.safety.updates import UpdateLedger
from bot.services import Services
from bot.settings import Settings
from bot.storage import Database
from bot.storage.agreement import SecretAgreement
from bot.storage.turns import ChatTurns
from bot.tickets import Tickets
from bot.tramites import Tramites
from conversations import (
    faq,
    guards,
    language,
    login,
    menu,
    notices,
    privacy,
    recovery,
    registration,
    resend,
    tramites,
    trust,
    volunteers,
)
from conversations.common import CHAT_MENU_KEY, RESUME_KEY, answering_first

# What the reset form's check is derived with, from the outbox's secret.
RESET_FORM_KEY = b"ninez-migrante-bot password reset form v1"
# What the processes of one database compare, to know they share the secret.
AGREEMENT_KEY = b"ninez-migrante-bot one secret per database v1"

# A family is told of its unverified account's deletion within minutes of the time, not an hour.
UNVERIFIED_SWEEP_EVERY = timedelta(minutes=5)
# A reminder goes out within a minute of falling due.
REMINDERS_EVERY = timedelta(seconds=30)


def build_documents(settings: Settings) -> Documents:
    """Reading photos of documents, in worker processes of its own; off by DOCUMENT_READING."""
    if not settings.document_reading:
        return Documents(None)
    return Documents(
        DocumentReader(
            ReaderSettings(
                workers=settings.document_readers,
                timeout_seconds=settings.document_read_timeout_seconds,
                # Two a worker, and always fewer than the handlers that run at once: photos
                # waiting never hold back every other family.
                max_waiting=max(1, min(2 * settings.document_readers, MAX_RUNNING - 2)),
            )
        )
    )


def build_services(settings: Settings, link_base: str, news: UpdateQueue) -> Services:
    database = Database(settings.database_url_async)
    mailer = Mailer(
        MailSettings(
            host=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password,
            security=settings.smtp_security,
            mail_from=settings.mail_from,
            outbox_dir=settings.outbox_dir,
        )
    )

    async def email_refused(failure: FailedEmail) -> None:
        await news.put(notices.EmailRefused(failure))

    seal = TokenSeal.from_settings(settings.secret_key, settings.data_dir)
    outbox = Outbox(
        database,
        mailer,
        seal,
        link_base=link_base,
        mail_from=settings.mail_from,
        retry=RetryPolicy(
            base_seconds=settings.outbox_retry_base_seconds,
            cap_seconds=settings.outbox_retry_cap_seconds,
        ),
        on_failure=email_refused,
    )
    accounts = AccountService(
        database,
        link_base=link_base,
        token_ttl=timedelta(hours=settings.verification_ttl_hours),
        outbox=outbox,
        resend_limit_per_hour=settings.resend_limit_per_hour,
        unverified_ttl=timedelta(days=settings.unverified_account_days),
        max_accounts_per_user=settings.max_accounts_per_user,
    )
    registrations = Registrations(
        database, accounts, check_deliverability=settings.email_check_deliverability
    )
    resets = PasswordResets(
        database,
        accounts,
        # From the one secret every process shares: a form one process served, another checks.
        form_key=seal.subkey(RESET_FORM_KEY),
        outbox=outbox,
        limit_per_hour=settings.password_reset_limit_per_hour,
    )
    return Services(
        settings,
        database,
        accounts,
        registrations,
        outbox,
        UpdateLedger(database),
        Tickets(database),
        Inbox(database),
        Languages(database),
        Privacy(database),
        Sessions(database, accounts.passwords),
        Tramites(database),
        resets,
        OpenQuestions(database),
        # A chat's turn across processes is held for as long as its update runs: as many at
        # once as the update processor runs.
        ChatTurns(settings.database_url_async, at_once=MAX_RUNNING),
        SecretAgreement(settings.database_url_async, seal.subkey(AGREEMENT_KEY).hex()),
        build_documents(settings),
    )


def register_handlers(application: Application, services: Services) -> None:
    conversation = registration.build()
    # What a conversation needs of the registration without importing it: to ask a family's
    # current question again (after a ticket, say).
    application.bot_data[RESUME_KEY] = registration.resume
    # ...and what the language's conversation needs: one chat's menu in the chosen language.
    application.bot_data[CHAT_MENU_KEY] = lambda bot, chat_id, locale: publish_for_chat(
        bot, chat_id, menu.COMMANDS, locale
    )

    # Order matters. Group -4 first: only a family's private chat and the volunteers' group
    # get past it; edits stop there too. Group -3: the guards may stop an update (a flood, a
    # redelivered update). Group -2: the password recovery, alone in its group, so that while
    # it awaits an address it takes the answer from everything else, and any other command or
    # button still reaches its own handler. Group -1: the volunteers' group, and what may
    # interrupt a family's registration without ending it: a ticket (while one is open every
    # message goes to it), a frequent question, the inbox; each stops the update it handled.
    # Then, in group 0, the registration, so that while a family is in it every message
    # reaches it (its fallbacks answer what does not fit); then the commands and notices
    # outside it; and last the hint for a message nothing awaited, and the answer to a button
    # nothing took.
    group = services.settings.volunteers_chat_id
    trusted = trust.handler(volunteers.COMMAND_NAMES, volunteers.GROUP_BUTTONS)
    application.add_handler(trusted, group=-4)  # who may be heard at all
    application.add_handler(guards.handler(), group=-3)  # flood, redelivery, expired drafts
    application.add_handlers(recovery.handlers(), group=-2)  # /recuperar, even mid-registration
    team = answering_first(volunteers.volunteer_handlers(group))
    application.add_handlers(team, group=-1)  # the volunteers' group, and nothing else there
    application.add_handlers(volunteers.family_handlers(), group=-1)  # an open ticket first
    questions = answering_first(faq.handlers())
    application.add_handlers(questions, group=-1)  # questions, mid-registration too
    application.add_handlers(answering_first(menu.anytime_handlers()), group=-1)  # the inbox
    application.add_handlers(answering_first(language.handlers()), group=-1)  # likewise
    application.add_handlers(answering_first(privacy.handlers()), group=-1)  # own data, too
    application.add_handlers(answering_first(tramites.handlers()), group=-1)  # the home's
    application.add_handlers(answering_first(login.handlers()), group=-1)  # session buttons
    application.add_handler(conversation)  # the form: every message while it runs
    application.add_handler(login.build())  # /ingresar: the e-mail, then the password
    application.add_handlers(resend.handlers())  # /reenviar
    application.add_handlers(notices.handlers())  # the link opened, an e-mail refused
    application.add_handlers(menu.handlers())  # /start, /ayuda, /cancelar with nothing to cancel
    application.add_handlers(faq.catch_all())  # a message nothing awaited: the closest answers
    application.add_handlers(menu.catch_all())  # a button nothing took

    queue = application.job_queue
    if queue is None:
        raise RuntimeError("python-telegram-bot's job-queue extra is missing")
    queue.run_repeating(jobs.sweep, interval=jobs.SWEEP_EVERY, first=1, name="sweep")
    queue.run_repeating(
        notices.unverified_accounts, interval=UNVERIFIED_SWEEP_EVERY, first=3, name="unverified"
    )
    queue.run_repeating(
        volunteers.remind_unanswered, interval=volunteers.REMIND_EVERY, first=5, name="remind"
    )
    queue.run_repeating(notices.reminders, interval=REMINDERS_EVERY, first=2, name="reminders")


def _verified(outcome: VerifyOutcome) -> object:
    return notices.AccountVerified(outcome)


def _password_changed(outcome: ResetOutcome) -> object:
    return notices.AccountPasswordChanged(outcome)


def wiring(settings: Settings) -> Wiring:
    return Wiring(
        services=lambda link_base, news: build_services(settings, link_base, news),
        handlers=register_handlers,
        verified=_verified,
        password_changed=_password_changed,
        family_commands=menu.COMMANDS,
        volunteer_commands=volunteers.COMMANDS,
    )


async def start_bot(
    settings: Settings,
    *,
    token: str | None = None,
    base_url: str | None = None,
    on_error: ErrorHook | None = None,
    poll_timeout: int = 10,
) -> RunningBot:
    """Starts the web server, the bot and the outbox worker in the running event loop."""
    return await start_runtime(
        settings,
        wiring(settings),
        token=token,
        base_url=base_url,
        on_error=on_error,
        poll_timeout=poll_timeout,
    )
