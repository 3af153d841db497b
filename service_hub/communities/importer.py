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
from datetime import datetime
from typing import BinaryIO

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DataError, IntegrityError

from models import Community, CommunityStatus
from models.base import UTCDateTime, utcnow
from service_hub.auth.regions import place_in_region
from service_hub.plumbing.errors import AppError, InvalidInput
from service_hub.plumbing.extensions import db
from service_hub.plumbing.geo import cell_of

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
STATUSES = tuple(s.value for s in CommunityStatus)
BATCH_SIZE = 2000  # 14 parameters a row on SQLite: under its limit of 32,766
REJECTED_LIST_CAP = 1000
_TEXT_LIMITS = {
    "external_code": 64,
    "name": 100,
    "province": 32,
    "city": 32,
    "district": 32,
    "address": 200,
}
DATA_COLUMNS = (*_TEXT_LIMITS, "lat", "lng", "geo_cell", "household_count", "tier", "status")
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

    def count(self, inserted: int, updated: int, unchanged: int) -> None:
        """Add a committed batch's outcome."""
        self.inserted += inserted
        self.updated += updated
        self.unchanged += unchanged

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


def _records(reader) -> Iterator[list[str] | csv.Error]:
    """The reader's records; a record the csv module cannot read (a field over its size
    limit) comes out as the error, and reading goes on at the next line."""
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield error


def count_rows(stream: BinaryIO) -> int:
    """Data rows in a CSV stream (header and blank lines not counted); rewinds the stream."""
    rows = sum(1 for record in _records(csv.reader(_DecodedLines(stream))) if record) - 1
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
    header = next(_records(reader), None)
    positions = _header_positions(None if isinstance(header, csv.Error) else header)
    report = ImportReport()
    first_line_of: dict[str, int] = {}
    batch: list[tuple[int, dict]] = []
    started = time.perf_counter()
    end_of_previous = reader.line_num
    for fields in _records(reader):
        line, end_of_previous = end_of_previous + 1, reader.line_num
        if not fields:
            continue
        report.rows += 1
        if isinstance(fields, csv.Error):
            report.reject(line, "", f"unreadable CSV: {fields}", "无法解析的CSV行")
            continue
        code = fields[positions["external_code"]].strip() if len(fields) == len(positions) else ""
        try:
            if lines.bad_lines and lines.bad_lines.intersection(range(line, reader.line_num + 1)):
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
        if "\x00" in value[name]:
            problems.append((f"{name} contains a NUL character", f"{name} 含有NUL字符"))
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


def _check_region(row: dict, region: str | None) -> None:
    if not place_in_region(region, row["province"], row["city"]):
        raise _RowError(f"outside your region ({region})", f"不在您负责的区域（{region}）")


def _upsert_on_conflict(insert) -> sa.Insert:
    """ON CONFLICT (external_code) DO UPDATE, only where something differs, RETURNING created_at.

    Skipping identical rows keeps a re-import from rewriting (and re-dating) 500,000 rows.
    Inserted rows come back with this batch's created_at, updated ones with their old one.
    """
    table = Community.__table__
    return insert.on_conflict_do_update(
        index_elements=["external_code"],
        set_={
            **{c: insert.excluded[c] for c in DATA_COLUMNS},
            "updated_at": insert.excluded.updated_at,
        },
        where=sa.or_(*(table.c[c] != insert.excluded[c] for c in DATA_COLUMNS)),
    ).returning(table.c.created_at)


def _upsert_rows(rows: list[dict], now: datetime) -> list[datetime]:
    """Write rows; the created_at of each inserted or changed one."""
    table = Community.__table__
    if db.session.get_bind().dialect.name == "postgresql":
        # Each column travels as one array and unnest() turns them back into rows: the
        # statement has 14 parameters instead of 30,000, so neither SQLAlchemy nor psycopg
        # re-parses a huge query per batch (about 5x faster than multi-row VALUES).
        arrays = [sa.cast(sa.bindparam(c), postgresql.ARRAY(table.c[c].type)) for c in DATA_COLUMNS]
        source = sa.func.unnest(*arrays).table_valued(*DATA_COLUMNS).render_derived()
        stamp = sa.bindparam("now", type_=UTCDateTime())
        insert = postgresql.insert(table).from_select(
            [*DATA_COLUMNS, "created_at", "updated_at"], sa.select(*source.c, stamp, stamp)
        )
        params = {c: [row[c] for row in rows] for c in DATA_COLUMNS} | {"now": now}
        return db.session.scalars(_upsert_on_conflict(insert), params).all()
    # SQLite: one statement, many parameter sets; SQLAlchemy sends them as multi-row VALUES
    # pages ("insertmanyvalues") but compiles once, where .values(rows) recompiles per batch.
    return db.session.scalars(
        _upsert_on_conflict(sqlite.insert(table)),
        [{**row, "created_at": now, "updated_at": now} for row in rows],
        execution_options={"insertmanyvalues_page_size": len(rows)},
    ).all()


def _write_batch(batch: list[tuple[int, dict]], report: ImportReport, region: str | None) -> None:
    """Upsert one batch in its own transaction; if the database refuses it, find the culprits."""
    if region:
        batch = _drop_rows_of_other_regions(batch, report, region)
    if not batch:
        return
    try:
        counts = _upsert([row for _, row in batch])
        db.session.commit()
    except (DataError, IntegrityError):
        db.session.rollback()
        # Validation should catch everything; this keeps a surprise from sinking the batch.
        for line, row in batch:
            try:
                counts = _upsert([row])
                db.session.commit()
            except (DataError, IntegrityError) as error:
                db.session.rollback()
                detail = str(error.orig).splitlines()[0][:200]
                report.reject(
                    line,
                    row["external_code"],
                    f"the database refused the row: {detail}",
                    "数据库拒绝了该行",
                )
            else:
                report.count(*counts)
    else:
        report.count(*counts)


def _upsert(rows: list[dict]) -> tuple[int, int, int]:
    """Write rows (not committed); (inserted, updated, unchanged)."""
    now = utcnow()
    created = _upsert_rows(rows, now)
    inserted = sum(1 for at in created if at == now)
    return inserted, len(created) - inserted, len(rows) - len(created)


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
