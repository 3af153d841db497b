"""Uploaded images, stored once per content hash."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import UTCDateTime, utcnow
from service_hub.plumbing.extensions import db


class Upload(db.Model):
    """An image a signed-in user uploaded; the file lives under UPLOAD_DIR by its sha256."""

    __tablename__ = "upload"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(sa.String(64), unique=True)
    content_type: Mapped[str] = mapped_column(sa.String(32))
    extension: Mapped[str] = mapped_column(sa.String(8))
    size_bytes: Mapped[int]
    width: Mapped[int]
    height: Mapped[int]
    uploader_kind: Mapped[str] = mapped_column(sa.String(16))
    uploader_id: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
