"""Command-line tools: staff accounts, workers, outbox relay, KPI rebuild; `register_cli` also
registers the demo's commands (`flask demo`, `flask seed-demo`) from the `demo` package."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext

from service_hub.plumbing.extensions import db


def _skill(value: str) -> dict:
    """`purifier:3` (or `purifier`, level 1) as {skill, level}."""
    name, _, level = value.partition(":")
    try:
        return {"skill": name, "level": int(level) if level else 1}
    except ValueError as exc:
        raise click.BadParameter(f"{value!r}: use SKILL or SKILL:LEVEL (1-5)") from exc


@click.command("create-staff")
@click.argument("username")
@click.option("--role", type=click.Choice(["engineer", "manager", "admin"]), required=True)
@click.option("--name", "display_name", required=True, help="Name shown to people.")
@click.option("--phone", default=None)
@click.option("--region", default=None, help="Province or city a manager is limited to.")
@click.option("--base-lat", type=float, help="Engineers (required): latitude they set out from.")
@click.option("--base-lng", type=float, help="Engineers (required): longitude they set out from.")
@click.option(
    "--skill",
    "skills",
    multiple=True,
    metavar="SKILL[:LEVEL]",
    help="Engineers (at least one): a skill the service catalogue asks for, level 1-5 "
    "(default 1); repeat for more.",
)
@click.option(
    "--community",
    "community_ids",
    type=int,
    multiple=True,
    help="Engineers (at least one): id of a community they serve; repeat for more.",
)
@click.option("--password", help="At least 8 characters (prompted when omitted).")
@with_appcontext
def create_staff_command(
    username, role, display_name, phone, region, base_lat, base_lng, skills, community_ids, password
):
    """Create a staff account; an engineer is created working: with a base location, skills
    and the communities they serve, so dispatch can offer them work (docs/operations.md)."""
    from service_hub.plumbing.errors import AppError

    engineer_values = {
        "--base-lat": base_lat,
        "--base-lng": base_lng,
        "--skill": skills,
        "--community": community_ids,
    }
    if role != "engineer":
        given = [option for option, value in engineer_values.items() if value not in (None, ())]
        if given:
            raise click.UsageError(f"{', '.join(given)}: only for --role engineer.")
    else:
        missing = [option for option, value in engineer_values.items() if value in (None, ())]
        if missing:
            raise click.UsageError(
                "An engineer needs --base-lat and --base-lng, at least one --skill and one "
                f"--community, so that dispatch can offer them work; missing: {', '.join(missing)}."
            )
        if region:
            raise click.UsageError(
                "--region is for managers: an engineer belongs to the regions of the "
                "communities they serve."
            )
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        if role == "engineer":
            message = _create_engineer(
                username, password, display_name, phone, base_lat, base_lng, skills, community_ids
            )
        else:
            from service_hub.auth.service import create_staff

            staff = create_staff(username, password, role, display_name, phone=phone, region=region)
            db.session.commit()
            message = f"created {role} {username} (staff id {staff.id})"
    except AppError as error:
        db.session.rollback()
        problems = "; ".join(
            f"{k}: {', '.join(map(str, v))}" for k, v in (error.fields or {}).items()
        )
        raise click.ClickException(f"{error.message} {problems}".strip()) from error
    click.echo(message)


def _create_engineer(
    username, password, name, phone, base_lat, base_lng, skills, community_ids
) -> str:
    """Create a working engineer through the same schemas and domain function as
    POST /engineers, acting as an administrator (whoever runs the CLI holds the server)."""
    import marshmallow as ma
    import sqlalchemy as sa

    from models import ServiceType
    from service_hub.auth.tokens import Principal
    from service_hub.engineers import schemas, service

    body = {
        "username": username,
        "password": password,
        "name": name,
        "phone": phone,
        "base_lat": base_lat,
        "base_lng": base_lng,
        "community_ids": list(community_ids),
    }
    try:
        args = schemas.EngineerCreateSchema().load(body)
        args["skills"] = schemas.SkillsSchema().load({"skills": [_skill(s) for s in skills]})[
            "skills"
        ]
    except ma.ValidationError as error:
        raise click.UsageError(f"invalid engineer: {error.messages}") from error
    operator = Principal(kind="staff", id=0, role="admin")
    engineer = service.create_engineer(operator, **args)
    asked_for = set(db.session.scalars(sa.select(ServiceType.skill).where(ServiceType.active)))
    unasked = [s["skill"] for s in args["skills"] if s["skill"] not in asked_for]
    if unasked:
        click.echo(f"warning: no active service asks for {', '.join(unasked)} yet", err=True)
    served = ", ".join(map(str, sorted(set(community_ids))))
    skill_list = ", ".join(f"{s['skill']}:{s['level']}" for s in args["skills"])
    return (
        f"created engineer {username} (staff id {engineer.staff_user_id}, engineer id "
        f"{engineer.id}) serving communities {served} with skills {skill_list}"
    )


@click.command("outbox-relay")
@with_appcontext
def outbox_relay_command():
    """Re-enqueue outbox messages never relayed, or whose job was lost or failed long ago."""
    from service_hub.plumbing.outbox import redeliver_overdue, relay_stale

    click.echo(f"relayed {relay_stale() + redeliver_overdue()} outbox messages")


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
    from demo.commands import demo_command, seed_demo_command
    from service_hub.communities.import_cli import import_communities_command
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
