"""Content-addressed image storage: one file and one Upload row per sha256, and its URLs."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from models import Upload
from service_hub.auth.tokens import Principal
from service_hub.plumbing.errors import InvalidInput
from service_hub.plumbing.extensions import db
from service_hub.uploads.images import CONTENT_TYPES, CheckedImage
from service_hub.uploads.metadata import strip_metadata

MEDIA_NAME = re.compile(r"(?P<sha>[0-9a-f]{64})\.(?P<ext>" + "|".join(CONTENT_TYPES) + r")")
MAX_PHOTOS = 9


def media_name(sha256: str, extension: str) -> str:
    """The file name of an upload: `<sha256>.<ext>`, the last part of its URL."""
    return f"{sha256}.{extension}"


def media_url(upload: Upload) -> str:
    """Where clients fetch an upload: UPLOAD_URL_PREFIX + `<sha256>.<ext>`."""
    return current_app.config["UPLOAD_URL_PREFIX"] + media_name(upload.sha256, upload.extension)


def media_path(name: str) -> Path | None:
    """The file for a media name, or None when the name is not one we could have made.

    The strict pattern (64 hex digits, a known extension) is what keeps `..`, slashes and
    every other trick out of the path.
    """
    match = MEDIA_NAME.fullmatch(name)
    if match is None:
        return None
    return Path(current_app.config["UPLOAD_DIR"]) / match["sha"][:2] / name


def _write_atomically(path: Path, data: bytes) -> None:
    """Write the whole file or nothing: a temp file in the same folder, then os.replace."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=".upload-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as temp:
            temp.write(data)
            temp.flush()
            os.fsync(temp.fileno())
        os.chmod(temp_name, 0o644)  # mkstemp makes 0600; a front web server must read it
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def _find(sha256: str) -> Upload | None:
    return db.session.scalars(sa.select(Upload).where(Upload.sha256 == sha256)).first()


def store_image(image: CheckedImage, uploader: Principal) -> tuple[Upload, bool]:
    """Keep a checked image, stripped of its metadata, once per content hash of the bytes
    stored; returns (upload, created).

    The file is written before the row is committed, so a row never points at a missing
    file; the same bytes always land at the same path, so a lost race, or a file left
    without a row by a failed commit, is harmless. Re-encoding is deterministic, so the
    same upload again (or the same picture with other metadata) finds the first one.
    """
    image = strip_metadata(image)
    sha256 = hashlib.sha256(image.data).hexdigest()
    path = media_path(media_name(sha256, image.extension))
    assert path is not None  # a hex digest and one of our extensions always match
    existing = _find(sha256)
    if existing is not None:
        if not path.is_file():  # restore a file lost from disk; same bytes, same name
            _write_atomically(path, image.data)
        return existing, False
    if not path.is_file():
        _write_atomically(path, image.data)
    upload = Upload(
        sha256=sha256,
        content_type=image.content_type,
        extension=image.extension,
        size_bytes=len(image.data),
        width=image.width,
        height=image.height,
        uploader_kind=uploader.kind,
        uploader_id=uploader.id,
    )
    db.session.add(upload)
    try:
        db.session.commit()
    except IntegrityError:
        # Someone stored the same bytes between our look-up and our insert: theirs wins.
        db.session.rollback()
        winner = _find(sha256)
        if winner is None:
            raise
        return winner, False
    return upload, True


def _parse_our_url(url: object) -> tuple[str, str] | None:
    """(sha256, extension) of a URL of the form UPLOAD_URL_PREFIX + media name, else None."""
    prefix = current_app.config["UPLOAD_URL_PREFIX"]
    if not isinstance(url, str) or not url.startswith(prefix):
        return None
    match = MEDIA_NAME.fullmatch(url[len(prefix) :])
    return (match["sha"], match["ext"]) if match else None


def _foreign_urls(urls: list[str]) -> list[str]:
    """The URLs that are not of an image uploaded here."""
    parsed = {url: _parse_our_url(url) for url in urls}
    shas = {p[0] for p in parsed.values() if p}
    known: set[tuple[str, str]] = set()
    if shas:
        rows = db.session.execute(
            sa.select(Upload.sha256, Upload.extension).where(Upload.sha256.in_(shas))
        )
        known = {(sha, ext) for sha, ext in rows}
    return [url for url, p in parsed.items() if p is None or p not in known]


def urls_are_ours(urls: list[str]) -> bool:
    """True when every URL is of an image uploaded through POST /api/v1/uploads."""
    return not _foreign_urls(urls)


def validate_photo_urls(
    urls: list[str], max_count: int = MAX_PHOTOS, field: str = "photos"
) -> list[str]:
    """The photo URLs of a question, answer or review, once proven to be our uploads.

    Repeats are dropped (keeping the first). Raises InvalidInput (422) on more than
    `max_count` photos or on any URL that was not uploaded here, naming `field`.
    """
    unique = list(dict.fromkeys(urls))
    if len(unique) > max_count:
        raise InvalidInput(
            f"At most {max_count} photos.",
            code="too_many_photos",
            message_zh=f"最多 {max_count} 张图片",
            fields={field: [f"at most {max_count} photos"]},
        )
    foreign = _foreign_urls(unique)
    if foreign:
        raise InvalidInput(
            "Photos must be uploaded through /api/v1/uploads first.",
            code="photo_not_uploaded",
            message_zh="请先上传图片",
            fields={field: ["not an image uploaded here"]},
            details={"urls": foreign},
        )
    return unique
