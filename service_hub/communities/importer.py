"""Bulk upsert of communities from a CSV file: validate each row, write in batches.

One function serves the API (`POST /api/v1/communities/import`) and the CLI
(`flask import-communities`). Rows are parsed with the csv module and checked in Python (a
bad row is reported with its line number and reason and the rest go on), never built as ORM
objects. On PostgreSQL each batch of valid rows goes to a temporary staging table with one
binary `COPY` and from there into `community` with one `INSERT … SELECT … ON CONFLICT
(external_code) DO UPDATE`; on SQLite each batch is one multi-row upsert. Each batch commits
on its own, so a re-run after a crash picks up where it stopped (an upsert is idempotent) and
other writers are never locked out for the whole import. Issue 16, part 8, and
docs/performance.md give the figures.
"""

from __future__ import annotations

import csv
import math
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import BinaryIO

import psycopg
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
# Rows per transaction. PostgreSQL: a batch is one COPY and one INSERT … SELECT, so bigger is
# cheaper up to a few thousand rows; 20,000 keep the reader's batches in memory (three at
# most: one written, one waiting, one being read) to some 50 MB and hold their row locks for
# a fraction of a second. SQLite: 14 parameters a row in one multi-row statement must stay
# under its limit of 32,766.
BATCH_SIZE = 20_000
SQLITE_BATCH_SIZE = 2000
REJECTED_LIST_CAP = 1000
_TEXT_LIMITS = {
    "external_code": 64,
    "name": 100,
    "province": 32,
    "city": 32,
    "district": 32,
    "address": 200,
}
# The order of a checked row's values (a tuple), and of the staging table's columns.
DATA_COLUMNS = (*_TEXT_LIMITS, "lat", "lng", "geo_cell", "household_count", "tier", "status")
_CODE = 0  # DATA_COLUMNS.index("external_code")
_PROVINCE, _CITY = 2, 3
_REQUIRED_TEXT = ("external_code", "name", "province", "city", "district")
_UTF8_BOM = b"\xef\xbb\xbf"
_INT8_MAX = 2**63 - 1

Progress = Callable[[int, float], None]
Row = tuple  # values in DATA_COLUMNS order


class TooManyRows(AppError):
    """More rows than one API request may carry (the CLI has no limit)."""

    status, code = 413, "too_many_rows"


