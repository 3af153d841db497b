"""Bulk community import: upsert by external_code, bad rows reported by line, role and region
checks, the request row limit, and the `flask import-communities` command."""

from __future__ import annotations

import io
import random
import threading

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DataError

from models import Community
from service_hub.communities import importer
from service_hub.plumbing.extensions import db
from service_hub.plumbing.geo import cell_of
from tests import factories as f

HEADER = ",".join(importer.COLUMNS)
URL = "/api/v1/communities/import"


def row(code: str, **overrides) -> str:
    """One CSV line: a community in Shanghai unless overridden."""
    fields = {
        "external_code": code,
        "name": f"小区{code}",
        "province": "上海市",
        "city": "上海市",
        "district": "徐汇区",
        "address": "测试路1号",
        "lat": "31.19",
        "lng": "121.44",
        "household_count": "800",
        "tier": "B",
        "status": "active",
        **overrides,
    }
    return ",".join(str(fields[c]) for c in importer.COLUMNS)


def csv_bytes(*lines: str, header: str = HEADER, bom: bool = False) -> bytes:
    """A CSV file from a header and lines."""
    text = "\n".join([header, *lines]) + "\n"
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode()


def upload(client, content: bytes, headers: dict):
    """POST the file as multipart/form-data, field `file`."""
    return client.post(
        URL,
        data={"file": (io.BytesIO(content), "communities.csv")},
        headers=headers,
        content_type="multipart/form-data",
    )


def admin(app) -> dict:
    return f.staff_auth(app, f.staff(app, "admin"), "admin")


def stored(app, code: str) -> Community | None:
    """The stored community with this external_code."""
    with app.app_context():
        community = db.session.scalar(sa.select(Community).where(Community.external_code == code))
        if community is not None:
            db.session.expunge(community)
        return community


def test_import_inserts_communities_with_their_grid_cell(app, client):
    content = csv_bytes(row("N1", lat="39.9", lng="116.4", tier="a"), row("N2"))
    response = upload(client, content, f.staff_auth(app, f.staff(app, "manager"), "manager"))
    assert response.status_code == 200, response.json
    assert (response.json["inserted"], response.json["updated"]) == (2, 0)
    first = stored(app, "N1")
    assert (first.lat, first.lng, first.tier) == (39.9, 116.4, "A")
    assert first.geo_cell == cell_of(39.9, 116.4)


def test_import_updates_every_field_of_a_known_external_code(app, client):
    f.community(app, external_code="U1", name="旧名", lat=31.19, lng=121.44, household_count=10)
    before = stored(app, "U1")
    content = csv_bytes(row("U1", name="新名", lat="30.5", lng="114.3", household_count="1200"))
    response = upload(client, content, admin(app))
    assert (response.json["inserted"], response.json["updated"]) == (0, 1)
    after = stored(app, "U1")
    assert (after.id, after.name, after.household_count) == (before.id, "新名", 1200)
    assert after.geo_cell == cell_of(30.5, 114.3) != before.geo_cell
    assert after.updated_at > before.updated_at


def test_reimporting_identical_rows_leaves_them_untouched(app, client):
    content = csv_bytes(row("S1"), row("S2"))
    upload(client, content, admin(app))
    first_stamp = stored(app, "S1").updated_at
    again = upload(client, content, admin(app)).json
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, 2)
    assert stored(app, "S1").updated_at == first_stamp


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"lat": "91"}, "lat must be between -90 and 90"),
        ({"lng": "east"}, "lng is not a number"),
        ({"household_count": "-3"}, "household_count must be a whole number"),
        ({"tier": "E"}, "tier must be one of A, B, C, D"),
        ({"status": "closed"}, "status must be active or inactive"),
        ({"name": ""}, "name is empty"),
        ({"district": "区" * 33}, "district is longer than 32 characters"),
        ({"address": "a\x00b"}, "address contains a NUL character"),
    ],
)
def test_a_bad_row_is_reported_by_line_and_the_others_are_written(app, client, overrides, reason):
    content = csv_bytes(row("G1"), row("BAD", **overrides), row("G2"))
    report = upload(client, content, admin(app)).json
    assert report["inserted"] == 2
    assert report["rejected_total"] == 1
    rejected = report["rejected"][0]
    assert (rejected["line"], rejected["external_code"]) == (3, "BAD")
    assert reason in rejected["reason"]
    assert rejected["reason_zh"]
    assert stored(app, "BAD") is None and stored(app, "G2") is not None


def test_a_row_with_the_wrong_number_of_fields_is_rejected(app, client):
    report = upload(client, csv_bytes(row("G1"), "X1,short"), admin(app)).json
    assert report["rejected"][0]["line"] == 3
    assert "expected 11 fields, found 2" in report["rejected"][0]["reason"]


