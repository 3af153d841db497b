"""Command-line tools: staff accounts, demo data, workers, outbox relay, KPI rebuild."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext

from service_hub.extensions import db


@click.command("create-staff")
@click.argument("username")
@click.option("--role", type=click.Choice(["engineer", "manager", "admin"]), required=True)
@click.option("--name", "display_name", required=True, help="Name shown to people.")
@click.option("--phone", default=None)
@click.option("--region", default=None, help="Province or city a manager is limited to.")
@click.password_option(help="At least 8 characters (prompted when omitted).")
@with_appcontext
def create_staff_command(username, role, display_name, phone, region, password):
    """Create a staff account (engineers also need a profile: see docs/operations.md)."""
    from service_hub.auth.service import create_staff

    staff = create_staff(username, password, role, display_name, phone=phone, region=region)
    db.session.commit()
    click.echo(f"created {role} {username} (staff id {staff.id})")


@click.command("seed-demo")
@click.option("--communities", default=300, show_default=True)
@click.option("--seed", default=20261122, show_default=True, help="Random seed.")
@click.option("--if-empty", is_flag=True, help="Do nothing when communities exist already.")
@with_appcontext
def seed_demo_command(communities: int, seed: int, if_empty: bool):
    """Fill the database with a realistic demo city (Shanghai) and a year of orders."""
    import sqlalchemy as sa

    from models import Community
    from service_hub.demo import seed_demo

    if if_empty and db.session.scalar(sa.select(sa.func.count()).select_from(Community)):
        db.session.rollback()
        click.echo("demo data present; skipping seed")
        return
    from dispatch.standing import rebuild
    from service_hub.demo_extras import seed_extras

    summary = seed_demo(communities=communities, seed=seed, progress=click.echo)
    summary.update(seed_extras(seed))
    summary["standings"] = rebuild()
    click.echo("seeded: " + ", ".join(f"{k}={v}" for k, v in summary.items()))


@click.command("outbox-relay")
@with_appcontext
def outbox_relay_command():
    """Re-enqueue outbox messages that were never relayed or whose job was lost."""
    from notifications.outbox import relay_stale

    click.echo(f"relayed {relay_stale()} outbox messages")


@click.command("dispatch-sweep")
@with_appcontext
def dispatch_sweep_command():
    """Expire overdue offers whose expiry job was lost, and pass their orders on."""
    from dispatch.assignment import sweep

    click.echo(", ".join(f"{k}={v}" for k, v in sweep().items()))


@click.command("standings-rebuild")
@with_appcontext
def standings_rebuild_command():
    """Recompute every engineer's standing in every community from raw facts."""
    from dispatch.standing import rebuild

    click.echo(f"recomputed {rebuild(progress=click.echo)} engineer standings")


@click.command("kpis-rebuild")
@with_appcontext
def kpis_rebuild_command():
    """Recompute every community's monthly KPIs from raw order events and reviews."""
    from service_hub.kpis.rollup import rebuild

    click.echo(f"rebuilt {rebuild(progress=click.echo)} community-month rows")


def register_cli(app: Flask) -> None:
    """Attach the commands to `flask`."""
    from service_hub.communities.import_cli import import_communities_command
    from service_hub.demo_server import demo_command
    from service_hub.worker import cron_command, worker_command

    for command in (
        create_staff_command,
        seed_demo_command,
        outbox_relay_command,
        dispatch_sweep_command,
        kpis_rebuild_command,
        standings_rebuild_command,
        worker_command,
        cron_command,
        demo_command,
        import_communities_command,
    ):
        app.cli.add_command(command)
