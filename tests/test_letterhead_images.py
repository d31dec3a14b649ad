"""Images uploaded for an event's letterhead: PNG and JPEG only (by content), size- and pixel-limited, re-encoded
without their metadata."""

import io

import pytest
from PIL import Image
from pypdf import PdfReader
from werkzeug.datastructures import FileStorage

from eventreg.documents.images import ImageRefused, store_image
from eventreg.extensions import db
from eventreg.models import Event


def image_bytes(kind: str, size=(40, 20), mode="RGB", **save) -> bytes:
    """A real tiny image made by Pillow."""
    buffer = io.BytesIO()
    Image.new(mode, size, (200, 30, 30, 128)[: len(mode)] if mode != "P" else 1).save(buffer, format=kind, **save)
    return buffer.getvalue()


def upload(content: bytes, filename="logo.png", mimetype="image/png") -> FileStorage:
    return FileStorage(io.BytesIO(content), filename=filename, content_type=mimetype)


def stored(app, event, content, **kwargs):
    with app.app_context():
        image = store_image(db.session.get(Event, event.id), "logo", upload(content, **kwargs))
        db.session.commit()
        return image.content_type, image.data, image.width, image.height


def with_exif(kind: str) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "SecretCameraMaker"  # Make
    exif[0x8298] = "Copyright Someone"
    return image_bytes(kind, exif=exif.tobytes())


def test_png_keeps_transparency_and_is_reencoded(app, make_event):
    event = make_event()
    content_type, data, width, height = stored(app, event, image_bytes("PNG", mode="RGBA"))
    assert (content_type, width, height) == ("image/png", 40, 20)
    reread = Image.open(io.BytesIO(data))
    assert reread.format == "PNG" and reread.mode == "RGBA"
    assert reread.getpixel((0, 0)) == (200, 30, 30, 128)


def test_jpeg_sent_as_png_is_stored_as_jpeg(app, make_event):
    """The content decides, not the file name or the browser's type."""
    content_type, data, *_size = stored(app, make_event(), image_bytes("JPEG"), filename="x.png")
    assert content_type == "image/jpeg"
    assert Image.open(io.BytesIO(data)).format == "JPEG"


@pytest.mark.parametrize("kind", ["PNG", "JPEG"])
def test_exif_is_dropped(app, make_event, kind):
    original = with_exif(kind)
    assert b"SecretCameraMaker" in original
    _type, data, *_size = stored(app, make_event(), original)
    assert b"SecretCameraMaker" not in data
    assert not Image.open(io.BytesIO(data)).getexif()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (image_bytes("GIF", mode="P"), "Please upload a PNG or JPEG image (this file is GIF)."),
        (b"just some text, not an image\n" * 10, "This file is not a PNG or JPEG image that can be read."),
        (image_bytes("PNG")[:60], "This file is not a PNG or JPEG image that can be read."),
        (image_bytes("JPEG")[:-40], "This file is not a PNG or JPEG image that can be read."),
        (image_bytes("PNG", size=(4001, 10)), "The image is 4001 × 10 pixels: at most 4000 × 4000, please."),
        (b"", "The file is empty."),
    ],
    ids=["gif", "text-renamed-png", "truncated-png", "truncated-jpeg", "too-many-pixels", "empty"],
)
def test_refused_uploads(app, make_event, content, message):
    event = make_event()
    with pytest.raises(ImageRefused) as refusal:
        stored(app, event, content)
    assert str(refusal.value.message) == message


def test_oversize_file_is_refused(app, make_event):
    app.config["DOCUMENT_IMAGE_MAX_BYTES"] = 2048
    big = image_bytes("PNG", size=(300, 300), mode="RGB", compress_level=0)
    assert len(big) > 2048
    with pytest.raises(ImageRefused) as refusal:
        stored(app, make_event(), big)
    assert str(refusal.value.message) == "The image is too large: at most 2 KB, please."


def test_a_letter_issued_before_the_signature_was_replaced_renders_with_the_old_one(app, make_event):
    """Issued letters name their images by id: a replaced signature is kept, and the letter renders as issued."""
    from eventreg.documents.settings import SettingsChange, save_settings
    from eventreg.models import VisaLetter
    from eventreg.visas.letters import render_letter
    from tests.test_visa_letters import issue, visa_request

    event = make_event()

    def save_signature(colour):
        buffer = io.BytesIO()
        Image.new("RGB", (60, 20), colour).save(buffer, format="PNG")
        change = SettingsChange(
            letter_prefix="ANSO-2027",
            letter_template="Dear consul, {passport_name}.",
            signature=upload(buffer.getvalue(), filename="signature.png"),
        )
        with app.app_context():
            save_settings(db.session.get(Event, event.id), change, None, ["en"])

    def letter_images() -> list[bytes]:
        with app.app_context():
            letter = db.session.scalars(db.select(VisaLetter).where(VisaLetter.event_id == event.id)).one()
            reader = PdfReader(io.BytesIO(render_letter(letter)))
            return [image.data for page in reader.pages for image in page.images]

    save_signature((0, 0, 200))
    issue(app, event, visa_request(app, event))
    issued = letter_images()
    assert len(issued) >= 1
    save_signature((200, 0, 0))
    assert letter_images() == issued


def test_a_photo_is_turned_as_its_exif_orientation_says(app, make_event):
    """A phone's JPEG stored sideways with orientation 6 (turn 90° clockwise) is stored upright, without the tag."""
    event = make_event()
    sideways = Image.new("RGB", (40, 20), (255, 255, 255))
    sideways.paste((0, 0, 0), (0, 0, 10, 20))  # black on the left: upright, it is at the top
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    buffer = io.BytesIO()
    sideways.save(buffer, format="JPEG", exif=exif.tobytes(), quality=95)
    content_type, data, width, height = stored(app, event, buffer.getvalue(), filename="sig.jpg", mimetype="image/jpeg")
    upright = Image.open(io.BytesIO(data))
    assert (content_type, upright.size, (width, height)) == ("image/jpeg", (20, 40), (20, 40))
    assert upright.getexif().get(0x0112) is None
    assert upright.convert("L").getpixel((10, 2)) < 60 and upright.convert("L").getpixel((10, 37)) > 200