def test_a_row_is_reported_by_its_first_line_counting_lines_inside_quotes(app, client):
    good = row("Q1", address='"A栋\n3单元"')  # lines 2-3
    bad = row("Q2", address='"B栋\n1单元"', tier="Z")  # lines 4-5
    report = upload(client, csv_bytes(good, bad, row("Q3", tier="Z")), admin(app)).json
    assert report["inserted"] == 1
    assert [r["line"] for r in report["rejected"]] == [4, 6]
    assert stored(app, "Q1").address == "A栋\n3单元"


def test_a_repeated_external_code_is_rejected_naming_its_first_line(app, client):
    report = upload(client, csv_bytes(row("D1"), row("D2"), row("D1", name="又一次")), admin(app))
    rejected = report.json["rejected"]
    assert [(r["line"], r["external_code"]) for r in rejected] == [(4, "D1")]
    assert "repeats line 2" in rejected[0]["reason"]
    assert stored(app, "D1").name == "小区D1"


def test_a_record_the_csv_module_cannot_read_is_rejected_and_the_others_are_written(app, client):
    huge = row("BIG", address="x" * 200_000)
    report = upload(client, csv_bytes(row("G1"), huge, row("G2")), admin(app)).json
    assert report["inserted"] == 2
    assert report["rejected"][0]["line"] == 3
    assert "unreadable CSV" in report["rejected"][0]["reason"]


def test_a_line_that_is_not_utf8_is_rejected_and_the_others_are_written(app, client):
    gbk_line = row("GBK", name="阳光花园").encode("gbk")
    content = csv_bytes(row("G1")) + gbk_line + b"\n" + row("G2").encode() + b"\n"
    report = upload(client, content, admin(app)).json
    assert report["inserted"] == 2
    assert report["rejected"][0]["line"] == 3
    assert "UTF-8" in report["rejected"][0]["reason"]


def test_a_file_with_a_byte_order_mark_imports(app, client):
    report = upload(client, csv_bytes(row("B1"), bom=True), admin(app)).json
    assert (report["inserted"], report["rejected_total"]) == (1, 0)


def test_a_wrong_header_is_refused_naming_the_missing_columns(app, client):
    header = HEADER.replace("household_count", "households")
    response = upload(client, csv_bytes(row("H1"), header=header), admin(app))
    assert response.status_code == 422
    error = response.json["error"]
    assert error["code"] == "csv_header_invalid"
    assert (error["details"]["missing"], error["details"]["unknown"]) == (
        ["household_count"],
        ["households"],
    )


def test_a_request_without_the_file_field_is_422(app, client):
    response = client.post(URL, data={}, headers=admin(app), content_type="multipart/form-data")
    assert response.status_code == 422
    assert "file" in response.json["error"]["fields"]


