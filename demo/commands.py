"""`flask demo` (the embedded default in one command, with the fake WeChat and demo data) and
`flask seed-demo`.

`service_hub.cli.register_cli` registers both in every process that creates the app, gunicorn
workers included; so this module imports the demo's own modules (the seed data and the fake
WeChat) inside the commands, and a production process never loads them.
"""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade
from werkzeug.serving import run_simple

from dispatch.standing import rebuild as rebuild_standings
from models import Community
from models.base import utcnow
from service_hub.plumbing.config import refuse_to_serve
from service_hub.plumbing.extensions import db


@click.command("seed-demo")
@click.option("--communities", default=300, show_default=True)
@click.option("--seed", default=20261122, show_default=True, help="Random seed.")
@click.option("--if-empty", is_flag=True, help="Do nothing when communities exist already.")
@with_appcontext
def seed_demo_command(communities: int, seed: int, if_empty: bool):
    """Fill the database with a realistic demo city (Shanghai) and a year of orders."""
    if if_empty and db.session.scalar(sa.select(sa.func.count()).select_from(Community)):
        db.session.rollback()
        click.echo("demo data present; skipping seed")
        return
    from demo.extras import seed_extras
    from demo.seed import seed_demo

    now = utcnow()
    summary = seed_demo(communities=communities, seed=seed, progress=click.echo, now=now)
    summary.update(seed_extras(seed, now))
    summary["standings"] = rebuild_standings()
    click.echo("seeded: " + ", ".join(f"{k}={v}" for k, v in summary.items()))


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.option("--wechat-port", default=8901, show_default=True)
@with_appcontext
def demo_command(host: str, port: int, wechat_port: int):
    """Migrate, seed the demo city if empty, start the fake WeChat, and serve the API."""
    from demo.fake_wechat import FakeWeChatServer

    refuse_to_serve(current_app.config)
    for what, number, option in (("the demo", port, "PORT"), ("the fake WeChat", wechat_port, "")):
        if not _port_free(host, number):
            hint = f"make run PORT={number + 1}" if option else "flask demo --wechat-port …"
            raise click.ClickException(
                f"port {number} on {host} is taken, so {what} cannot listen there "
                f"(端口 {number} 已被占用): stop what uses it, or choose another: {hint}"
            )
    app = current_app._get_current_object()
    click.echo("Preparing the database (migrations, then a demo city the first time: ~30 s)…")
    upgrade()
    click.get_current_context().invoke(seed_demo_command, if_empty=True)
    # End this command's transaction: on SQLite it would hold the write lock while we serve.
    db.session.remove()
    wechat = FakeWeChatServer(port=wechat_port).start()
    app.config["WECHAT_API_BASE"] = wechat.base_url
    base = f"http://{host}:{port}"
    click.echo(banner(base, wechat.base_url))
    run_simple(host, port, app, threaded=True)


def banner(base: str, wechat_base: str) -> str:
    """What `make run` prints once the demo listens."""
    return f"""
Service Hub demo is up on {base}
  Managers' dashboard:  {base}/dashboard   (manager / demo-pass-2026; also admin, manager-sh)
  Engineers' mobile:    {base}/m/          (engineer1 … engineer45 / demo-pass-2026)
  API docs:             {base}/api/v1/docs (OpenAPI: {base}/api/v1/openapi.json)
  Fake WeChat:          {wechat_base}
  Resident token:       curl -s -X POST {base}/api/v1/auth/wechat-login \\
                          -H 'Content-Type: application/json' -d '{{"code": "alice:1"}}'
    A wx.login code works once, as in WeChat: for another token of the same resident send
    "alice:2", "alice:3" …; "bob:1" is another resident.
  Staff token:          POST {base}/api/v1/auth/staff-login
                          {{"login": "manager", "password": "demo-pass-2026"}}
"""


def _port_free(host: str, port: int) -> bool:
    import socket

    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True
