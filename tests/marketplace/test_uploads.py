"""marketplace.core.uploads.clean_image: the only way an uploaded photo gets in.

Also the image builders the other upload tests use (real files made with Pillow)."""

import io
import struct
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from PIL import Image

from marketplace.core.uploads import clean_image

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def image_bytes(fmt="JPEG", size=(64, 48), color=(200, 120, 40), exif=None, mode="RGB") -> bytes:
    out = io.BytesIO()
    image = Image.new(mode, size, color)
    kwargs = {"exif": exif} if exif is not None else {}
    image.save(out, fmt, **kwargs)
    return out.getvalue()


def jpeg_with_gps() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[GPS_IFD] = {1: "N", 2: (12.0, 40.0, 0.0), 3: "E", 4: (108.0, 3.0, 0.0)}
    data = image_bytes(exif=exif)
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(GPS_IFD)  # it really has GPS
    return data


def png_bomb(width=100_000, height=100_000) -> bytes:
    """A tiny PNG whose header claims a huge image (IHDR patched, CRC recomputed)."""
    data = bytearray(image_bytes("PNG", size=(1, 1)))
    # 8-byte signature, then the IHDR chunk: length (4), type (4), data (13), CRC (4).
    assert data[12:16] == b"IHDR"
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])) & 0xFFFFFFFF)
    return bytes(data)


def upload(data: bytes, name="photo.jpg", content_type="image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def open_result(content) -> Image.Image:
    content.seek(0)
    return Image.open(io.BytesIO(content.read()))


@pytest.mark.parametrize(
    ("fmt", "name", "extension"),
    [("JPEG", "a.jpg", "jpg"), ("PNG", "a.png", "jpg"), ("WEBP", "a.webp", "jpg")],
)
def test_accepts_jpeg_png_and_webp_and_re_encodes_them(fmt, name, extension):
    result = clean_image(upload(image_bytes(fmt), name=name))
    image = open_result(result)
    assert image.format == "JPEG"
    assert image.size == (64, 48)
    assert result.name.endswith("." + extension)


def test_a_transparent_png_stays_a_png():
    data = image_bytes("PNG", mode="RGBA", color=(0, 0, 0, 0))
    result = clean_image(upload(data, name="logo.png"))
    assert open_result(result).format == "PNG"
    assert result.name.endswith(".png")


def test_gets_a_server_generated_name_not_the_uploaded_one():
    first = clean_image(upload(image_bytes(), name="../../etc/nha-toi.jpg"))
    second = clean_image(upload(image_bytes(), name="../../etc/nha-toi.jpg"))
    assert "nha-toi" not in first.name and "/" not in first.name and ".." not in first.name
    assert first.name != second.name
    assert len(first.name.split(".")[0]) == 32  # a UUID in hex


def test_strips_exif_gps_included():
    result = clean_image(upload(jpeg_with_gps()))
    exif = open_result(result).getexif()
    assert not exif.get_ifd(GPS_IFD)
    assert len(exif) == 0


def test_applies_the_exif_orientation():
    exif = Image.Exif()
    exif[ORIENTATION] = 6  # the camera was turned: rotate 90° on display
    data = image_bytes(size=(80, 40), exif=exif)
    assert Image.open(io.BytesIO(data)).size == (80, 40)
    image = open_result(clean_image(upload(data)))
    assert image.size == (40, 80)
    assert ORIENTATION not in image.getexif()


def test_scales_big_photos_down():
    image = open_result(clean_image(upload(image_bytes(size=(3000, 1500)))))
    assert image.size == (2000, 1000)


@pytest.mark.parametrize(
    ("data", "name", "code", "english", "vietnamese"),
    [
        (image_bytes("GIF", mode="P", color=1), "a.gif", "format", "JPEG, PNG or WebP", "ảnh"),
        (b"Day la mot tep van ban.\n" * 20, "photo.jpg", "invalid", "not a photo", "không phải"),
        (image_bytes(size=(400, 300))[:600], "cut.jpg", "invalid", "not a photo", "không phải"),
        (png_bomb(), "bomb.png", "bomb", "too large to process", "quá lớn"),
        (b"", "empty.jpg", "invalid", "not a photo", "không phải"),
    ],
    ids=["gif", "text", "truncated-jpeg", "decompression-bomb", "empty"],
)
def test_refuses_what_is_not_an_acceptable_photo_with_a_message(
    data, name, code, english, vietnamese
):
    with pytest.raises(ValidationError) as caught:
        clean_image(upload(data, name=name))
    assert caught.value.code == code
    assert vietnamese in " ".join(caught.value.messages)  # the site speaks Vietnamese first
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        clean_image(upload(data, name=name))
    assert english in " ".join(caught.value.messages)


def test_refuses_files_over_10_mb_before_opening_them():
    big = upload(b"\xff\xd8" + b"0" * (10 * 1024 * 1024 + 10))
    with pytest.raises(ValidationError) as caught:
        clean_image(big)
    assert caught.value.code == "too_large"