def test_more_rows_than_a_request_may_carry_are_refused_before_writing(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_MAX_ROWS_PER_REQUEST", 2)
    response = upload(client, csv_bytes(row("L1"), row("L2"), row("L3")), admin(app))
    assert response.status_code == 413
    assert response.json["error"]["code"] == "too_many_rows"
    assert response.json["error"]["details"] == {"max_rows": 2, "rows": 3}
    assert stored(app, "L1") is None


def test_a_stranger_is_401_and_residents_and_engineers_are_403(app, client):
    content = csv_bytes(row("R1"))
    assert upload(client, content, {}).status_code == 401
    resident = f.resident_auth(app, f.resident(app))
    engineer = f.engineer_auth(app, f.engineer(app))
    assert [upload(client, content, h).status_code for h in (resident, engineer)] == [403, 403]
    assert stored(app, "R1") is None


def test_a_regional_manager_imports_only_rows_of_their_region(app, client):
    manager = f.staff_auth(app, f.staff(app, "manager", region="上海市"), "manager")
    beijing = row("BJ1", province="北京市", city="北京市", lat="39.9", lng="116.4")
    report = upload(client, csv_bytes(row("SH1"), beijing), manager).json
    assert report["inserted"] == 1
    assert [(r["line"], r["external_code"]) for r in report["rejected"]] == [(3, "BJ1")]
    assert "outside your region" in report["rejected"][0]["reason"]


def test_a_regional_manager_cannot_take_over_another_regions_community(app, client):
    f.community(app, external_code="BJ2", province="北京市", city="北京市", name="北京小区")
    manager = f.staff_auth(app, f.staff(app, "manager", region="上海市"), "manager")
    report = upload(client, csv_bytes(row("BJ2", name="改到上海")), manager).json
    assert (report["updated"], report["rejected_total"]) == (0, 1)
    assert stored(app, "BJ2").name == "北京小区"


def test_counts_add_up_across_batches(app):
    f.community(app, external_code="K2", name="旧")
    content = csv_bytes(*(row(f"K{n}") for n in range(1, 6)), row("K6", tier="X"))
    with app.app_context():
        report = importer.import_communities(io.BytesIO(content), batch_size=2)
    counts = (report.rows, report.inserted, report.updated, report.rejected_total)
    assert counts == (6, 4, 1, 1)


def test_a_file_of_bad_rows_is_reported_in_full_whatever_the_batch_size(app):
    content = csv_bytes(*(row(f"Z{n}", tier="X") for n in range(5)), row("Z9"))
    with app.app_context():
        report = importer.import_communities(io.BytesIO(content), batch_size=2)
    assert (report.rows, report.inserted, report.rejected_total) == (6, 1, 5)
    assert [r["line"] for r in report.rejected] == [2, 3, 4, 5, 6]


def test_a_row_the_database_refuses_is_reported_and_its_batch_is_written(app, monkeypatch):
    real = importer._upsert_rows

    def refusing(rows, now):
        if any(r[importer.DATA_COLUMNS.index("external_code")] == "BOOM" for r in rows):
            raise DataError("INSERT …", {}, Exception("value refused"))
        return real(rows, now)

    monkeypatch.setattr(importer, "_upsert_rows", refusing)
    content = csv_bytes(row("OK1"), row("BOOM"), row("OK2"))
    with app.app_context():
        report = importer.import_communities(io.BytesIO(content))
    assert (report.inserted, report.rejected[0]["line"]) == (2, 3)
    assert "the database refused the row" in report.rejected[0]["reason"]


def test_a_household_count_beyond_the_column_is_refused_by_the_database_on_postgresql(app):
    if app.config["BACKEND"] == "embedded":
        pytest.skip("SQLite integers have 64 bits: the row is stored")
    big = row("HUGE", household_count="9" * 30)  # beyond bigint too
    content = csv_bytes(row("OK1"), row("BIG", household_count="3000000000"), big, row("OK2"))
    with app.app_context():
        report = importer.import_communities(io.BytesIO(content))
    assert (report.inserted, [r["line"] for r in report.rejected]) == (2, [3, 4])
    assert all("integer out of range" in r["reason"] for r in report.rejected)
    assert stored(app, "OK2") is not None and stored(app, "BIG") is None


def test_text_and_coordinates_are_stored_exactly(app):
    address = '"路\t1号\\2栋 ""东门"" 😀"'  # a tab, a backslash, quotes and an emoji
    content = csv_bytes(row("X1", address=address, lat="31.123456789012345", lng="-0.0"))
    with app.app_context():
        importer.import_communities(io.BytesIO(content))
    community = stored(app, "X1")
    assert community.address == '路\t1号\\2栋 "东门" 😀'
    assert (community.lat, community.lng) == (31.123456789012345, -0.0)


def test_the_rejected_rows_are_listed_in_line_order_whatever_the_batch_size(app):
    f.community(app, external_code="BJ9", province="北京市", city="北京市")
    beijing = row("BJ8", province="北京市", city="北京市")
    content = csv_bytes(row("S1"), row("BJ9"), row("S2", tier="X"), beijing, row("S1"), row("S3"))
    reports = []
    for batch_size in (None, 1, 4):
        with app.app_context():
            report = importer.import_communities(
                io.BytesIO(content), region="上海市", batch_size=batch_size
            )
        reports.append([(r["line"], r["external_code"], r["reason"]) for r in report.rejected])
    assert [line for line, _, _ in reports[0]] == [3, 4, 5, 6]
    assert reports[1] == reports[0] and reports[2] == reports[0]


def test_the_capped_list_keeps_the_first_rejected_lines(app, monkeypatch):
    monkeypatch.setattr(importer, "REJECTED_LIST_CAP", 2)
    f.community(app, external_code="BJ7", province="北京市", city="北京市")
    bad = [row(f"B{n}", tier="X") for n in range(3)]
    content = csv_bytes(row("BJ7"), *bad)  # BJ7 (line 2) is refused only when its batch is written
    with app.app_context():
        report = importer.import_communities(io.BytesIO(content), region="上海市")
    assert [r["line"] for r in report.rejected] == [2, 3]
    assert report.rejected_total == 4


def test_the_capped_list_keeps_the_smallest_lines_whatever_order_they_come_in(monkeypatch):
    monkeypatch.setattr(importer, "REJECTED_LIST_CAP", 3)
    report = importer.ImportReport()
    for line in (10, 5, 20, 7, 30, 1):
        report.reject(line, f"R{line}", "bad", "坏")
    report.finish()
    assert ([r["line"] for r in report.rejected], report.rejected_total) == ([1, 5, 7], 6)


def _generated_records(rng: random.Random, order: list[str], count: int) -> list[list[str]]:
    """Records (columns in `order`) near the rules' edges: whitespace, case, empty and long
    text, odd numbers, NUL characters, a wrong number of fields."""
    choices = {
        "external_code": ["C1", " C2 ", "", "  ", "x" * 64, "x" * 65, "a\x00b", "编码"],
        "name": ["小区", "", "n" * 100, "n" * 101, " 名 "],
        "province": ["上海市", "", "省" * 32, "省" * 33],
        "city": ["上海市", "", " 市 "],
        "district": ["徐汇区", "", "区" * 33],
        "address": ["", "路1号", "a" * 200, "a" * 201, "a\tb", "x\x00"],
        "lat": ["31.19", " 31.19 ", "90", "-90", "90.0000001", "nan", "inf", "-inf", "1e1",
                "1_0", "", "north", "٣١", "0x1p4", "-0", "3\x00"],
        "lng": ["121.44", "180", "-180", "180.5", "NaN", "1e400", "  -12.5", "+3", "½"],
        "household_count": ["800", "0", " 7 ", "-3", "1.5", "", "²", "٣", "0012", "9" * 25,
                            "1\x00"],
        "tier": ["a", "B", " c ", "d", "E", "", "ａ", "b\x00"],
        "status": ["active", "INACTIVE", " Active ", "closed", ""],
    }  # fmt: skip
    records = []
    for _ in range(count):
        fields = [rng.choice(choices[c]) if rng.random() < 0.3 else choices[c][0] for c in order]
        if rng.random() < 0.03:
            fields = fields[: rng.randrange(len(fields))] or [*fields, "extra"]
        records.append(fields)
    return records


def test_the_fast_check_refuses_and_returns_exactly_what_parse_row_does():
    rng = random.Random(16)
    order = rng.sample(importer.COLUMNS, len(importer.COLUMNS))  # a header in any order
    positions = {name: order.index(name) for name in importer.COLUMNS}
    check = importer.row_checker(positions)
    outcomes = []
    for fields in _generated_records(rng, order, 20_000):
        try:
            expected = repr(importer._as_row(importer.parse_row(fields, positions)))
        except importer._RowError:
            expected = "refused"
        got = check(fields)
        assert (repr(got) if got is not None else "refused") == expected, fields
        outcomes.append(expected == "refused")
    assert 1000 < sum(outcomes) < len(outcomes) - 1000  # both kinds, many of each


def _reader_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "community-import-reader"]


