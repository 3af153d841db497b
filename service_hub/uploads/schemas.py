"""Bodies of the upload routes: the multipart request body and the stored image."""

from __future__ import annotations

import marshmallow as ma

MULTIPART_FILE_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": "a JPEG, PNG, WebP or GIF image, judged by its content",
                    }
                },
            }
        }
    },
}


class UploadSchema(ma.Schema):
    """A stored image and where to fetch it."""

    id = ma.fields.Integer(required=True)
    url = ma.fields.String(
        required=True, metadata={"description": "UPLOAD_URL_PREFIX + <sha256>.<ext>"}
    )
    content_type = ma.fields.String(required=True, metadata={"example": "image/jpeg"})
    width = ma.fields.Integer(required=True)
    height = ma.fields.Integer(required=True)
    size_bytes = ma.fields.Integer(required=True)
    sha256 = ma.fields.String(required=True)
