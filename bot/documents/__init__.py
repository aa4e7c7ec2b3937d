"""A child's identity document read from a photo: the machine-readable zone (ICAO 9303) found
by an OCR in a worker process, verified by its check digits, and proposed as the form's
answers. Knows nothing of Telegram."""

from bot.documents.mrz import Mrz, Refusal, read_zone
from bot.documents.proposal import Proposal, Stated, propose
from bot.documents.reader import Busy, DocumentReader, ReaderSettings, ocr_installed
from bot.documents.service import Documents

__all__ = [
    "Busy",
    "DocumentReader",
    "Documents",
    "Mrz",
    "Proposal",
    "ReaderSettings",
    "Refusal",
    "Stated",
    "ocr_installed",
    "propose",
    "read_zone",
]
