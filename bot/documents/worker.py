"""The OCR worker process: loads RapidOCR's model once, then reads one photo at a time and sends
back only what the zone states (or why it could not), never the zone's text nor the image.

It runs as a process of its own, `python -m bot.documents.worker`, that shares nothing with the
bot's event loop and imports the OCR only there: the bot's own process never loads the model.
Its standard input brings photos and its standard output takes answers, each a length and a
body; a closed input ends it.
"""

from __future__ import annotations

import io
import os
import pickle
import struct
import sys
from dataclasses import dataclass
from typing import Any, BinaryIO

from bot.documents.mrz import Mrz, Refusal, read_zone

# A Telegram photo's largest size is 1280 pixels; a file sent as a document may be a 12-megapixel
# original, which reads no better and costs far more.
MAX_SIDE = 1600
# Detection at this size finds the zone's lines on a whole data page in a fraction of the time
# (and memory) of the full size; the lines are then read from the full image.
DETECTION_SIDE = 960
# A photo of a page needs a few megapixels; a few kilobytes of PNG can claim hundreds (a
# decompression bomb), which would cost gigabytes before any shrinking. Past this, refused.
MAX_PIXELS = 40_000_000
# The worker's own ceiling on memory (its model takes about 310 MiB): a photo that would need
# more fails in the worker, which is replaced, instead of the machine choosing what to kill.
MEMORY_LIMIT = 1536 * 1024 * 1024


@dataclass(frozen=True)
class Ready:
    """Sent once the model is loaded."""


@dataclass(frozen=True)
class Unavailable:
    """Sent when the OCR cannot be loaded; `reason` names the error's type only."""

    reason: str


def _engine() -> Any:
    from rapidocr import RapidOCR

    return RapidOCR(
        params={
            "Global.log_level": "error",
            # One core for the OCR, the other for the bot's event loop and the database.
            "EngineConfig.onnxruntime.intra_op_num_threads": 1,
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            "Det.limit_type": "max",
            "Det.limit_side_len": DETECTION_SIDE,
        }
    )


def _pixels(image: bytes) -> Any:
    import numpy
    from PIL import Image, ImageOps

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # past twice this Pillow refuses; the warning, below
    with Image.open(io.BytesIO(image)) as opened:
        width, height = opened.size
        if width * height > MAX_PIXELS:
            raise ValueError("more pixels than a page's photo needs")
        # A JPEG is decoded at a fraction of its size when that is all that is needed, and
        # any image is shrunk before its colours are converted: memory follows the result.
        opened.draft("RGB", (MAX_SIDE, MAX_SIDE))
        opened.thumbnail((MAX_SIDE, MAX_SIDE))
        # A phone's photo is often stored sideways with an EXIF note saying so.
        upright = ImageOps.exif_transpose(opened).convert("RGB")
    return numpy.asarray(upright)[:, :, ::-1]  # RapidOCR reads OpenCV's BGR order


@dataclass
class _Box:
    left: float
    right: float
    middle: float  # the vertical centre
    height: float  # of the text, not of its (tilted) bounding rectangle
    text: str


def _box(corners: list[list[float]], text: str) -> _Box:
    (x0, y0), _, _, (x3, y3) = corners[:4]
    xs = [x for x, _ in corners]
    ys = [y for _, y in corners]
    height = ((x3 - x0) ** 2 + (y3 - y0) ** 2) ** 0.5
    return _Box(min(xs), max(xs), sum(ys) / len(ys), height, text)


def _rows(result: Any) -> list[str]:
    """The OCR's boxes as lines of text, top to bottom. Boxes side by side, at the same height,
    are one line, joined left to right: a zone's line can come out as two boxes where a long
    run of fillers splits it. A tilted photo's lines overlap in height, so side by side means
    not overlapping across, and at the same height means within half a line."""
    if result.boxes is None or result.txts is None:
        return []
    boxes = sorted(
        (
            _box(corners, text)
            for corners, text in zip(result.boxes.tolist(), result.txts, strict=True)
        ),
        key=lambda box: box.middle,
    )
    rows: list[list[_Box]] = []
    for box in boxes:
        for row in rows:
            beside = all(box.left >= b.right or box.right <= b.left for b in row)
            level = abs(row[0].middle - box.middle) < 0.5 * max(box.height, row[0].height)
            if beside and level:
                row.append(box)
                break
        else:
            rows.append([box])
    return ["".join(b.text for b in sorted(row, key=lambda b: b.left)) for row in rows]


def read(engine: Any, image: bytes) -> Mrz | Refusal:
    """One photo: what its zone states, verified, or why not."""
    try:
        pixels = _pixels(image)
    except Exception:
        # Not an image Pillow can open, a bomb, or metadata it chokes on (struct.error and
        # TypeError from odd EXIF, seen in a fuzz): there is no zone to read in it, and one odd
        # file must not end the worker.
        return Refusal.NOT_FOUND
    try:
        return read_zone(_rows(engine(pixels)))
    except MemoryError:
        return Refusal.NOT_FOUND


HEADER = struct.Struct(">I")


def frame(body: bytes) -> bytes:
    return HEADER.pack(len(body)) + body


def _send(out: BinaryIO, answer: object) -> None:
    out.write(frame(pickle.dumps(answer)))
    out.flush()


def _receive(source: BinaryIO) -> bytes | None:
    header = source.read(HEADER.size)
    if len(header) < HEADER.size:
        return None
    (length,) = HEADER.unpack(header)
    body = source.read(length)
    return body if len(body) == length else None


def serve(source: BinaryIO, out: BinaryIO) -> None:
    """The worker's loop: one photo in, one answer out, until the input closes."""
    try:
        engine = _engine()
    except Exception as error:  # any failure to load means the same: no OCR here
        _send(out, Unavailable(type(error).__name__))
        return
    _send(out, Ready())
    while (image := _receive(source)) is not None:
        _send(out, read(engine, image))


def _limit_memory() -> None:
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    except (ImportError, ValueError, OSError):
        pass  # not on this platform: the pixel limit still holds


def main() -> None:
    import warnings

    from bot.priority import run_in_background

    # First, so that the OCR's own threads, started later, inherit it: below the bot's event
    # loop, at the password hashes' priority.
    run_in_background()

    from PIL import Image

    # A bomb between the limit and twice it is only a warning in Pillow: here, a refusal.
    warnings.simplefilter("error", Image.DecompressionBombWarning)
    _limit_memory()
    # The answers get the real standard output to themselves: whatever a library prints goes
    # to standard error instead.
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    serve(sys.stdin.buffer, answers)


if __name__ == "__main__":
    # Run from the module under its own name, so that what it pickles is bot.documents.worker's
    # classes, which the bot knows, and not __main__'s.
    from bot.documents import worker as named

    named.main()
