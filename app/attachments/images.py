"""Images decoded within a pixel limit, and copies with no metadata.

A small file can declare an enormous canvas (a decompression bomb): Pillow's
MAX_IMAGE_PIXELS only warns below twice its value, so the size is checked
here before any pixel is decoded. What the page shows (a thumbnail, and the
full-size view) is re-encoded from the pixels alone, so a phone photo's EXIF
(its GPS position, the camera's serial) is never served back; Gemini gets
the file's own bytes.
"""

import io
import warnings

from PIL import Image, ImageOps

MAX_PIXELS = 40_000_000  # about a 48-megapixel phone photo's 8000 x 5000
THUMBNAIL_SIZE = (320, 320)
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


class NotAnImage(ValueError):
    """The bytes are not an image of the type the name says, or too large to decode."""


def opened(data, pillow_format):
    """The image in `data`, checked to be `pillow_format` and within MAX_PIXELS
    (its header is read; its pixels are not decoded yet), or NotAnImage."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[pillow_format])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise NotAnImage(f"That image has more than {MAX_PIXELS:,} pixels.") from None
    except Exception:  # noqa: BLE001 - Pillow raises many kinds for a file it cannot read
        raise NotAnImage(f"That file is not a {pillow_format} image.") from None
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise NotAnImage(f"That image has {width * height:,} pixels; the limit is {MAX_PIXELS:,}.")
    return image


def _pixels_only(image, box=None):
    image = ImageOps.exif_transpose(image)  # turned as the camera meant, before the EXIF goes
    if box:
        image.thumbnail(box)
    mode = "RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB"
    return image.convert(mode)


def thumbnail(data, pillow_format):
    """A small PNG/JPEG of the image with no metadata, or NotAnImage."""
    image = _pixels_only(opened(data, pillow_format), THUMBNAIL_SIZE)
    return _encoded(image)


def metadata_free(data, pillow_format):
    """The whole image again, from its pixels alone: no EXIF, no GPS, no comments."""
    return _encoded(_pixels_only(opened(data, pillow_format)))


def _encoded(image):
    out = io.BytesIO()
    if image.mode == "RGBA":
        image.save(out, "PNG", optimize=True)
    else:
        image.save(out, "JPEG", quality=90)
    return out.getvalue()


def encoded_type(data):
    """The MIME type `_encoded` gave `data`."""
    return "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"
