"""Reaching residents in the demo city: visit announcements broadcast to whole communities
(with what happened to each WeChat message), a visit engineer1 announced, and coupon
campaigns in every state with the coupons residents claimed and used.

Rows are what the live code leaves: an outbox message relayed and done, its `broadcast`, an
inbox message and a `delivery` per bound resident (a subscription credit spent for each
WeChat send), campaigns whose `issued` equals their coupons.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import datetime, timedelta

import sqlalchemy as sa

from models import (
    Broadcast,
    CampaignStatus,
    Community,
    CommunityBinding,
    Coupon,
    CouponCampaign,
    CouponRewardRule,
    CouponStatus,
    Delivery,
    DeliveryStatus,
    Engineer,
    EngineerCommunity,
    InboxNotification,
    NotificationOptOut,
    OrderStatus,
    OutboxMessage,
    ServiceOrder,
    ServiceType,
    StaffUser,
    SubscriptionCredit,
    SubscriptionPrompt,
    Visit,
    VisitSlot,
)
from models.order import ACCEPTED_WORK
from notifications.templates import MARKETING, get_kind
from service_hub.coupons import targeting
from service_hub.plumbing.extensions import db
from service_hub.plumbing.timefmt import local_datetime_text, local_zone

KIND = "visit_announced"
RECENT = timedelta(days=2)  # announcements broadcast in the last days
OPTED_OUT, SENT, REFUSED = 0.03, 0.15, 0.02  # residents' WeChat outcomes (else no credit)
SECOND, MINUTE = timedelta(seconds=1), timedelta(minutes=1)
DAY, HOUR = timedelta(days=1), timedelta(hours=1)


def _rows(model, rows: list[dict]) -> None:
    for start in range(0, len(rows), 1000):
        db.session.execute(sa.insert(model), rows[start : start + 1000])


def announce_visit(now: datetime) -> int:
    """engineer1 announces tomorrow afternoon in their first community, four bookable
    slots (as POST /engineers/me/visits does); returns the visit id."""
    engineer = db.session.scalar(
        sa.select(Engineer).join(StaffUser).where(StaffUser.username == "engineer1")
    )
    community_id = db.session.scalar(
        sa.select(EngineerCommunity.community_id)
        .where(EngineerCommunity.engineer_id == engineer.id)
        .order_by(EngineerCommunity.standing.desc(), EngineerCommunity.community_id)
    )
    day = now.astimezone(local_zone()).date() + DAY
    start = datetime(day.year, day.month, day.day, 14, tzinfo=local_zone())
    visit = Visit(engineer_id=engineer.id, community_id=community_id, starts_at=start,
                  ends_at=start + 4 * HOUR, note="顺路上门，滤芯更换和空调清洗均可预约",
                  created_at=now - 3 * HOUR)  # fmt: skip
    db.session.add(visit)
    db.session.flush()
    _rows(VisitSlot, [{"visit_id": visit.id, "starts_at": start + n * HOUR,
                       "ends_at": start + (n + 1) * HOUR, "capacity": 1, "booked": 0}
                      for n in range(4)])  # fmt: skip
    return visit.id


def broadcast_visits(now: datetime, seed: int) -> dict[str, int]:
    """Every visit announced in the last RECENT, broadcast to its community's residents."""
    rng = random.Random(f"{seed}-broadcasts")
    visits = db.session.execute(
        sa.select(Visit.id, Visit.community_id, Visit.starts_at, Visit.created_at,
                  Engineer.name, Community.name)
        .join(Engineer, Engineer.id == Visit.engineer_id)
        .join(Community, Community.id == Visit.community_id)
        .where(Visit.created_at >= now - RECENT, Visit.created_at <= now)
        .order_by(Visit.created_at, Visit.id)
    ).all()  # fmt: skip
    bound = defaultdict(list)
    for community_id, resident_id in db.session.execute(
        sa.select(CommunityBinding.community_id, CommunityBinding.resident_id)
        .where(CommunityBinding.community_id.in_({v[1] for v in visits}))
        .order_by(CommunityBinding.resident_id)
    ):
        bound[community_id].append(resident_id)
    kind = get_kind(KIND)
    messages = [{"kind": KIND, "event_key": f"visit:{v[0]}", "created_at": v[3],
                 "relayed_at": v[3], "completed_at": v[3] + 30 * SECOND,
                 "payload": {"kind": KIND, "community_id": v[1], "visit_id": v[0],
                             "engineer_name": v[4], "community_name": v[5],
                             "local_start": local_datetime_text(v[2])}}
                for v in visits]  # fmt: skip
    message_ids = db.session.scalars(
        sa.insert(OutboxMessage).returning(OutboxMessage.id, sort_by_parameter_order=True),
        messages,
    ).all() if messages else []  # fmt: skip
    opted_out = {r for rs in bound.values() for r in rs if rng.random() < OPTED_OUT}
    _rows(NotificationOptOut, [{"resident_id": r, "kind": KIND, "created_at": now - 30 * DAY}
                               for r in sorted(opted_out)])  # fmt: skip
    inbox, deliveries, sent_on = [], [], set()
    for message_id, message, visit in zip(message_ids, messages, visits, strict=True):
        residents, at = bound[visit[1]], message["created_at"]
        broadcast = Broadcast(outbox_message_id=message_id, community_id=visit[1], kind=KIND,
                              event_key=message["event_key"], recipients=len(residents),
                              created_at=at, finished_at=at + 2 * MINUTE)  # fmt: skip
        db.session.add(broadcast)
        db.session.flush()
        title, body, page = kind.render(message["payload"])
        for resident_id in residents:
            read = at + rng.uniform(0.2, 30) * HOUR if rng.random() < 0.4 else None
            inbox.append({"resident_id": resident_id, "kind": KIND, "event_key": message[
                "event_key"], "title": title, "body": body, "page": page, "created_at": at,
                "read_at": read if read and read <= now else None})  # fmt: skip
            status, errcode, roll = DeliveryStatus.SKIPPED_NO_CREDIT, None, rng.random()
            day = (resident_id, at.astimezone(local_zone()).date())
            if resident_id in opted_out:
                status = DeliveryStatus.OPTED_OUT
            elif roll < SENT + REFUSED and day in sent_on:  # one marketing message a day
                status = DeliveryStatus.CAPPED
            elif roll < SENT:
                status = DeliveryStatus.SENT
                sent_on.add(day)
            elif roll < SENT + REFUSED:  # the user refused it in WeChat: credit stays spent
                status, errcode = DeliveryStatus.FAILED, 43101
            tried = status in (DeliveryStatus.SENT, DeliveryStatus.FAILED)
            deliveries.append({"resident_id": resident_id, "kind": KIND,
                               "event_key": message["event_key"], "broadcast_id": broadcast.id,
                               "urgency": MARKETING, "status": status, "errcode": errcode,
                               "attempts": int(tried), "payload": message["payload"],
                               "created_at": at, "updated_at": at + MINUTE,
                               "sent_at": at + MINUTE if status == DeliveryStatus.SENT
                               else None})  # fmt: skip
    _rows(InboxNotification, inbox)
    _rows(Delivery, deliveries)
    _spend_credits(kind.template_id, [d for d in deliveries if d["attempts"]], now)
    return {"broadcasts": len(messages), "deliveries": len(deliveries)}


