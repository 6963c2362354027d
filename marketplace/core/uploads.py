"""Safe image uploads (DESIGN.md security rules).

Open with Pillow under a pixel limit (a decompression bomb is refused, not just warned
about), accept only JPEG, PNG and WebP by content (not by name), apply the EXIF
orientation, re-encode (which drops EXIF, GPS included), cap the size, and store under a
server-generated name. Anything else raises ValidationError with a message for the user.
"""

import io
import uuid
import warnings

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000  # about 7,300 × 5,500: any phone camera, not a bomb
MAX_SIDE = 2000  # stored images are scaled down to this
ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP"}


def clean_image(upload, *, max_side: int = MAX_SIDE) -> ContentFile:
    """Return a re-encoded copy of `upload` with a fresh name, or raise ValidationError."""
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_UPLOAD_BYTES:
        raise ValidationError(
            _("The file is too large: at most %(mb)s MB.") % {"mb": MAX_UPLOAD_BYTES // 2**20},
            code="too_large",
        )
    upload.seek(0)
    data = upload.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValidationError(
            _("The file is too large: at most %(mb)s MB.") % {"mb": MAX_UPLOAD_BYTES // 2**20},
            code="too_large",
        )
    previous_limit = Image.MAX_IMAGE_PIXELS
    try:
        Image.MAX_IMAGE_PIXELS = MAX_PIXELS
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format not in ACCEPTED_FORMATS:
                raise ValidationError(_("Please upload a JPEG, PNG or WebP photo."), code="format")
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ValidationError(_("The image is too large to process."), code="bomb") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ValidationError(
            _("This file is not a photo we can read. Please upload a JPEG, PNG or WebP photo."),
            code="invalid",
        ) from exc
    finally:
        Image.MAX_IMAGE_PIXELS = previous_limit

    source_format = image.format
    image = ImageOps.exif_transpose(image)
    image.thumbnail((max_side, max_side))
    out = io.BytesIO()
    if source_format == "PNG" and image.mode in ("RGBA", "LA", "P"):
        image.save(out, "PNG", optimize=True)
        extension = "png"
    else:
        image.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
        extension = "jpg"
    return ContentFile(out.getvalue(), name=f"{uuid.uuid4().hex}.{extension}")
