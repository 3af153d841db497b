"""Test data factories: each opens its own app context, commits, and returns ids."""

from __future__ import annotations

import itertools

import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from models import (
    Community,
    CommunityBinding,
    Engineer,
    EngineerCommunity,
    EngineerSkill,
    Resident,
    ServiceType,
    StaffUser,
)
from service_hub.auth.tokens import issue_token
from service_hub.plumbing.extensions import db

PASSWORD = "correct-horse-battery"
_PASSWORD_HASH = generate_password_hash(PASSWORD)
_seq = itertools.count(1)


def _save(app, obj) -> int:
    with app.app_context():
        db.session.add(obj)
        db.session.commit()
        return obj.id


def community(app, **overrides) -> int:
    """A community in Shanghai (徐汇区) with 1,000 households."""
    n = next(_seq)
    fields = {
        "external_code": f"T-{n:05d}",
        "name": f"测试小区{n}",
        "province": "上海市",
        "city": "上海市",
        "district": "徐汇区",
        "address": f"测试路{n}号",
        "lat": 31.19,
        "lng": 121.44,
        "household_count": 1000,
    }
    return _save(app, Community(**{**fields, **overrides}))


def resident(app, communities: tuple[int, ...] = (), **overrides) -> int:
    """A resident, optionally bound to communities."""
    n = next(_seq)
    openid = f"otest{n:023d}"
    resident_id = _save(app, Resident(**{"openid": openid, **overrides}))
    with app.app_context():
        for community_id in communities:
            db.session.add(CommunityBinding(resident_id=resident_id, community_id=community_id))
        db.session.commit()
    return resident_id


def many_residents(app, community_id: int, count: int) -> list[int]:
    """`count` residents bound to the community, inserted in bulk (for concurrency tests)."""
    start = next(_seq) * 100_000
    with app.app_context():
        rows = [{"openid": f"obulk{start + n:023d}"} for n in range(count)]
        ids = db.session.scalars(sa.insert(Resident).returning(Resident.id), rows).all()
        db.session.execute(
            sa.insert(CommunityBinding),
            [{"resident_id": rid, "community_id": community_id} for rid in ids],
        )
        db.session.commit()
        return list(ids)


def service_type(app, skill: str = "purifier", **overrides) -> int:
    """A service needing `skill` at level 1."""
    n = next(_seq)
    fields = {
        "code": f"svc{n}",
        "name": f"测试服务{n}",
        "skill": skill,
        "duration_minutes": 60,
        "base_price_cents": 9900,
    }
    return _save(app, ServiceType(**{**fields, **overrides}))


def staff(app, role: str, region: str | None = None, username: str | None = None) -> int:
    """A staff account whose password is PASSWORD."""
    n = next(_seq)
    return _save(
        app,
        StaffUser(
            username=username or f"{role}{n}",
            role=role,
            display_name=f"{role}{n}",
            region=region,
            password_hash=_PASSWORD_HASH,
        ),
    )


def engineer(
    app,
    communities: tuple[int, ...] = (),
    skills: dict[str, int] | None = None,
    standing: float = 0.5,
    base: tuple[float, float] = (31.19, 121.44),
    **overrides,
) -> int:
    """An engineer (with a staff account) serving communities, with skills."""
    staff_id = staff(app, "engineer")
    n = next(_seq)
    engineer_id = _save(
        app,
        Engineer(
            **{
                "staff_user_id": staff_id,
                "name": f"测试师傅{n}",
                "base_lat": base[0],
                "base_lng": base[1],
                **overrides,
            }
        ),
    )
    with app.app_context():
        for skill, level in (skills if skills is not None else {"purifier": 3}).items():
            db.session.add(EngineerSkill(engineer_id=engineer_id, skill=skill, level=level))
        for community_id in communities:
            db.session.add(
                EngineerCommunity(
                    engineer_id=engineer_id, community_id=community_id, standing=standing
                )
            )
        db.session.commit()
    return engineer_id


def staff_id_of(app, engineer_id: int) -> int:
    """The staff account behind an engineer."""
    with app.app_context():
        return db.session.get(Engineer, engineer_id).staff_user_id


def token(app, kind: str, subject_id: int, role: str) -> dict:
    """Authorization header for a resident ("resident") or staff member ("staff")."""
    with app.app_context():
        value, _ = issue_token(kind, subject_id, role)
    return {"Authorization": f"Bearer {value}"}


def resident_auth(app, resident_id: int) -> dict:
    """Authorization header for a resident."""
    return token(app, "resident", resident_id, "resident")


def engineer_auth(app, engineer_id: int) -> dict:
    """Authorization header for an engineer."""
    return token(app, "staff", staff_id_of(app, engineer_id), "engineer")


def staff_auth(app, staff_id: int, role: str) -> dict:
    """Authorization header for a manager or admin."""
    return token(app, "staff", staff_id, role)


def completed_order(
    app,
    client,
    run_jobs,
    community_id: int,
    resident_id: int,
    engineer_id: int,
    service_id: int | None = None,
) -> int:
    """An order the resident requests through the API and the engineer completes."""
    response = client.post(
        "/api/v1/orders",
        headers=resident_auth(app, resident_id),
        json={
            "community_id": community_id,
            "service_type_id": service_id or service_type(app),
            "preferred_engineer_id": engineer_id,
        },
    )
    assert response.status_code == 201, response.json
    order_id = response.json["id"]
    run_jobs()
    engineer = engineer_auth(app, engineer_id)
    for action in ("accept", "en-route", "start", "complete"):
        step = client.post(f"/api/v1/orders/{order_id}/{action}", headers=engineer, json={})
        assert step.status_code == 200, (action, step.json)
    run_jobs()
    return order_id


def accepted_order(
    app,
    client,
    run_jobs,
    community_id: int,
    resident_id: int,
    engineer_id: int,
    service_id: int | None = None,
    signature_url: str | None = None,
) -> int:
    """An order the engineer completes and the resident then accepts (POST …/confirm): only
    accepted work counts as done (points, standing, coupon spent, butler's reward)."""
    order_id = completed_order(
        app, client, run_jobs, community_id, resident_id, engineer_id, service_id
    )
    body = {"signature_url": signature_url} if signature_url else {}
    response = client.post(
        f"/api/v1/orders/{order_id}/confirm", headers=resident_auth(app, resident_id), json=body
    )
    assert response.status_code == 200, response.json
    run_jobs()
    return order_id


def subscription_credits(app, resident_ids: list[int], kind: str) -> None:
    """One accepted subscribe prompt (one WeChat send) of `kind` for each resident."""
    from models import SubscriptionCredit

    with app.app_context():
        template = app.config["WECHAT_TEMPLATES"][kind]
        db.session.execute(
            sa.insert(SubscriptionCredit),
            [{"resident_id": rid, "template_id": template} for rid in resident_ids],
        )
        db.session.commit()


def announce_visit(app, community_id: int, key: str = "visit:1") -> None:
    """A visit announcement to the community's residents, as the outbox carries it (the
    broadcast a visit's creation records), committed and relayed."""
    from service_hub.plumbing import outbox

    with app.app_context():
        outbox.record(
            "visit_announced",
            key,
            {
                "kind": "visit_announced",
                "community_id": community_id,
                "visit_id": 1,
                "engineer_name": "张师傅",
                "community_name": "阳光小区",
                "local_start": "2026年12月1日 10:00",
            },
        )
        outbox.commit_and_relay()
