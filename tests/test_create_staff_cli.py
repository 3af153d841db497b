"""`flask create-staff`: an engineer it creates can sign in and be offered work, or it refuses."""

import pytest
import sqlalchemy as sa

from models import StaffUser
from service_hub.plumbing.extensions import db
from tests import factories as f

PASSWORD = "engineer-pass-2026"


def create_staff(app, *args: str):
    """Run `flask create-staff` with the given arguments."""
    return app.test_cli_runner().invoke(args=["create-staff", *args, "--password", PASSWORD])


def engineer_args(community_id: int, *extra: str) -> list[str]:
    return [
        "wang",
        "--role",
        "engineer",
        "--name",
        "王师傅",
        "--base-lat",
        "31.19",
        "--base-lng",
        "121.44",
        "--skill",
        "purifier:3",
        "--community",
        str(community_id),
        *extra,
    ]


def sign_in(client, login: str = "wang") -> dict:
    response = client.post("/api/v1/auth/staff-login", json={"login": login, "password": PASSWORD})
    assert response.status_code == 200, response.json
    return response.json


def staff_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(StaffUser))


def test_an_engineer_created_by_the_cli_signs_in_with_a_profile(app, client):
    result = create_staff(app, *engineer_args(f.community(app)))
    assert result.exit_code == 0, result.output
    login = sign_in(client)
    assert login["role"] == "engineer"
    assert login["engineer_id"] is not None
    me = client.get("/api/v1/engineers/me", headers={"Authorization": f"Bearer {login['token']}"})
    assert me.status_code == 200
    assert (me.json["id"], me.json["name"], me.json["base_lat"]) == (
        login["engineer_id"],
        "王师傅",
        31.19,
    )


def test_dispatch_offers_work_to_an_engineer_created_by_the_cli(app, client, run_jobs):
    community_id = f.community(app)
    resident_id = f.resident(app, communities=(community_id,))
    service_id = f.service_type(app, skill="purifier")
    assert create_staff(app, *engineer_args(community_id)).exit_code == 0
    order = client.post(
        "/api/v1/orders",
        headers=f.resident_auth(app, resident_id),
        json={"community_id": community_id, "service_type_id": service_id},
    )
    run_jobs()
    engineer = {"Authorization": f"Bearer {sign_in(client)['token']}"}
    offers = client.get("/api/v1/engineers/me/offers", headers=engineer).json["items"]
    assert [offer["order_id"] for offer in offers] == [order.json["id"]]


def test_an_engineer_without_a_profile_is_refused(app):
    result = create_staff(app, "wang", "--role", "engineer", "--name", "王师傅")
    assert result.exit_code != 0
    assert "--base-lat" in result.output
    assert staff_count(app) == 0


@pytest.mark.parametrize("missing", ["--base-lat", "--skill", "--community"])
def test_an_engineer_without_what_dispatch_needs_is_refused(app, missing):
    args = engineer_args(f.community(app))
    at = args.index(missing)
    del args[at : at + 2]
    result = create_staff(app, *args)
    assert result.exit_code != 0
    assert missing in result.output
    assert staff_count(app) == 0


def test_an_engineer_for_an_unknown_community_is_refused(app):
    result = create_staff(app, *engineer_args(999_999))
    assert result.exit_code != 0
    assert "999999" in result.output
    assert staff_count(app) == 0


def test_engineer_options_are_refused_for_a_manager(app):
    result = create_staff(
        app, "li", "--role", "manager", "--name", "李经理", "--skill", "purifier:3"
    )
    assert result.exit_code != 0
    assert "--skill" in result.output
    assert staff_count(app) == 0