def test_a_failing_write_stops_the_reading_thread(app, monkeypatch):
    def failing(rows, now):
        raise RuntimeError("database gone")

    monkeypatch.setattr(importer, "_upsert_rows", failing)
    content = csv_bytes(*(row(f"W{n}") for n in range(50)))
    with app.app_context(), pytest.raises(RuntimeError, match="database gone"):
        importer.import_communities(io.BytesIO(content), batch_size=1)
    assert _reader_threads() == []


def test_an_error_reading_the_file_is_raised_to_the_caller(app):
    class BrokenStream:
        def __iter__(self):
            yield (HEADER + "\n").encode()
            yield (row("E1") + "\n").encode()
            raise OSError("the upload was cut off")

    with app.app_context(), pytest.raises(OSError, match="cut off"):
        importer.import_communities(BrokenStream())
    assert _reader_threads() == []
    assert stored(app, "E1") is None


def test_the_cli_imports_a_file_with_progress_on_stderr(app, tmp_path):
    path = tmp_path / "communities.csv"
    path.write_bytes(csv_bytes(row("C1"), row("C2", lat="north"), bom=True))
    result = app.test_cli_runner().invoke(args=["import-communities", str(path)])
    assert result.exit_code == 0, result.output
    assert "rows=2 inserted=1 updated=0 unchanged=0 rejected=1" in result.stdout
    assert "line 3: C2: lat is not a number" in result.stdout
    assert "rows/s" in result.stderr
    assert stored(app, "C1") is not None


def test_the_cli_has_no_row_limit(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_MAX_ROWS_PER_REQUEST", 1)
    path = tmp_path / "communities.csv"
    path.write_bytes(csv_bytes(row("M1"), row("M2"), row("M3")))
    result = app.test_cli_runner().invoke(args=["import-communities", str(path)])
    assert "inserted=3" in result.stdout


def test_the_cli_refuses_a_file_without_the_right_header_and_exits_non_zero(app, tmp_path):
    path = tmp_path / "communities.csv"
    path.write_bytes(b"code,name\nX,Y\n")
    result = app.test_cli_runner().invoke(args=["import-communities", str(path)])
    assert result.exit_code == 1
    assert "missing: external_code" in result.output
