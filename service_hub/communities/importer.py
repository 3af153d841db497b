"""Bulk upsert of communities from a CSV file: validate each row, write in batches.

One function serves the API (`POST /api/v1/communities/import`) and the CLI
(`flask import-communities`). Rows are parsed with the csv module and written with multi-row
`INSERT … ON CONFLICT (external_code) DO UPDATE`, never as ORM objects: 500,000 rows take
seconds on PostgreSQL. A bad row is reported with its line number and reason and the rest go
on. Each batch commits on its own, so a re-run after a crash picks up where it stopped
(an upsert is idempotent) and other writers are never locked out for the whole import.
"""

from __future__ import annotations

import csv
import math
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError

from models import Community
from models.base import utcnow
from service_hub.communities.geo import cell_of
from service_hub.errors import AppError, InvalidInput
from service_hub.extensions import db

COLUMNS = (
    "external_code",
    "name",
    "province",
    "city",
    "district",
    "address",
    "lat",
    "lng",
    "household_count",
    "tier",
    "status",
)
TIERS = ("A", "B", "C", "D")
STATUSES = ("active", "inactive")
BATCH_SIZE = 2000  # 15 parameters a row: under SQLite's 32,766 and PostgreSQL's 65,535
REJECTED_LIST_CAP = 1000
_TEXT_LIMITS = {
    "external_code": 64,
    "name": 100,
    "province": 32,
    "city": 32,
    "district": 32,
    "address": 200,
}
_REQUIRED_TEXT = ("external_code", "name", "province", "city", "district")
_UTF8_BOM = b"\xef\xbb\xbf"

Progress = Callable[[int, float], None]


class TooManyRows(AppError):
    """More rows than one API request may carry (the CLI has no limit)."""

    status, code = 413, "too_many_rows"


@dataclass
class ImportReport:
    """What an import did: counts, and the rejected rows (the list capped, the total not)."""

    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[dict] = field(default_factory=list)
    rejected_total: int = 0

    def reject(self, line: int, external_code: str, reason: str, reason_zh: str) -> None:
        """Record a row that was not written."""
        self.rejected_total += 1
        if len(self.rejected) < REJECTED_LIST_CAP:
            self.rejected.append(
                {
                    "line": line,
                    "external_code": external_code,
                    "reason": reason,
                    "reason_zh": reason_zh,
                }
            )


class _RowError(ValueError):
    def __init__(self, reason: str, reason_zh: str) -> None:
        super().__init__(reason)
        self.reason, self.reason_zh = reason, reason_zh


class _DecodedLines:
    """Text lines of a UTF-8 byte stream (BOM dropped); undecodable lines are remembered
    so their rows are rejected rather than the whole file."""

    def __init__(self, stream: Iterable[bytes]) -> None:
        self.stream = stream
        self.bad_lines: set[int] = set()

    def __iter__(self) -> Iterator[str]:
        for number, raw in enumerate(self.stream, start=1):
            if number == 1 and raw.startswith(_UTF8_BOM):
                raw = raw[len(_UTF8_BOM) :]
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError:
                self.bad_lines.add(number)
                yield raw.decode("utf-8", errors="replace")


def count_rows(stream: BinaryIO) -> int:
    """Data rows in a CSV stream (header and blank lines not counted); rewinds the stream."""
    rows = sum(1 for fields in csv.reader(_DecodedLines(stream)) if fields) - 1
    stream.seek(0)
    return max(rows, 0)


