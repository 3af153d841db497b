"""Uploads: POST an image (any signed-in user), get its URL; GET it back under /media/."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, request, send_file
from flask.views import MethodView
from flask_smorest import Blueprint
from werkzeug.exceptions import RequestEntityTooLarge

from service_hub.auth.access import current_principal, requires
from service_hub.plumbing.errors import ErrorSchema, InvalidInput, NotFound
from service_hub.plumbing.ratelimit import limit
from service_hub.uploads import images, storage
from service_hub.uploads.schemas import (
    MULTIPART_FILE_BODY,
    UploadSchema,
)

blp = Blueprint("uploads", __name__, description="Image uploads for questions, answers, reviews")

# Room for the multipart boundaries and part headers around the file itself.
MULTIPART_OVERHEAD_BYTES = 64 * 1024
# Content-addressed, so a URL's bytes never change: cache for a year.
MEDIA_CACHE_SECONDS = 365 * 24 * 3600


def _uploaded_bytes() -> bytes:
    """The `file` field's bytes, reading no more of the body than the limits allow."""
    max_bytes = current_app.config["MAX_UPLOAD_BYTES"]
    body_limit = max_bytes + MULTIPART_OVERHEAD_BYTES
    if request.content_length is not None and request.content_length > body_limit:
        raise images.upload_too_large(max_bytes)
    request.max_content_length = body_limit  # also bounds a chunked body with no length
    try:
        upload = request.files.get("file")
    except RequestEntityTooLarge as exc:
        raise images.upload_too_large(max_bytes) from exc
    if upload is None:
        raise InvalidInput(
            "Send the image as the multipart/form-data field `file`.",
            message_zh="请选择要上传的图片",
            fields={"file": ["Missing data for required field."]},
        )
    return images.read_limited(upload.stream, max_bytes)


@blp.route("/uploads")
class Uploads(MethodView):
    @requires(blp)
    @blp.doc(requestBody=MULTIPART_FILE_BODY)
    @blp.response(201, UploadSchema, description="stored")
    @blp.alt_response(
        200, schema=UploadSchema, description="these bytes were uploaded before", success=True
    )
    @blp.alt_response(413, schema=ErrorSchema, description="upload_too_large (MAX_UPLOAD_BYTES)")
    @blp.alt_response(
        422,
        schema=ErrorSchema,
        description="validation_error (no `file` field), not_an_image, or image_too_large "
        "(over MAX_UPLOAD_PIXELS, or a decompression bomb)",
    )
    @blp.alt_response(429, schema=ErrorSchema, description="rate limited")
    @limit("upload")
    def post(self):
        """Upload an image; answers the URL to put in a question, answer or review.

        The file is checked by its content (JPEG, PNG, WebP, GIF), then re-encoded with its
        EXIF orientation applied and without metadata (EXIF with GPS, XMP, comments), and
        named by the sha256 of the stored bytes, so the same image uploaded twice has one
        URL; width and height are those stored. It is served at that URL (by default
        `/media/<sha256>.<ext>`) to anyone, without a token.
        """
        data = _uploaded_bytes()
        image = images.check_image(data, current_app.config["MAX_UPLOAD_PIXELS"])
        upload, created = storage.store_image(image, current_principal())
        body = {
            "id": upload.id,
            "url": storage.media_url(upload),
            "content_type": upload.content_type,
            "width": upload.width,
            "height": upload.height,
            "size_bytes": upload.size_bytes,
            "sha256": upload.sha256,
        }
        return body, 201 if created else 200


def serve_media(name: str):
    """An uploaded image by its content-hash name; 404 in the one error shape otherwise."""
    path = storage.media_path(name)
    if path is None or not path.is_file():
        raise NotFound("No such image.", code="media_not_found", message_zh="图片不存在")
    extension = name.rsplit(".", 1)[1]
    response = send_file(
        path,
        mimetype=images.CONTENT_TYPES[extension],
        conditional=True,
        etag=name.split(".", 1)[0],
        max_age=MEDIA_CACHE_SECONDS,
    )
    response.headers["Cache-Control"] = f"public, max-age={MEDIA_CACHE_SECONDS}, immutable"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@blp.record_once
def _register_media_route(state) -> None:
    """Serve uploads at the path of UPLOAD_URL_PREFIX, outside /api/v1, and align Pillow.

    Only the path of the prefix is routed (a CDN origin in the prefix is the CDN's job).
    Not in the OpenAPI document, which describes /api/v1; the POST's description names it.
    """
    app = state.app
    path = urlsplit(app.config["UPLOAD_URL_PREFIX"]).path.rstrip("/")
    app.add_url_rule(f"{path}/<name>", endpoint="uploads_media", view_func=serve_media)
    images.set_pixel_limit(app.config["MAX_UPLOAD_PIXELS"])
