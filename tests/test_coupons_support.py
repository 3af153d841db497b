"""Helpers shared by the coupon tests (this module holds no tests of its own)."""

from __future__ import annotations

import hashlib
import itertools
from datetime import timedelta

import sqlalchemy as sa

from models import CommunityBinding, CommunityMonthKpi, Coupon, CouponCampaign, Resident, Upload
from models.base import utcnow
from service_hub.coupons.targeting import volume_month
from service_hub.plumbing.extensions import db
from tests import factories as f

_numbers = itertools.count(1)


def manager(app, region: str | None = None) -> dict:
    """Authorization header of a (regional) manager."""
    return f.staff_auth(app, f.staff(app, "manager", region=region), "manager")


def campaign_body(**overrides) -> dict:
    """A claimable ¥10-off campaign, 100 in stock, one per resident, valid 30 days."""
    body = {
        "title": "净水器清洗立减10元",
        "discount_kind": "fixed",
        "amount_off_cents": 1000,
        "total_stock": 100,
        "valid_days": 30,
    }
    return {**body, **overrides}


def create_campaign(client, auth: dict, *, activate: bool = True, **overrides) -> dict:
    """Create a campaign (and take it live); returns its JSON."""
    response = client.post(
        "/api/v1/coupon-campaigns", headers=auth, json=campaign_body(**overrides)
    )
    assert response.status_code == 201, response.json
    if not activate:
        return response.json
    activated = client.post(
        f"/api/v1/coupon-campaigns/{response.json['id']}/activate", headers=auth
    )
    assert activated.status_code == 200, activated.json
    return activated.json


def claim(client, auth: dict, campaign_id: int, key: str | None = None, **body):
    """POST /coupons/{campaign_id}/claim."""
    headers = {**auth, **({"Idempotency-Key": key} if key else {})}
    return client.post(f"/api/v1/coupons/{campaign_id}/claim", headers=headers, json=body)


def listed(client, auth: dict, community_id: int) -> list[int]:
    """Campaign ids a caller sees on GET /communities/{id}/coupons."""
    response = client.get(f"/api/v1/communities/{community_id}/coupons", headers=auth)
    assert response.status_code == 200, response.json
    return [item["campaign_id"] for item in response.json["items"]]


def orders_last_month(app, community_id: int, orders: int) -> None:
    """Give a community `orders` created orders in the month the volume band reads."""
    with app.app_context():
        db.session.add(
            CommunityMonthKpi(
                community_id=community_id, month=volume_month(), orders_created=orders
            )
        )
        db.session.commit()


def many_residents(app, community_id: int, count: int) -> list[int]:
    """`count` residents bound to a community, inserted in bulk."""
    with app.app_context():
        tag = next(_numbers)
        rows = [{"openid": f"ocpn{tag:06d}{community_id:06d}{n:012d}"} for n in range(count)]
        ids = db.session.scalars(sa.insert(Resident).returning(Resident.id), rows).all()
        db.session.execute(
            sa.insert(CommunityBinding),
            [{"resident_id": rid, "community_id": community_id} for rid in ids],
        )
        db.session.commit()
        return list(ids)


def age_resident(app, resident_id: int, days: int) -> None:
    """Make a resident look as if they joined `days` ago."""
    with app.app_context():
        db.session.get(Resident, resident_id).created_at = utcnow() - timedelta(days=days)
        db.session.commit()


def uploaded_photo(app) -> str:
    """The URL of an image uploaded here (the row made directly)."""
    sha = hashlib.sha256(f"coupon-photo-{next(_numbers)}".encode()).hexdigest()
    with app.app_context():
        db.session.add(
            Upload(
                sha256=sha,
                content_type="image/jpeg",
                extension="jpg",
                size_bytes=100,
                width=10,
                height=10,
                uploader_kind="resident",
                uploader_id=1,
            )
        )
        db.session.commit()
    return f"{app.config['UPLOAD_URL_PREFIX']}{sha}.jpg"


def coupons_of(app, campaign_id: int) -> list[Coupon]:
    """Every coupon issued from a campaign."""
    with app.app_context():
        return db.session.scalars(
            sa.select(Coupon).where(Coupon.campaign_id == campaign_id).order_by(Coupon.id)
        ).all()


def issued(app, campaign_id: int) -> tuple[int, int]:
    """(campaign.issued, coupons actually stored) for a campaign."""
    with app.app_context():
        campaign = db.session.get(CouponCampaign, campaign_id)
        stored = db.session.scalar(
            sa.select(sa.func.count()).where(Coupon.campaign_id == campaign_id)
        )
        return campaign.issued, stored