@dataclass
class ImportReport:
    """What an import did: counts, and the rejected rows (the list capped, the total not).

    `rejected` holds the first REJECTED_LIST_CAP rejected rows by line, whatever the batch
    size: rows refused while a batch is written (another region's code, the database) are
    found after later lines were read, so the list is put in line order as it grows.
    """

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
        if len(self.rejected) >= REJECTED_LIST_CAP and line > self.rejected[-1]["line"]:
            return  # the list is full of earlier lines (sorted once full: see below)
        self.rejected.append(
            {"line": line, "external_code": external_code, "reason": reason, "reason_zh": reason_zh}
        )
        if len(self.rejected) >= REJECTED_LIST_CAP:
            self._trim()

    def _trim(self) -> None:
        """Keep the first REJECTED_LIST_CAP rejected rows in line order (a stable sort)."""
        self.rejected.sort(key=lambda rejected: rejected["line"])
        del self.rejected[REJECTED_LIST_CAP:]

    def finish(self) -> None:
        """Put the rejected rows in line order (the import calls it at its end)."""
        self._trim()


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
    batch_size: int | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Upsert every valid row of a CSV byte stream by external_code; report the rest.

    `region` limits the rows to one province or city (a scoped manager). `max_rows` refuses
    a longer file before anything is written. `batch_size` is the rows per transaction
    (default BATCH_SIZE on PostgreSQL, SQLITE_BATCH_SIZE on SQLite); the outcome and the
    report do not depend on it. `progress(rows_done, seconds)` is called after each batch.
    """
    if max_rows is not None and (rows := count_rows(stream)) > max_rows:
        raise TooManyRows(
            f"At most {max_rows} rows per request; this file has {rows}. "
            "Split it, or use `flask import-communities` for a full load.",
            message_zh=f"每次最多导入{max_rows}行（本文件{rows}行），请分批上传",
            details={"max_rows": max_rows, "rows": rows},
        )
    if batch_size is None:
        batch_size = BATCH_SIZE if _on_postgresql() else SQLITE_BATCH_SIZE
    lines = _DecodedLines(stream)
    reader = csv.reader(lines)
    header = next(_records(reader), None)
    positions = _header_positions(None if isinstance(header, csv.Error) else header)
    report = ImportReport()
    started = time.perf_counter()
    # The file is read and checked in a thread, a batch ahead of the writes: the
    # checks (Python) overlap the database's work on the previous batch.
    chunks = _ReadAhead(_checked_chunks(lines, reader, positions, region, batch_size))
    try:
        for chunk in chunks:
            report.rows += chunk.rows
            for rejected in chunk.rejected:
                report.reject(*rejected)
            _write_batch(chunk.batch, report, region)
            if progress:
                progress(report.rows, time.perf_counter() - started)
    finally:
        chunks.close()
    report.finish()
    return report


@dataclass
class _Chunk:
    """What the reader passes to the writer: rows read, rows rejected, rows to write."""

    rows: int = 0
    rejected: list[tuple[int, str, str, str]] = field(default_factory=list)
    batch: list[tuple[int, Row]] = field(default_factory=list)


def _checked_chunks(
    lines: _DecodedLines,
    reader,
    positions: dict[str, int],
    region: str | None,
    batch_size: int,
) -> Iterator[_Chunk]:
    """Read and check the records after the header, a chunk per batch of good rows; the last
    chunk (perhaps with an empty batch) at the end of the file. Touches no database."""
    check = row_checker(positions)
    first_line_of: dict[str, int] = {}
    bad_lines = lines.bad_lines  # filled as lines are read

    def checked(fields: list[str], line: int) -> Row | tuple[int, str, str, str]:
        """The slow path, for a row with a problem (or a region, or a bad line in the file):
        the row, or its rejection naming every problem."""
        try:
            if bad_lines and bad_lines.intersection(range(line, reader.line_num + 1)):
                raise _RowError(
                    "the line is not valid UTF-8 (save the file as 'CSV UTF-8')",
                    "该行不是UTF-8编码（请另存为“CSV UTF-8”格式）",
                )
            row = check(fields) or _as_row(parse_row(fields, positions))
            if region:
                _check_region(row, region)
            if (first := first_line_of.get(row[_CODE])) is not None:
                raise _RowError(
                    f"external_code repeats line {first}", f"external_code 与第{first}行重复"
                )
        except _RowError as error:
            whole = len(fields) == len(positions)
            code = fields[positions["external_code"]].strip() if whole else ""
            return (line, code, error.reason, error.reason_zh)
        return row

    chunk = _Chunk()
    batch, rejected, rows = chunk.batch, chunk.rejected, 0
    end_of_previous = reader.line_num
    while True:
        try:
            # The loop every good row takes: as few steps as possible.
            for fields in reader:
                line, end_of_previous = end_of_previous + 1, reader.line_num
                if not fields:
                    continue
                rows += 1
                row = None if bad_lines or region else check(fields)
                if row is None or row[_CODE] in first_line_of:
                    row = checked(fields, line)
                    if isinstance(row[0], int):  # a rejection: (line, code, reason, reason_zh)
                        rejected.append(row)
                        if len(rejected) < batch_size:  # a file of bad rows: bounded memory
                            continue
                        row = None
                if row is not None:
                    first_line_of[row[_CODE]] = line
                    batch.append((line, row))
                    if len(batch) < batch_size:
                        continue
                chunk.rows = rows
                yield chunk
                chunk = _Chunk()
                batch, rejected, rows = chunk.batch, chunk.rejected, 0
            break
        except csv.Error as error:  # a record the csv module cannot read; go on after it
            line, end_of_previous = end_of_previous + 1, reader.line_num
            rows += 1
            rejected.append((line, "", f"unreadable CSV: {error}", "无法解析的CSV行"))
    chunk.rows = rows
    yield chunk


class _ReadAhead(Iterator):
    """Iterate `items` in a thread, up to `depth` items ahead of the caller. An exception
    raised by `items` is raised to the caller; close() stops the thread and waits for it."""

    _DONE = object()
    _finished = False

    def __init__(self, items: Iterator, depth: int = 1) -> None:
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._produce, args=(items,), name="community-import-reader", daemon=True
        )
        self._thread.start()

    def _produce(self, items: Iterator) -> None:
        try:
            for item in items:
                if not self._put((item, None)):
                    return
            self._put((self._DONE, None))
        except BaseException as error:  # noqa: BLE001 (handed to the caller, raised there)
            self._put((self._DONE, error))

    def _put(self, entry) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(entry, timeout=0.1)
            except queue.Full:
                continue
            return True
        return False

    def __next__(self):
        if self._finished:
            raise StopIteration
        item, error = self._queue.get()
        if item is self._DONE:
            self._finished = True
            self.close()
            if error is not None:
                raise error
            raise StopIteration
        return item

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


def _on_postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


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


def _as_row(values: dict) -> Row:
    return tuple(values[c] for c in DATA_COLUMNS)


def row_checker(positions: dict[str, int]) -> Callable[[list[str]], Row | None]:
    """parse_row's rules compiled for the common case: a record's row (a tuple in
    DATA_COLUMNS order, exactly parse_row's values) or None where parse_row refuses it, the
    caller then asking parse_row to name the problems. Several times faster than parse_row
    (no dict, no list of problems); tests/test_community_import.py compares the two on
    generated records."""
    width = len(positions)
    code_at, name_at, province_at, city_at, district_at, address_at = (
        positions[c] for c in _TEXT_LIMITS
    )
    lat_at, lng_at, households_at, tier_at, status_at = (
        positions[c] for c in ("lat", "lng", "household_count", "tier", "status")
    )
    code_max, name_max, province_max, city_max, district_max, address_max = _TEXT_LIMITS.values()
    tiers, statuses = frozenset(TIERS), frozenset(STATUSES)

    def check(fields: list[str]) -> Row | None:
        if len(fields) != width or "\x00" in "".join(fields):
            return None
        code = fields[code_at].strip()
        name = fields[name_at].strip()
        province = fields[province_at].strip()
        city = fields[city_at].strip()
        district = fields[district_at].strip()
        address = fields[address_at].strip()
        if not (code and name and province and city and district) or (
            len(code) > code_max
            or len(name) > name_max
            or len(province) > province_max
            or len(city) > city_max
            or len(district) > district_max
            or len(address) > address_max
        ):
            return None
        households = fields[households_at].strip()
        tier = fields[tier_at].strip().upper()
        status = fields[status_at].strip().lower()
        if not (
            households.isascii() and households.isdigit() and tier in tiers and status in statuses
        ):
            return None
        try:
            lat = float(fields[lat_at].strip())
            lng = float(fields[lng_at].strip())
        except ValueError:
            return None
        if not (-90 <= lat <= 90 and -180 <= lng <= 180):  # NaN fails too; ±inf are out
            return None
        return (
            code,
            name,
            province,
            city,
            district,
            address,
            lat,
            lng,
            cell_of(lat, lng),
            int(households),
            tier,
            status,
        )

    return check


def _check_region(row: Row, region: str | None) -> None:
    if not place_in_region(region, row[_PROVINCE], row[_CITY]):
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


# The staging table of one batch on PostgreSQL: dropped when the batch's transaction ends.
# Text goes in as text and household_count as bigint: the INSERT's casts to the table's
# varchar(n) and integer are where the database refuses what validation let through.
_STAGE = sa.table(
    "community_import_stage",
    *(sa.column(c) for c in DATA_COLUMNS),
)
_STAGE_TYPES = ("text",) * 6 + ("float8", "float8", "int8", "int8", "text", "text")
_CREATE_STAGE = (
    "CREATE TEMPORARY TABLE community_import_stage ("
    + ", ".join(f"{c} {t}" for c, t in zip(DATA_COLUMNS, _STAGE_TYPES, strict=True))
    + ") ON COMMIT DROP"
)
_COPY_STAGE = f"COPY community_import_stage ({', '.join(DATA_COLUMNS)}) FROM STDIN (FORMAT binary)"


def _staged_upsert() -> sa.Select:
    """INSERT … SELECT from the staging table, counted: (rows written, rows inserted)."""
    table = Community.__table__
    stamp = sa.bindparam("now", type_=UTCDateTime())
    insert = postgresql.insert(table).from_select(
        [*DATA_COLUMNS, "created_at", "updated_at"], sa.select(*_STAGE.c, stamp, stamp)
    )
    written = _upsert_on_conflict(insert).cte("written")
    return sa.select(
        sa.func.count(), sa.func.count().filter(written.c.created_at == stamp)
    ).select_from(written)


_STAGED_UPSERT = _staged_upsert()


def _upsert_rows(rows: list[Row], now: datetime) -> tuple[int, int]:
    """Write rows (not committed); (rows inserted or changed, rows inserted)."""
    if _on_postgresql():
        raw = db.session.connection().connection.driver_connection
        with raw.cursor() as cursor:
            cursor.execute(_CREATE_STAGE)
            with cursor.copy(_COPY_STAGE) as copy:
                copy.set_types(_STAGE_TYPES)
                for row in rows:
                    if row[9] > _INT8_MAX:  # household_count: refused as out of range anyway
                        row = (*row[:9], _INT8_MAX, *row[10:])
                    copy.write_row(row)
        written, inserted = db.session.execute(_STAGED_UPSERT, {"now": now}).one()
        return written, inserted
    # SQLite: one statement, many parameter sets; SQLAlchemy sends them as multi-row VALUES
    # pages ("insertmanyvalues") but compiles once, where .values(rows) recompiles per batch.
    created = db.session.scalars(
        _upsert_on_conflict(sqlite.insert(Community.__table__)),
        [
            {**dict(zip(DATA_COLUMNS, row, strict=True)), "created_at": now, "updated_at": now}
            for row in rows
        ],
        execution_options={"insertmanyvalues_page_size": SQLITE_BATCH_SIZE},
    ).all()
    return len(created), sum(1 for at in created if at == now)


# What the database may raise for a row validation let through. COPY runs on the driver's
# own cursor, so its errors come as psycopg's, not wrapped by SQLAlchemy.
_REFUSED = (DataError, IntegrityError, psycopg.DataError, psycopg.IntegrityError)


def _write_batch(batch: list[tuple[int, Row]], report: ImportReport, region: str | None) -> None:
    """Upsert one batch in its own transaction; if the database refuses it, find the culprits
    by halves (each half in its own transaction, down to single rows)."""
    if region:
        batch = _drop_rows_of_other_regions(batch, report, region)
    if not batch:
        return
    try:
        counts = _upsert([row for _, row in batch])
        db.session.commit()
    except _REFUSED as error:
        db.session.rollback()
        # Validation should catch everything; this keeps a surprise from sinking the batch.
        if len(batch) > 1:
            middle = len(batch) // 2
            _write_batch(batch[:middle], report, None)
            _write_batch(batch[middle:], report, None)
            return
        line, row = batch[0]
        detail = str(getattr(error, "orig", None) or error).splitlines()[0][:200]
        report.reject(
            line, row[_CODE], f"the database refused the row: {detail}", "数据库拒绝了该行"
        )
    else:
        report.count(*counts)


def _upsert(rows: list[Row]) -> tuple[int, int, int]:
    """Write rows (not committed); (inserted, updated, unchanged)."""
    written, inserted = _upsert_rows(rows, utcnow())
    return inserted, written - inserted, len(rows) - written


def _drop_rows_of_other_regions(
    batch: list[tuple[int, Row]], report: ImportReport, region: str
) -> list[tuple[int, Row]]:
    """A scoped manager must not take over another region's community by its code."""
    table = Community.__table__
    codes = [row[_CODE] for _, row in batch]
    foreign: set[str] = set()
    if _on_postgresql():
        every_code = sa.bindparam("codes", codes, postgresql.ARRAY(sa.Text))
        conditions = [table.c.external_code == sa.any_(every_code)]
    else:  # SQLite's parameter limit: a few hundred codes per query
        conditions = [
            table.c.external_code.in_(codes[start : start + 500])
            for start in range(0, len(codes), 500)
        ]
    for condition in conditions:
        foreign.update(
            db.session.scalars(
                sa.select(table.c.external_code).where(
                    condition, table.c.province != region, table.c.city != region
                )
            )
        )
    db.session.commit()
    kept = []
    for line, row in batch:
        if row[_CODE] in foreign:
            report.reject(
                line,
                row[_CODE],
                f"external_code belongs to a community outside your region ({region})",
                f"该编码属于您负责区域（{region}）以外的小区",
            )
        else:
            kept.append((line, row))
    return kept
