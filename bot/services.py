"""The services one running bot uses, built once and handed to the conversations."""

from __future__ import annotations

from dataclasses import dataclass

from bot.accounts import AccountService
from bot.mail import Mailer
from bot.registration import Registrations
from bot.settings import Settings
from bot.storage import Database


@dataclass
class Services:
    settings: Settings
    database: Database
    accounts: AccountService
    registrations: Registrations
    mailer: Mailer
