"""What an uploaded file really is: read it within the size limit and check it is an image."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from io import BytesIO
from typing import BinaryIO

from PIL import Image

from service_hub.plumbing.errors import AppError, InvalidInput

# Pillow's format id → (Content-Type, file extension). MPO is how Pillow names the JPEGs
# that many phone cameras write (a JPEG with extra preview frames); browsers see a JPEG.
ACCEPTED_FORMATS: dict[str, tuple[str, str]] = {
    "JPEG": ("image/jpeg", "jpg"),
    "MPO": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
    "GIF": ("image/gif", "gif"),
}
CONTENT_TYPES: dict[str, str] = {ext: ctype for ctype, ext in ACCEPTED_FORMATS.values()}
# The openers to try; Pillow's JPEG opener is the one that returns MPO images.
OPENERS = ("JPEG", "PNG", "WEBP", "GIF")


class UploadTooLarge(AppError):
    """The file is bigger than MAX_UPLOAD_BYTES."""

    status, code = 413, "upload_too_large"


class NotAnImage(InvalidInput):
    """The bytes are not a whole JPEG, PNG, WebP or GIF image."""

    code = "not_an_image"


class ImageTooLarge(InvalidInput):
    """The image has more pixels than MAX_UPLOAD_PIXELS (or is a decompression bomb)."""

    code = "image_too_large"


@dataclass(frozen=True)
class CheckedImage:
    """An upload's bytes, proven to be an image we accept, with what we learnt about it."""

    data: bytes
    content_type: str
    extension: str
    width: int
    height: int


def set_pixel_limit(max_pixels: int) -> None:
    """Make Pillow's own decompression-bomb guard match MAX_UPLOAD_PIXELS.

    Pillow keeps the limit in a module global, so it is process-wide: set once when the
    uploads blueprint is registered. `check_image` still compares every image with the
    limit it is given, so a different per-app setting is enforced all the same.
    """
    Image.MAX_IMAGE_PIXELS = max_pixels


def upload_too_large(max_bytes: int) -> UploadTooLarge:
    """The error for a file over the byte limit."""
    return UploadTooLarge(
        f"The file is larger than {max_bytes} bytes.",
        message_zh=f"图片不能超过 {max_bytes // (1024 * 1024) or 1} MB",
        details={"max_bytes": max_bytes},
    )


def read_limited(stream: BinaryIO, max_bytes: int) -> bytes:
    """All of `stream`, reading at most one byte past `max_bytes` to tell it is too long."""
    chunks: list[bytes] = []
    remaining = max_bytes + 1
    while remaining > 0:
        chunk = stream.read(min(remaining, 64 * 1024))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    data = b"".join(chunks)
    if len(data) > max_bytes:
        raise upload_too_large(max_bytes)
    return data


def not_an_image() -> NotAnImage:
    """The refusal of bytes that are not a whole image we accept."""
    return NotAnImage(
        "The file is not a complete JPEG, PNG, WebP or GIF image.",
        message_zh="请上传 JPG、PNG、WebP 或 GIF 图片",
        fields={"file": ["not a complete JPEG, PNG, WebP or GIF image"]},
    )


def _too_many_pixels(max_pixels: int, size: tuple[int, int] | None = None) -> ImageTooLarge:
    details: dict = {"max_pixels": max_pixels}
    if size:
        details.update(width=size[0], height=size[1])
    return ImageTooLarge(
        f"The image has more than {max_pixels} pixels.",
        message_zh="图片尺寸过大",
        fields={"file": [f"more than {max_pixels} pixels"]},
        details=details,
    )


def check_image(data: bytes, max_pixels: int) -> CheckedImage:
    """Prove `data` is a whole image of an accepted format, within `max_pixels`.

    Only the content counts, never a file name or a client's Content-Type. The header is
    read first, so an image too large is refused before any pixel is decoded; then the
    file is verified (chunk checksums) and its first frame decoded, which catches the
    truncation that verify() cannot see in JPEG and WebP. Animated images count the
    pixels of every frame, since a viewer decodes them all.
    """
    try:
        # Pillow warns between MAX_IMAGE_PIXELS and twice that, and raises beyond; treat
        # both as refusals. (catch_warnings is process-wide; our own size check below is
        # what enforces the limit, this only keeps the warning from passing silently.)
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(BytesIO(data), formats=OPENERS) as image:
                size = image.size
                if size[0] * size[1] > max_pixels:
                    raise _too_many_pixels(max_pixels, size)
                image.verify()
            with Image.open(BytesIO(data), formats=OPENERS) as image:
                image_format = image.format or ""
                # Viewers play every frame of a GIF, APNG or WebP, but show only the first
                # picture of an MPO (a phone JPEG with extra pictures).
                animated = image_format in ("GIF", "PNG", "WEBP")
                frames = getattr(image, "n_frames", 1) if animated else 1
                if size[0] * size[1] * frames > max_pixels:
                    raise _too_many_pixels(max_pixels, size)
                if image_format in ("JPEG", "MPO"):
                    # Decoding at 1/8 scale still reads every coded byte, at 1/64 the memory.
                    image.draft(None, (max(1, size[0] // 8), max(1, size[1] // 8)))
                image.load()
    except AppError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_many_pixels(max_pixels) from exc
    except Exception as exc:  # untrusted bytes: any parser failure means "not an image"
        raise not_an_image() from exc
    if image_format not in ACCEPTED_FORMATS:
        raise not_an_image()
    content_type, extension = ACCEPTED_FORMATS[image_format]
    return CheckedImage(
        data=data, content_type=content_type, extension=extension, width=size[0], height=size[1]
    )