def _spend_credits(template_id: str, tried: list[dict], now: datetime) -> None:
    """Each WeChat send spent one accepted subscription (prompt and credit rows)."""
    ids = {
        (r, key): delivery_id
        for delivery_id, r, key in db.session.execute(
            sa.select(Delivery.id, Delivery.resident_id, Delivery.event_key).where(
                Delivery.attempts > 0
            )
        )
    }
    accepted = [d["created_at"] - 5 * DAY for d in tried]
    _rows(SubscriptionPrompt, [{"resident_id": d["resident_id"], "template_id": template_id,
                                "result": "accept", "created_at": at}
                               for d, at in zip(tried, accepted, strict=True)])  # fmt: skip
    _rows(SubscriptionCredit, [{"resident_id": d["resident_id"], "template_id": template_id,
                                "accepted_at": at, "spent_at": d["updated_at"],
                                "spent_by": ids[(d["resident_id"], d["event_key"])]}
                               for d, at in zip(tried, accepted, strict=True)])  # fmt: skip


def _campaigns(now: datetime, services: dict[str, int], staff: dict[str, int]) -> list[dict]:
    """Campaigns as managers set them up (docs/coupons.md), one in each state."""
    common = {"channel": "claim", "amount_off_cents": None, "percent_off": None,
              "max_discount_cents": None, "min_spend_cents": 0, "per_resident_limit": 1,
              "ends_at": None, "valid_from": None, "valid_until": None, "valid_days": None,
              "targeting": {}, "region_scope": None, "created_by": staff["manager"]}  # fmt: skip
    return [
        {**common, "title": "滤芯更换立减20元", "description": "全市小区通用，满30元可用",
         "discount_kind": "fixed", "amount_off_cents": 2000, "min_spend_cents": 3000,
         "service_type_ids": [services["filter_replace"]], "total_stock": 500,
         "starts_at": now - 10 * DAY, "valid_until": now + 60 * DAY,
         "status": CampaignStatus.ACTIVE, "created_at": now - 11 * DAY},
        {**common, "title": "壁挂炉保养85折", "description": "A、B级小区冬季保养专享，最高减30元",
         "discount_kind": "percent", "percent_off": 15, "max_discount_cents": 3000,
         "service_type_ids": [services["boiler_service"], services["heater_repair"]],
         "total_stock": 300, "targeting": {"tiers": ["A", "B"]}, "region_scope": "上海市",
         "created_by": staff["manager-sh"], "starts_at": now - 20 * DAY,
         "ends_at": now + 40 * DAY, "valid_days": 30, "status": CampaignStatus.ACTIVE,
         "created_at": now - 21 * DAY},
        {**common, "title": "浦东空调清洗满100减30", "description": "夏季清洗季，浦东新区小区",
         "discount_kind": "fixed", "amount_off_cents": 3000, "min_spend_cents": 10000,
         "service_type_ids": [services["aircon_clean"]], "total_stock": 200,
         "targeting": {"regions": [{"city": "上海市", "district": "浦东新区"}]},
         "starts_at": now - 150 * DAY, "ends_at": now - 90 * DAY,
         "valid_until": now - 60 * DAY, "status": CampaignStatus.ENDED,
         "created_at": now - 152 * DAY},
        {**common, "title": "新业主首单立减30元", "description": "入住30天内的新用户",
         "discount_kind": "fixed", "amount_off_cents": 3000, "service_type_ids": [],
         "total_stock": 1000, "targeting": {"new_residents_days": 30},
         "starts_at": now - 30 * DAY, "valid_days": 14, "status": CampaignStatus.PAUSED,
         "created_at": now - 31 * DAY},
        {**common, "title": "低活跃小区唤醒券", "description": "上月千户单量低于3的小区，待审核",
         "discount_kind": "fixed", "amount_off_cents": 1500, "service_type_ids": [],
         "total_stock": 400, "targeting": {"orders_per_1000": {"max": 3}},
         "starts_at": now + 3 * DAY, "valid_days": 30, "status": CampaignStatus.DRAFT,
         "created_at": now - 2 * HOUR},
        {**common, "title": "晒图评价奖励10元券", "description": "带照片评价即送",
         "channel": "reward", "discount_kind": "fixed", "amount_off_cents": 1000,
         "service_type_ids": [], "total_stock": 5000, "starts_at": now - 60 * DAY,
         "valid_days": 30, "status": CampaignStatus.ACTIVE, "created_at": now - 61 * DAY},
    ]  # fmt: skip


