"""`flask import-communities PATH`: load a national community file, progress on stderr."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from service_hub.communities.importer import (
    BATCH_SIZE,
    SQLITE_BATCH_SIZE,
    ImportReport,
    import_communities,
)
from service_hub.plumbing.errors import AppError


@click.command("import-communities")
@click.argument("path", type=click.File("rb"))
@click.option(
    "--batch-size",
    type=click.IntRange(1),
    help=f"Rows per transaction [default: {BATCH_SIZE:,} on PostgreSQL, "
    f"{SQLITE_BATCH_SIZE:,} on SQLite].",
)
@with_appcontext
def import_communities_command(path, batch_size: int | None) -> None:
    """Create or update communities from a CSV file (no row limit, unlike the API).

    Columns: external_code,name,province,city,district,address,lat,lng,household_count,
    tier,status. Rows are matched by external_code; bad rows are listed with their line
    numbers and do not stop the others. Re-running the same file is harmless. Each batch
    commits on its own; the outcome does not depend on the batch size.
    """

    def progress(rows: int, seconds: float) -> None:
        rate = rows / seconds if seconds else 0.0
        click.echo(f"\r{rows:,} rows, {rate:,.0f} rows/s", err=True, nl=False)

    try:
        report = import_communities(path, batch_size=batch_size, progress=progress)
    except AppError as error:
        raise click.ClickException(error.message) from error
    finally:
        click.echo("", err=True)
    click.echo(summary(report))


def summary(report: ImportReport) -> str:
    """The report as lines a person reads: counts, then each rejected row."""
    lines = [
        f"rows={report.rows} inserted={report.inserted} updated={report.updated} "
        f"unchanged={report.unchanged} rejected={report.rejected_total}"
    ]
    lines += [
        f"line {r['line']}: {r['external_code'] or '-'}: {r['reason']} ({r['reason_zh']})"
        for r in report.rejected
    ]
    if report.rejected_total > len(report.rejected):
        lines.append(f"… and {report.rejected_total - len(report.rejected)} more rejected rows")
    return "\n".join(lines)
