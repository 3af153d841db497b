"""Image uploads: checked by content, stored once per hash, served back, and vouched for."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image

from models import Upload
from service_hub.errors import InvalidInput
from service_hub.extensions import db
from service_hub.uploads import storage
from tests import factories as f

UPLOADS = "/api/v1/uploads"


@pytest.fixture(autouse=True)
def upload_dir(app, tmp_path, monkeypatch) -> Path:
    """Every test stores its files in a folder of its own."""
    folder = tmp_path / "uploads"
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(folder))
    return folder


@pytest.fixture
def auth(app) -> dict:
    return f.resident_auth(app, f.resident(app))


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (30, 20), mode: str = "RGB") -> bytes:
    """An image made in memory, in one colour."""
    buffer = io.BytesIO()
    Image.new(mode, size, 1 if mode == "1" else "teal").save(buffer, fmt)
    return buffer.getvalue()


def noise_bytes(fmt: str, size: tuple[int, int]) -> bytes:
    """An image of random pixels, so it compresses badly (big files, long JPEG scans)."""
    buffer = io.BytesIO()
    pixels = os.urandom(size[0] * size[1] * 3)
    Image.frombytes("RGB", size, pixels).save(buffer, fmt)
    return buffer.getvalue()


def post_file(client, headers: dict, data: bytes, filename: str = "photo.png"):
    return client.post(
        UPLOADS,
        data={"file": (io.BytesIO(data), filename)},
        headers=headers,
        content_type="multipart/form-data",
    )


def stored_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def upload_rows(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Upload))


def assert_nothing_stored(app, folder: Path) -> None:
    assert stored_files(folder) == []
    assert upload_rows(app) == 0


@pytest.mark.parametrize(
    ("fmt", "content_type", "extension"),
    [
        ("PNG", "image/png", "png"),
        ("JPEG", "image/jpeg", "jpg"),
        ("WEBP", "image/webp", "webp"),
        ("GIF", "image/gif", "gif"),
    ],
)
def test_an_image_is_stored_with_its_type_and_dimensions(
    client, auth, upload_dir, fmt, content_type, extension
):
    data = image_bytes(fmt, size=(64, 48))
    response = post_file(client, auth, data, filename="whatever.bin")
    assert response.status_code == 201
    sha = hashlib.sha256(data).hexdigest()
    assert response.json == {
        "id": response.json["id"],
        "url": f"/media/{sha}.{extension}",
        "content_type": content_type,
        "width": 64,
        "height": 48,
        "size_bytes": len(data),
        "sha256": sha,
    }
    assert (upload_dir / sha[:2] / f"{sha}.{extension}").read_bytes() == data


def test_the_same_bytes_uploaded_twice_have_one_url_one_file_and_one_row(
    app, client, auth, upload_dir
):
    data = image_bytes("JPEG")
    first = post_file(client, auth, data)
    again = post_file(client, f.resident_auth(app, f.resident(app)), data)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json == first.json
    assert len(stored_files(upload_dir)) == 1
    assert upload_rows(app) == 1


def test_staff_can_upload_too(app, client):
    headers = f.engineer_auth(app, f.engineer(app))
    assert post_file(client, headers, image_bytes()).status_code == 201


def test_a_text_file_named_like_a_png_is_refused_and_nothing_is_stored(
    app, client, auth, upload_dir
):
    response = client.post(
        UPLOADS,
        data={"file": (io.BytesIO(b"just some text\n" * 20), "x.png", "image/png")},
        headers=auth,
    )
    assert response.status_code == 422
    assert response.json["error"]["code"] == "not_an_image"
    assert_nothing_stored(app, upload_dir)


def test_a_truncated_png_is_refused(app, client, auth, upload_dir):
    data = noise_bytes("PNG", (64, 64))
    response = post_file(client, auth, data[: len(data) // 2])
    assert response.status_code == 422
    assert response.json["error"]["code"] == "not_an_image"
    assert_nothing_stored(app, upload_dir)


def test_a_truncated_jpeg_is_refused(app, client, auth, upload_dir):
    data = noise_bytes("JPEG", (256, 256))
    response = post_file(client, auth, data[: len(data) // 2], filename="photo.jpg")
    assert response.status_code == 422
    assert response.json["error"]["code"] == "not_an_image"
    assert_nothing_stored(app, upload_dir)


def test_a_file_over_the_byte_limit_is_refused_with_413(app, client, auth, upload_dir, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_UPLOAD_BYTES", 1000)
    data = noise_bytes("PNG", (40, 40))
    assert len(data) > 1000
    response = post_file(client, auth, data)
    assert response.status_code == 413
    assert response.json["error"]["code"] == "upload_too_large"
    assert_nothing_stored(app, upload_dir)


def test_a_body_far_over_the_byte_limit_is_refused_with_413(app, client, auth, upload_dir):
    data = b"\0" * (app.config["MAX_UPLOAD_BYTES"] + 1024 * 1024)
    response = post_file(client, auth, data)
    assert response.status_code == 413
    assert response.json["error"]["code"] == "upload_too_large"
    assert_nothing_stored(app, upload_dir)


def test_an_image_of_too_many_pixels_is_refused(app, client, auth, upload_dir):
    # 100 million 1-bit pixels compress to a few kilobytes: a decompression bomb.
    data = image_bytes("PNG", size=(10_000, 10_000), mode="1")
    assert len(data) < 100_000
    response = post_file(client, auth, data)
    assert response.status_code == 422
    assert response.json["error"]["code"] == "image_too_large"
    assert_nothing_stored(app, upload_dir)


def test_an_image_over_the_configured_pixel_limit_is_refused(
    app, client, auth, upload_dir, monkeypatch
):
    monkeypatch.setitem(app.config, "MAX_UPLOAD_PIXELS", 30 * 20 - 1)
    response = post_file(client, auth, image_bytes("PNG", size=(30, 20)))
    assert response.status_code == 422
    assert response.json["error"]["code"] == "image_too_large"
    assert response.json["error"]["details"]["width"] == 30
    assert_nothing_stored(app, upload_dir)


def test_an_animation_counts_the_pixels_of_every_frame(app, client, auth, upload_dir, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_UPLOAD_PIXELS", 1000)
    colours = ("red", "green", "blue", "white", "black")
    frames = [Image.new("RGB", (20, 20), colour) for colour in colours]  # 5 × 400 pixels
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:])
    response = post_file(client, auth, buffer.getvalue(), filename="anim.gif")
    assert response.status_code == 422
    assert response.json["error"]["code"] == "image_too_large"
    assert_nothing_stored(app, upload_dir)


def test_a_request_without_the_file_field_is_a_validation_error(client, auth):
    response = client.post(UPLOADS, data={"photo": "x"}, headers=auth)
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_error"
    assert "file" in response.json["error"]["fields"]


def test_an_anonymous_upload_is_refused_with_401(app, client, upload_dir):
    response = post_file(client, {}, image_bytes())
    assert response.status_code == 401
    assert response.json["error"]["code"] == "auth_required"
    assert_nothing_stored(app, upload_dir)


def test_a_lost_insert_race_answers_the_winners_upload(app, auth, monkeypatch):
    data = image_bytes()
    with app.test_client() as client:
        winner = post_file(client, auth, data).json
    real_find = storage._find
    calls = []

    def find_nothing_first(sha256):
        """The first look-up misses, as if the winner committed just after it."""
        calls.append(sha256)
        return None if len(calls) == 1 else real_find(sha256)

    monkeypatch.setattr(storage, "_find", find_nothing_first)
    with app.test_client() as client:
        response = post_file(client, auth, data)
    assert response.status_code == 200
    assert response.json == winner
    assert upload_rows(app) == 1


def test_a_file_lost_from_disk_is_restored_by_uploading_it_again(client, auth, upload_dir):
    data = image_bytes()
    url = post_file(client, auth, data).json["url"]
    for path in stored_files(upload_dir):
        path.unlink()
    assert client.get(url).status_code == 404
    assert post_file(client, auth, data).status_code == 200
    assert client.get(url).data == data


def test_an_uploaded_image_is_served_with_its_bytes_and_type(client, auth):
    data = image_bytes("WEBP")
    url = post_file(client, auth, data).json["url"]
    response = client.get(url)
    assert response.status_code == 200
    assert response.data == data
    assert response.headers["Content-Type"] == "image/webp"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "immutable" in response.headers["Cache-Control"]


def test_an_unknown_media_name_is_a_json_404(client):
    response = client.get(f"/media/{'ab' * 32}.png")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "media_not_found"


@pytest.mark.parametrize(
    "path",
    [
        "/media/../secret.png",
        "/media/..%2Fsecret.png",
        "/media/%2e%2e%2f%2e%2e%2fsecret.png",
        "/media/..%5Csecret.png",
        "/media/secret.png",
    ],
)
def test_a_path_outside_the_store_is_a_404(client, upload_dir, path):
    upload_dir.mkdir(parents=True, exist_ok=True)
    (upload_dir.parent / "secret.png").write_bytes(image_bytes())
    (upload_dir / "secret.png").write_bytes(image_bytes())
    response = client.get(path)
    assert response.status_code == 404
    assert response.json["error"]["code"] in ("not_found", "media_not_found")


def test_a_stored_file_is_not_reachable_by_its_folder_path(client, auth):
    sha = post_file(client, auth, image_bytes()).json["sha256"]
    assert client.get(f"/media/{sha[:2]}/{sha}.png").status_code == 404


def test_photo_urls_uploaded_here_are_accepted(app, client, auth):
    urls = [post_file(client, auth, image_bytes(size=(n, n))).json["url"] for n in (5, 6)]
    with app.test_request_context():
        assert storage.validate_photo_urls(urls + urls[:1]) == urls
        assert storage.urls_are_ours(urls)


@pytest.mark.parametrize(
    "foreign",
    [
        "https://example.com/cat.png",
        f"/media/{'cd' * 32}.png",  # well formed, never uploaded
        "/media/../etc/passwd",
    ],
)
def test_photo_urls_not_uploaded_here_are_refused(app, client, auth, foreign):
    ours = post_file(client, auth, image_bytes()).json["url"]
    with app.test_request_context():
        assert not storage.urls_are_ours([ours, foreign])
        with pytest.raises(InvalidInput) as refused:
            storage.validate_photo_urls([ours, foreign])
    assert refused.value.code == "photo_not_uploaded"
    assert refused.value.details == {"urls": [foreign]}


def test_a_photo_url_with_the_wrong_extension_is_refused(app, client, auth):
    url = post_file(client, auth, image_bytes("PNG")).json["url"]
    with app.test_request_context():
        assert not storage.urls_are_ours([url.replace(".png", ".jpg")])


def test_more_than_nine_photos_are_refused(app, client, auth):
    urls = [post_file(client, auth, image_bytes(size=(n, n))).json["url"] for n in range(1, 11)]
    with app.test_request_context():
        assert storage.validate_photo_urls(urls[:9]) == urls[:9]
        with pytest.raises(InvalidInput) as refused:
            storage.validate_photo_urls(urls)
    assert refused.value.code == "too_many_photos"


def test_the_upload_is_documented_as_a_multipart_file(client):
    operation = client.get("/api/v1/openapi.json").json["paths"][UPLOADS]["post"]
    schema = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert schema["properties"]["file"] == {**schema["properties"]["file"], "format": "binary"}
    assert schema["required"] == ["file"]
    assert {"200", "201", "401", "413", "422"} <= set(operation["responses"])