def import_communities(
    stream: BinaryIO,
    *,
    region: str | None = None,
    max_rows: int | None = None,
    batch_size: int = BATCH_SIZE,
    progress: Progress | None = None,
) -> ImportReport:
    """Upsert every valid row of a CSV byte stream by external_code; report the rest.

    `region` limits the rows to one province or city (a scoped manager). `max_rows` refuses
    a longer file before anything is written. `progress(rows_done, seconds)` is called after
    each batch.
    """
    if max_rows is not None and (rows := count_rows(stream)) > max_rows:
        raise TooManyRows(
            f"At most {max_rows} rows per request; this file has {rows}. "
            "Split it, or use `flask import-communities` for a full load.",
            message_zh=f"每次最多导入{max_rows}行（本文件{rows}行），请分批上传",
            details={"max_rows": max_rows, "rows": rows},
        )
    lines = _DecodedLines(stream)
    reader = csv.reader(lines)
    positions = _header_positions(next(reader, None))
    report = ImportReport()
    first_line_of: dict[str, int] = {}
    batch: list[tuple[int, dict]] = []
    started = time.perf_counter()
    end_of_previous = reader.line_num
    for fields in reader:
        line, end_of_previous = end_of_previous + 1, reader.line_num
        if not fields:
            continue
        report.rows += 1
        code = fields[positions["external_code"]].strip() if len(fields) == len(positions) else ""
        try:
            if lines.bad_lines.intersection(range(line, reader.line_num + 1)):
                raise _RowError(
                    "the line is not valid UTF-8 (save the file as 'CSV UTF-8')",
                    "该行不是UTF-8编码（请另存为“CSV UTF-8”格式）",
                )
            row = parse_row(fields, positions)
            _check_region(row, region)
            if code in first_line_of:
                raise _RowError(
                    f"external_code repeats line {first_line_of[code]}",
                    f"external_code 与第{first_line_of[code]}行重复",
                )
        except _RowError as error:
            report.reject(line, code, error.reason, error.reason_zh)
            continue
        first_line_of[code] = line
        batch.append((line, row))
        if len(batch) >= batch_size:
            _write_batch(batch, report, region)
            batch = []
            if progress:
                progress(report.rows, time.perf_counter() - started)
    _write_batch(batch, report, region)
    if progress:
        progress(report.rows, time.perf_counter() - started)
    return report


def _header_positions(header: list[str] | None) -> dict[str, int]:
    if not header:
        raise InvalidInput(
            "The file is empty; its first line must name the columns.",
            code="csv_header_invalid",
            message_zh="文件为空，第一行应为列名",
            details={"columns": list(COLUMNS)},
        )
    names = [name.strip().lower() for name in header]
    missing = [c for c in COLUMNS if c not in names]
    unknown = [n for n in names if n not in COLUMNS]
    if missing or unknown or len(set(names)) != len(names):
        raise InvalidInput(
            f"The header must name exactly these columns: {', '.join(COLUMNS)} "
            f"(missing: {', '.join(missing) or 'none'}; unknown: {', '.join(unknown) or 'none'}).",
            code="csv_header_invalid",
            message_zh="表头列名不正确",
            details={"columns": list(COLUMNS), "missing": missing, "unknown": unknown},
        )
    return {name: names.index(name) for name in COLUMNS}


def parse_row(fields: list[str], positions: dict[str, int]) -> dict:
    """One CSV record as column values ready to write, or _RowError naming every problem."""
    if len(fields) != len(positions):
        raise _RowError(
            f"expected {len(positions)} fields, found {len(fields)}",
            f"应有{len(positions)}列，实际{len(fields)}列",
        )
    value = {name: fields[index].strip() for name, index in positions.items()}
    problems: list[tuple[str, str]] = []
    for name in _REQUIRED_TEXT:
        if not value[name]:
            problems.append((f"{name} is empty", f"{name} 为空"))
    for name, limit in _TEXT_LIMITS.items():
        if len(value[name]) > limit:
            problems.append(
                (f"{name} is longer than {limit} characters", f"{name} 超过{limit}个字符")
            )
    row = {name: value[name] for name in _TEXT_LIMITS}
    for name, bound in (("lat", 90), ("lng", 180)):
        try:
            number = float(value[name])
        except ValueError:
            problems.append((f"{name} is not a number", f"{name} 不是数字"))
            continue
        if not (math.isfinite(number) and -bound <= number <= bound):
            problems.append(
                (
                    f"{name} must be between -{bound} and {bound}",
                    f"{name} 应在 -{bound} 到 {bound} 之间",
                )
            )
        row[name] = number
    households = value["household_count"]
    if households.isascii() and households.isdigit():
        row["household_count"] = int(households)
    else:
        problems.append(
            ("household_count must be a whole number ≥ 0", "household_count 应为不小于0的整数")
        )
    row["tier"] = value["tier"].upper()
    if row["tier"] not in TIERS:
        problems.append(("tier must be one of A, B, C, D", "tier 应为 A、B、C、D 之一"))
    row["status"] = value["status"].lower()
    if row["status"] not in STATUSES:
        problems.append(("status must be active or inactive", "status 应为 active 或 inactive"))
    if problems:
        raise _RowError("; ".join(p[0] for p in problems), "；".join(p[1] for p in problems))
    row["geo_cell"] = cell_of(row["lat"], row["lng"])
    return row