def run_campaigns(now: datetime, seed: int) -> dict[str, int]:
    """The campaigns, a participation reward rule, and the coupons issued from them: some
    used on orders (spent), the rest held (still usable, or expired with the campaign)."""
    rng = random.Random(f"{seed}-campaigns")
    services = dict(db.session.execute(sa.select(ServiceType.code, ServiceType.id)).all())
    staff = dict(db.session.execute(sa.select(StaffUser.username, StaffUser.id)).all())
    prices = dict(db.session.execute(sa.select(ServiceType.id, ServiceType.base_price_cents)).all())
    campaigns = _campaigns(now, services, staff)
    where = targeting.places(list(db.session.scalars(sa.select(Community.id))), now)
    places = [{c for c, place in where.items()
               if targeting.reaches(campaign["targeting"], campaign["region_scope"], place)}
              for campaign in campaigns]  # fmt: skip
    coupons = []
    for n, campaign in enumerate(campaigns[:3]):
        coupons += _issue(rng, n, campaign, places[n], prices, now)
        campaign["issued"] = sum(coupon["_campaign"] == n for coupon in coupons)
    ids = db.session.scalars(
        sa.insert(CouponCampaign).returning(CouponCampaign.id, sort_by_parameter_order=True),
        campaigns,
    ).all()
    for coupon in coupons:
        coupon["campaign_id"] = ids[coupon.pop("_campaign")]
    _rows(Coupon, coupons)
    rule = CouponRewardRule(event="review_with_photos", campaign_id=ids[-1],
                            created_by=staff["manager"], created_at=now - 60 * DAY)  # fmt: skip
    db.session.add(rule)
    return {"coupon_campaigns": len(campaigns), "coupons": len(coupons)}


