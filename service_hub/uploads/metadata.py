"""Stored images say nothing about where, when or with what they were taken.

Uploads are public, and a phone photo's EXIF holds the GPS position of a resident's home.
Rather than hunting for every place a format can hide metadata (EXIF and its thumbnail, XMP,
comments, PNG text chunks, MPO's extra pictures), the pixels are re-encoded into a new file
that carries only what is needed to show them: the orientation is applied first (so dropping
the tag does not turn the photo on its side), then EXIF, XMP, comments and text are left out;
an ICC colour profile is kept only when it is not sRGB (what viewers assume anyway).
"""

from __future__ import annotations

import dataclasses
from io import BytesIO

from PIL import Image, ImageCms, ImageOps, ImageSequence, JpegImagePlugin

from service_hub.uploads.images import OPENERS, CheckedImage, not_an_image

# Lossy WebP is re-encoded at a quality that keeps a photo as it was; JPEG reuses the
# original's quantisation tables instead, so it loses nothing more than rounding.
WEBP_QUALITY = 90
# What a frame keeps of Pillow's `info`: how to draw it, never what it says.
_DRAWING_INFO = ("transparency",)


def strip_metadata(image: CheckedImage) -> CheckedImage:
    """The same picture, oriented, re-encoded in its format without metadata.

    Width and height are those of the clean image (swapped when the orientation turned it).
    An image that was accepted but cannot be re-encoded is refused like one that is not an
    image, rather than stored with its metadata.
    """
    try:
        with Image.open(BytesIO(image.data), formats=OPENERS) as source:
            data, size = _reencode(source)
    except Exception as exc:  # untrusted bytes: refuse rather than store them unclean
        raise not_an_image() from exc
    return dataclasses.replace(image, data=data, width=size[0], height=size[1])


def _reencode(source: Image.Image) -> tuple[bytes, tuple[int, int]]:
    source_format = source.format or ""
    # An MPO (a phone JPEG with extra pictures) is stored as its first picture, as viewers
    # show it; GIF, APNG and WebP keep every frame of an animation.
    animated = source_format in ("GIF", "PNG", "WEBP") and getattr(source, "n_frames", 1) > 1
    loop = source.info.get("loop")
    icc_profile = source.info.get("icc_profile")
    options: dict = {}
    if source_format in ("JPEG", "MPO"):
        options["qtables"] = source.quantization
        subsampling = JpegImagePlugin.get_sampling(source)
        if subsampling != -1:
            options["subsampling"] = subsampling
    elif source_format == "WEBP":
        options["quality"] = WEBP_QUALITY
    frames: list[Image.Image] = []
    durations: list[float] = []
    for frame in ImageSequence.Iterator(source) if animated else [source]:
        durations.append(frame.info.get("duration", 0))
        oriented = ImageOps.exif_transpose(frame)  # a new image, the tag's turn applied
        oriented.info = {key: frame.info[key] for key in _DRAWING_INFO if key in frame.info}
        frames.append(oriented)
    if icc_profile and _colour_profile_needed(icc_profile):
        options["icc_profile"] = icc_profile
    if animated:
        options.update(save_all=True, append_images=frames[1:], duration=durations)
        if loop is not None:
            options["loop"] = loop
    out = BytesIO()
    frames[0].save(out, "JPEG" if source_format == "MPO" else source_format, **options)
    return out.getvalue(), frames[0].size


def _colour_profile_needed(icc_profile: bytes) -> bool:
    """Whether the picture needs its ICC profile to show true colours: any profile but sRGB
    (a wide-gamut phone photo in Display P3 looks dull without it)."""
    try:
        profile = ImageCms.ImageCmsProfile(BytesIO(icc_profile))
        description = ImageCms.getProfileDescription(profile)
    except (ImageCms.PyCMSError, OSError, ValueError):
        return False  # a profile no colour engine can read helps no viewer either
    return "srgb" not in description.lower()
