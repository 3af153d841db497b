"""`flask demo`: the embedded default in one command, with the fake WeChat and demo data."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from werkzeug.serving import run_simple


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.option("--wechat-port", default=8901, show_default=True)
@with_appcontext
def demo_command(host: str, port: int, wechat_port: int):
    """Migrate, seed the demo city if empty, start the fake WeChat, and serve the API."""
    from flask_migrate import upgrade

    from service_hub.cli import seed_demo_command
    from service_hub.extensions import db
    from service_hub.wechat.fake_server import FakeWeChatServer

    app = current_app._get_current_object()
    upgrade()
    click.get_current_context().invoke(seed_demo_command, if_empty=True)
    # End this command's transaction: on SQLite it would hold the write lock while we serve.
    db.session.remove()
    wechat = FakeWeChatServer(port=wechat_port).start()
    app.config["WECHAT_API_BASE"] = wechat.base_url
    base = f"http://{host}:{port}"
    click.echo(f"""
Service Hub demo is up.
  API docs:        {base}/api/v1/docs
  OpenAPI:         {base}/api/v1/openapi.json
  Fake WeChat:     {wechat.base_url} (any wx.login code works; "alice:1", "alice:2" are one user)
  Resident token:  curl -s -X POST {base}/api/v1/auth/wechat-login \\
                     -H 'Content-Type: application/json' -d '{{"code": "alice:1"}}'
  Staff tokens:    POST {base}/api/v1/auth/staff-login
                   {{"login": "manager", "password": "demo-pass-2026"}}
                   (also "admin", "manager-sh", "engineer1" … with the same password)
""")
    run_simple(host, port, app, threaded=True)
