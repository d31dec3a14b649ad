"""Images organizers upload for an event's documents (the letterhead's logo, the signature): accepted only when
Pillow reads them as PNG or JPEG, within a size and a pixel limit, and re-encoded before they are stored, so what
the PDF renderer reads is an image Pillow wrote, without the upload's metadata (EXIF, GPS, comments)."""

import io
import warnings

from flask import current_app
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError

from ..extensions import db
from ..models import Event, StoredImage

# A letterhead's logo or a signature never needs more; the limit is checked on the header, before any pixel is
# decoded, so a small file that unpacks to gigabytes (a decompression bomb) is refused without being decoded.
MAX_SIDE = 4000
PURPOSES = ("logo", "signature")
_CONTENT_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg"}


class ImageRefused(ValueError):
    """An upload that cannot be used: its message says why, for the page."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def _complete(kind: str, content: bytes) -> bool:
    """Whether the file ends as its format ends (PNG's IEND chunk, JPEG's end-of-image marker). Pillow would say
    so itself, but WeasyPrint turns on ImageFile.LOAD_TRUNCATED_IMAGES for the whole process when it is imported,
    and a cut-off upload would then be stored with grey pixels."""
    tail = content[-32:]
    return b"IEND" in tail if kind == "PNG" else b"\xff\xd9" in tail


def max_bytes() -> int:
    """The largest upload accepted (DOCUMENT_IMAGE_MAX_BYTES, 2 MB unless configured)."""
    return int(current_app.config["DOCUMENT_IMAGE_MAX_BYTES"])


def reencoded(content: bytes) -> tuple[bytes, str, int, int]:
    """The upload `content` re-encoded by Pillow (PNG as PNG with its transparency, JPEG as JPEG at quality 90),
    without metadata: (bytes, content type, width, height). Raises ImageRefused."""
    if len(content) > max_bytes():
        raise ImageRefused(_l("The image is too large: at most %(size)d KB, please.", size=max_bytes() // 1024))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(content))  # reads the header only
            kind = image.format
            if kind not in _CONTENT_TYPES:
                raise ImageRefused(_l("Please upload a PNG or JPEG image (this file is %(kind)s).", kind=kind))
            width, height = image.size
            if width > MAX_SIDE or height > MAX_SIDE:
                raise ImageRefused(
                    _l(
                        "The image is %(width)d × %(height)d pixels: at most %(max)d × %(max)d, please.",
                        width=width,
                        height=height,
                        max=MAX_SIDE,
                    )
                )
            if not _complete(kind, content):
                raise ImageRefused(_l("This file is not a PNG or JPEG image that can be read."))
            image.load()
    except ImageRefused:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError, Warning):
        raise ImageRefused(_l("This file is not a PNG or JPEG image that can be read.")) from None
    transparency = image.info.get("transparency")
    # Turned as the camera's EXIF orientation says (a phone photo of a signature stays upright), before the EXIF
    # goes; then a copy without the upload's info: nothing of its metadata (EXIF, ICC, text) reaches the saved file.
    clean = ImageOps.exif_transpose(image)
    clean.info = {}
    output = io.BytesIO()
    if kind == "PNG":
        # Transparency is kept (a logo on any paper), palette images with their palette.
        params = {"transparency": transparency} if transparency is not None else {}
        clean.save(output, format="PNG", optimize=True, **params)
    else:
        if clean.mode not in ("RGB", "L"):
            clean = clean.convert("RGB")
        clean.save(output, format="JPEG", quality=90)
    return output.getvalue(), _CONTENT_TYPES[kind], *clean.size  # turned: a portrait's sides swap


def read_upload(file_storage) -> tuple[bytes, str, int, int]:
    """Check and re-encode an upload (a werkzeug FileStorage): (bytes, content type, width, height), as reencoded()
    returns them. Nothing is written: callers re-encode before they take the write lock. Raises ImageRefused."""
    # Read one byte more than allowed: enough to know it is too large without reading all of a huge upload.
    content = file_storage.stream.read(max_bytes() + 1)
    if not content:
        raise ImageRefused(_l("The file is empty."))
    return reencoded(content)


def add_image(event: Event, purpose: str, encoded: tuple[bytes, str, int, int]) -> StoredImage:
    """Add an image read_upload() re-encoded to the session as the event's image for `purpose` ("logo" or
    "signature"); the caller commits."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown image purpose {purpose!r}")
    data, content_type, width, height = encoded
    image = StoredImage(
        event_id=event.id, purpose=purpose, content_type=content_type, data=data, width=width, height=height
    )
    db.session.add(image)
    return image


def store_image(event: Event, purpose: str, file_storage) -> StoredImage:
    """Check and re-encode an upload (a werkzeug FileStorage) and add it to the session as the event's image for
    `purpose` ("logo" or "signature"); the caller commits. Raises ImageRefused."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown image purpose {purpose!r}")
    return add_image(event, purpose, read_upload(file_storage))


def event_image(event: Event, image_id: int) -> StoredImage | None:
    """The event's stored image `image_id`, or None (another event's image is none of this one's)."""
    image = db.session.get(StoredImage, image_id)
    return image if image is not None and image.event_id == event.id else None
