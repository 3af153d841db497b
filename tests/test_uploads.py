"""Image uploads: checked by content, stored once per hash, served back, and vouched for."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import ExifTags, Image, ImageCms, PngImagePlugin

from models import Upload
from service_hub.plumbing.errors import InvalidInput
from service_hub.plumbing.extensions import db
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
    response = post_file(client, auth, image_bytes(fmt, size=(64, 48)), filename="whatever.bin")
    assert response.status_code == 201
    [path] = stored_files(upload_dir)
    stored = path.read_bytes()
    sha = hashlib.sha256(stored).hexdigest()
    assert path == upload_dir / sha[:2] / f"{sha}.{extension}"
    assert response.json == {
        "id": response.json["id"],
        "url": f"/media/{sha}.{extension}",
        "content_type": content_type,
        "width": 64,
        "height": 48,
        "size_bytes": len(stored),
        "sha256": sha,
    }


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
    [path] = stored_files(upload_dir)
    stored = path.read_bytes()
    path.unlink()
    assert client.get(url).status_code == 404
    assert post_file(client, auth, data).status_code == 200
    assert client.get(url).data == stored


def test_an_uploaded_image_is_served_with_its_bytes_and_type(client, auth, upload_dir):
    url = post_file(client, auth, image_bytes("WEBP")).json["url"]
    [path] = stored_files(upload_dir)
    response = client.get(url)
    assert response.status_code == 200
    assert response.data == path.read_bytes()
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


XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-'
    b'syntax-ns#"><rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" '
    b'exif:GPSLatitude="31,11.4N" exif:GPSLongitude="121,26.4E"/></rdf:RDF></x:xmpmeta>'
)


def exif_with_gps(orientation: int = 1) -> Image.Exif:
    """EXIF as a phone writes it: where the photo was taken, and which way is up."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Model] = "Phone 15"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (31.0, 11.0, 24.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (121.0, 26.0, 24.0)
    return exif


def phone_photo(orientation: int = 6) -> bytes:
    """A 40×20 JPEG, red on the left and blue on the right as the sensor saw it, with GPS
    EXIF, an orientation tag (6: turn 90° clockwise to view), XMP and a comment."""
    picture = Image.new("RGB", (40, 20), "blue")
    picture.paste("red", (0, 0, 20, 20))
    buffer = io.BytesIO()
    picture.save(
        buffer, "JPEG", exif=exif_with_gps(orientation), xmp=XMP, comment="家里", quality=95
    )
    return buffer.getvalue()


def stored_image(upload_dir: Path) -> Image.Image:
    [path] = stored_files(upload_dir)
    image = Image.open(path)
    image.load()
    return image


def test_a_photo_is_stored_without_its_exif_xmp_or_comment(client, auth, upload_dir):
    assert Image.open(io.BytesIO(phone_photo())).getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert post_file(client, auth, phone_photo(), filename="photo.jpg").status_code == 201
    stored = stored_image(upload_dir)
    assert dict(stored.getexif()) == {}
    assert not {"exif", "xmp", "comment"} & set(stored.info)
    [path] = stored_files(upload_dir)
    assert b"GPSLatitude" not in path.read_bytes()


def test_a_photo_is_stored_turned_the_way_its_orientation_tag_said(client, auth, upload_dir):
    response = post_file(client, auth, phone_photo(orientation=6), filename="photo.jpg")
    assert (response.json["width"], response.json["height"]) == (20, 40)
    stored = stored_image(upload_dir).convert("RGB")
    assert stored.size == (20, 40)
    red, green, blue = stored.getpixel((10, 10))  # the sensor's left is the viewer's top
    assert red > 200 and blue < 60
    red, green, blue = stored.getpixel((10, 30))
    assert blue > 200 and red < 60


def test_an_upload_is_named_by_the_hash_of_the_bytes_stored(client, auth, upload_dir):
    data = phone_photo()
    body = post_file(client, auth, data, filename="photo.jpg").json
    [path] = stored_files(upload_dir)
    stored = path.read_bytes()
    assert stored != data
    assert body["sha256"] == hashlib.sha256(stored).hexdigest() == path.name.split(".")[0]
    assert body["url"] == f"/media/{body['sha256']}.jpg"
    assert body["size_bytes"] == len(stored)
    assert client.get(body["url"]).data == stored


def _png_with_metadata() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Location", "上海市徐汇区某小区 3 号楼")
    info.add_itxt("XML:com.adobe.xmp", XMP.decode())
    buffer = io.BytesIO()
    Image.new("RGBA", (30, 20), "teal").save(buffer, "PNG", pnginfo=info, exif=exif_with_gps())
    return buffer.getvalue()


def _webp_with_metadata() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (30, 20), "teal").save(buffer, "WEBP", exif=exif_with_gps(), xmp=XMP)
    return buffer.getvalue()


def _gif_with_metadata() -> bytes:
    buffer = io.BytesIO()
    Image.new("P", (30, 20), 3).save(buffer, "GIF", comment="上海市徐汇区某小区 3 号楼")
    return buffer.getvalue()


@pytest.mark.parametrize("make", [_png_with_metadata, _webp_with_metadata, _gif_with_metadata])
def test_every_format_is_stored_without_metadata(client, auth, upload_dir, make):
    assert post_file(client, auth, make()).status_code == 201
    stored = stored_image(upload_dir)
    assert dict(stored.getexif()) == {}
    assert not {"exif", "xmp", "XML:com.adobe.xmp", "comment", "Location"} & set(stored.info)
    [path] = stored_files(upload_dir)
    assert "上海".encode() not in path.read_bytes()
    assert b"GPSLatitude" not in path.read_bytes()


def test_an_animation_is_stored_with_every_frame_and_its_timing(client, auth, upload_dir):
    frames = [Image.new("RGB", (20, 20), colour) for colour in ("red", "green", "blue")]
    buffer = io.BytesIO()
    frames[0].save(
        buffer, "GIF", save_all=True, append_images=frames[1:], duration=[100, 200, 300], loop=0
    )
    assert post_file(client, auth, buffer.getvalue(), filename="anim.gif").status_code == 201
    stored = stored_image(upload_dir)
    assert stored.n_frames == 3
    durations = []
    for index in range(3):
        stored.seek(index)
        durations.append(stored.info["duration"])
        assert stored.convert("RGB").getpixel((10, 10)) == frames[index].getpixel((10, 10))
    assert durations == [100, 200, 300]
    assert stored.info["loop"] == 0


@pytest.mark.parametrize(("profile", "kept"), [("sRGB", False), ("XYZ", True)])
def test_a_colour_profile_is_kept_only_when_the_colours_need_it(
    client, auth, upload_dir, profile, kept
):
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile(profile)).tobytes()
    buffer = io.BytesIO()
    Image.new("RGB", (30, 20), "teal").save(buffer, "JPEG", icc_profile=icc)
    assert post_file(client, auth, buffer.getvalue(), filename="photo.jpg").status_code == 201
    assert stored_image(upload_dir).info.get("icc_profile") == (icc if kept else None)