def _in_region(province: str, city: str, region: str | None) -> bool:
    return region is None or region in (province, city)


def _check_region(row: dict, region: str | None) -> None:
    if not _in_region(row["province"], row["city"], region):
        raise _RowError(f"outside your region ({region})", f"不在您负责的区域（{region}）")


def _upsert_statement() -> sa.Insert:
    table = Community.__table__
    insert = (
        postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else (sqlite.insert)
    )
    stmt = insert(table)
    data_columns = (*_TEXT_LIMITS, "lat", "lng", "geo_cell", "household_count", "tier", "status")
    # Only rows that differ are touched, so a re-import does not rewrite (or re-date) 500,000
    # unchanged rows. RETURNING yields inserted and updated rows; created_at tells them apart.
    return stmt.on_conflict_do_update(
        index_elements=["external_code"],
        set_={
            **{c: stmt.excluded[c] for c in data_columns},
            "updated_at": stmt.excluded.updated_at,
        },
        where=sa.or_(*(table.c[c] != stmt.excluded[c] for c in data_columns)),
    ).returning(table.c.created_at)


def _write_batch(batch: list[tuple[int, dict]], report: ImportReport, region: str | None) -> None:
    """Upsert one batch in its own transaction; if the database refuses it, find the culprits."""
    if region is not None:
        batch = _drop_rows_of_other_regions(batch, report, region)
    if not batch:
        return
    try:
        _upsert([row for _, row in batch], report)
        db.session.commit()
    except DBAPIError:
        db.session.rollback()
        # Validation should catch everything; this keeps a surprise from sinking the batch.
        for line, row in batch:
            try:
                _upsert([row], report)
                db.session.commit()
            except DBAPIError as error:
                db.session.rollback()
                detail = str(error.orig).splitlines()[0][:200]
                report.reject(
                    line,
                    row["external_code"],
                    f"the database refused the row: {detail}",
                    "数据库拒绝了该行",
                )


def _upsert(rows: list[dict], report: ImportReport) -> None:
    now = utcnow()
    stmt = _upsert_statement().values(
        [{**row, "created_at": now, "updated_at": now} for row in rows]
    )
    created = db.session.scalars(stmt).all()
    inserted = sum(1 for at in created if at == now)
    report.inserted += inserted
    report.updated += len(created) - inserted
    report.unchanged += len(rows) - len(created)


def _drop_rows_of_other_regions(
    batch: list[tuple[int, dict]], report: ImportReport, region: str
) -> list[tuple[int, dict]]:
    """A scoped manager must not take over another region's community by its code."""
    table = Community.__table__
    foreign = set(
        db.session.scalars(
            sa.select(table.c.external_code).where(
                table.c.external_code.in_([row["external_code"] for _, row in batch]),
                table.c.province != region,
                table.c.city != region,
            )
        )
    )
    db.session.commit()
    kept = []
    for line, row in batch:
        if row["external_code"] in foreign:
            report.reject(
                line,
                row["external_code"],
                f"external_code belongs to a community outside your region ({region})",
                f"该编码属于您负责区域（{region}）以外的小区",
            )
        else:
            kept.append((line, row))
    return kept