def _issue(rng, n: int, campaign: dict, places: set[int], prices: dict, now) -> list[dict]:
    """Coupons of one campaign: claims by residents of the communities it reaches, during
    its claim window; a third of them used on that resident's next fitting order."""
    until = min(campaign["ends_at"] or now, now)
    orders = db.session.execute(
        sa.select(ServiceOrder.id, ServiceOrder.resident_id, ServiceOrder.community_id,
                  ServiceOrder.service_type_id, ServiceOrder.created_at,
                  ServiceOrder.acceptance, ServiceOrder.confirmed_at)
        .where(ServiceOrder.status == OrderStatus.COMPLETED,
               ServiceOrder.service_type_id.in_(campaign["service_type_ids"]),
               ServiceOrder.created_at >= campaign["starts_at"] + DAY,
               ServiceOrder.created_at < until)
        .order_by(ServiceOrder.id)
    ).all()  # fmt: skip
    first = {}  # each resident's first fitting order: one coupon each (per_resident_limit)
    for o in orders:
        if o.community_id in places:
            first.setdefault(o.resident_id, o)
    used = rng.sample(list(first.values()), min(len(first), rng.randint(8, 20)))
    holders = db.session.execute(
        sa.select(CommunityBinding.resident_id, CommunityBinding.community_id)
        .where(CommunityBinding.community_id.in_(places))
        .order_by(CommunityBinding.id)
    ).all()  # fmt: skip
    takers = {o.resident_id for o in used}
    others = list({h[0]: h for h in holders if h[0] not in takers}.values())
    held = rng.sample(others, min(len(others), rng.randint(25, 60)))
    coupons = []
    for order in used:  # spent at acceptance; pending or disputed work keeps it reserved
        spent = order.acceptance in ACCEPTED_WORK
        claimed = order.created_at - rng.uniform(1, 48) * HOUR
        claimed = max(claimed, campaign["starts_at"])
        price = prices[order.service_type_id]
        off = campaign["amount_off_cents"] or min(
            price * campaign["percent_off"] // 100, campaign["max_discount_cents"]
        )
        coupons.append(_coupon(n, campaign, order.resident_id, order.community_id, claimed) | {
            "status": CouponStatus.SPENT if spent else CouponStatus.RESERVED,
            "order_id": order.id, "discount_cents": off, "reserved_at": order.created_at,
            "spent_at": order.confirmed_at if spent else None})  # fmt: skip
    for resident_id, community_id in held:
        claimed = campaign["starts_at"] + (until - campaign["starts_at"]) * rng.random()
        coupons.append(_coupon(n, campaign, resident_id, community_id, claimed))
    return coupons


def _coupon(n: int, campaign: dict, resident_id: int, community_id: int, claimed) -> dict:
    valid_until = campaign["valid_until"] or claimed + campaign["valid_days"] * DAY
    return {"_campaign": n, "resident_id": resident_id, "community_id": community_id, "seq": 1,
            "source": "claim", "grant_key": None, "status": CouponStatus.AVAILABLE,
            "valid_from": claimed, "valid_until": valid_until, "order_id": None,
            "discount_cents": None, "created_at": claimed, "reserved_at": None,
            "spent_at": None}  # fmt: skip
