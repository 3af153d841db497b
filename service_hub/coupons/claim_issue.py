"""A claimed coupon issued on PostgreSQL in one autocommitted statement.

The campaign row's lock is what keeps claims from over-issuing, and every claim of a campaign
queues behind it. Issued the ORM way (UPDATE, count, INSERT, COMMIT: four round trips with
Python between them) the lock is held while the web process that took it waits for the
database and for a CPU; on a busy host that wait, not the database, set the claim rate. Here
one statement takes a unit of stock and inserts the coupon, and PostgreSQL commits it before
answering, so the lock is held only inside the database:

    WITH held AS (SELECT count(*) AS n FROM coupon WHERE campaign_id = :c AND resident_id = :r),
         taken AS (UPDATE coupon_campaign SET issued = issued + 1, updated_at = :now
                   WHERE id = :c AND status = 'active' AND issued < total_stock
                     AND per_resident_limit > (SELECT n FROM held) RETURNING id)
    INSERT INTO coupon (…, seq, …) SELECT …, held.n + 1, … FROM taken, held RETURNING coupon.*

The stock condition is re-checked against the row as the previous holder of the lock committed
it (PostgreSQL re-evaluates an UPDATE's conditions on the newest row version), so the stock is
never exceeded, and the counter moves in the statement that inserts the row it counts. `held`
is read from the statement's snapshot, which may predate a coupon the same resident got while
this statement waited for the lock: then `seq` collides with that coupon's (unique per
campaign and resident), the whole statement is undone, and the claim tries again with a fresh
snapshot. Each collision means another coupon of the resident was committed first, so after
per_resident_limit of them the limit is reached and the next try refuses cleanly: the tries
are bounded by the limit (at most 100), and parallel claims of one resident under the limit
all succeed, as they did when the count was read under the lock.
"""

from __future__ import annotations

import functools
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from models import CampaignStatus, Coupon, CouponCampaign, CouponStatus
from service_hub.plumbing.extensions import db


@functools.cache
def _statement() -> sa.Insert:
    """The issuing statement, built once (its parameters, p_*, are bound per claim; named
    apart from any column, which Core would take as a value to set). On the tables, so that
    the session runs it as one statement, not as the ORM's bulk insert."""
    coupon, campaign = Coupon.__table__.c, CouponCampaign.__table__.c
    campaign_id = sa.bindparam("p_campaign_id", type_=sa.Integer)
    resident_id = sa.bindparam("p_resident_id", type_=sa.Integer)
    now = sa.bindparam("p_now", type_=coupon.created_at.type)
    held = (
        sa.select(sa.func.count().label("n"))
        .where(coupon.campaign_id == campaign_id, coupon.resident_id == resident_id)
        .cte("held")
    )
    taken = (
        sa.update(CouponCampaign.__table__)
        .where(
            campaign.id == campaign_id,
            campaign.status == CampaignStatus.ACTIVE,
            campaign.issued < campaign.total_stock,
            campaign.per_resident_limit > sa.select(held.c.n).scalar_subquery(),
        )
        .values(issued=campaign.issued + 1, updated_at=now)
        .returning(campaign.id)
        .cte("taken")
    )
    values = {
        coupon.campaign_id: taken.c.id,
        coupon.resident_id: resident_id,
        coupon.community_id: sa.bindparam("p_community_id", type_=sa.Integer),
        coupon.seq: held.c.n + 1,
        coupon.source: sa.literal("claim", coupon.source.type),
        coupon.grant_key: sa.bindparam("p_grant_key", type_=coupon.grant_key.type),
        coupon.idempotency_fingerprint: sa.bindparam(
            "p_fingerprint", type_=coupon.idempotency_fingerprint.type
        ),
        coupon.status: sa.literal(CouponStatus.AVAILABLE, coupon.status.type),
        coupon.valid_from: sa.bindparam("p_valid_from", type_=coupon.valid_from.type),
        coupon.valid_until: sa.bindparam("p_valid_until", type_=coupon.valid_until.type),
        coupon.created_at: now,
    }
    rows = sa.select(*values.values()).select_from(taken).join(held, sa.true())
    return sa.insert(Coupon.__table__).from_select(list(values), rows).returning(*coupon)


def autocommit() -> bool:
    """On PostgreSQL, with no transaction open yet, run this session's statements each in a
    transaction of its own (the claim's reads are advisory: its one statement decides);
    returns whether it did."""
    if db.session.get_bind().dialect.name != "postgresql" or db.session().in_transaction():
        return False
    db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    return True


def issue_claim(
    campaign: CouponCampaign,
    resident_id: int,
    community_id: int | None,
    grant_key: str | None,
    fingerprint: str | None,
    valid: tuple[datetime, datetime],
    now: datetime,
) -> tuple[Coupon | None, str]:
    """Issue a claimed coupon (PostgreSQL), committed on return. Returns (coupon, "issued"),
    (first coupon, "exists") for a grant_key seen before, or (None, "out_of_stock" | "limit").
    An issued coupon comes back detached, with `campaign` as its campaign, so answering
    needs no query. Outside autocommit() the statement commits the caller's transaction."""
    # Detached first, so that a try's rollback cannot expire what the answer shows.
    db.session.expunge(campaign)
    parameters = {
        "p_campaign_id": campaign.id,
        "p_resident_id": resident_id,
        "p_community_id": community_id,
        "p_grant_key": grant_key,
        "p_fingerprint": fingerprint,
        "p_valid_from": valid[0],
        "p_valid_until": valid[1],
        "p_now": now,
    }
    for _ in range(campaign.per_resident_limit + 1):
        autocommit()
        try:
            row = db.session.execute(_statement(), parameters).first()
        except IntegrityError:
            db.session.rollback()
            if grant_key and (existing := _by_grant_key(campaign.id, resident_id, grant_key)):
                return existing, "exists"
            db.session.rollback()
            continue  # another coupon of this resident came first: count again
        if row is None:
            return None, _refusal(campaign.id)
        db.session.commit()  # under autocommit() the server has already committed
        coupon = Coupon(**{column.key: row._mapping[column] for column in Coupon.__table__.c})
        coupon.campaign = campaign
        return coupon, "issued"
    return None, "limit"


def _by_grant_key(campaign_id: int, resident_id: int, grant_key: str) -> Coupon | None:
    return db.session.scalar(
        sa.select(Coupon).where(
            Coupon.campaign_id == campaign_id,
            Coupon.resident_id == resident_id,
            Coupon.grant_key == grant_key,
        )
    )


def _refusal(campaign_id: int) -> str:
    """Why nothing was issued: out of stock (or no longer active), else the resident's limit."""
    stock_left = db.session.scalar(
        sa.select(
            (CouponCampaign.status == CampaignStatus.ACTIVE)
            & (CouponCampaign.issued < CouponCampaign.total_stock)
        ).where(CouponCampaign.id == campaign_id)
    )
    return "limit" if stock_left else "out_of_stock"
