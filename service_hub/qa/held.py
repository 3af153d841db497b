"""The staff review queue: questions, answers and reviews held for review (WeChat doubted
them, or could not check them) in the caller's region, oldest first, in one paginated query."""

from __future__ import annotations

import sqlalchemy as sa

from models import Answer, Community, ModerationStatus, Question, Review, ReviewStatus
from service_hub.auth.regions import region_clause
from service_hub.auth.tokens import Principal
from service_hub.plumbing.pagination import paginate

HELD_KINDS = ("question", "answer", "review")
HELD_COLUMNS = (
    "kind", "id", "community_id", "community_name", "question_id", "order_id", "rating", "text",
    "photos", "resident_id", "staff_user_id", "created_at",
)  # fmt: skip


def _questions(no_id) -> sa.Select:
    return sa.select(
        sa.literal("question").label("kind"),
        Question.id,
        Question.community_id,
        Community.name.label("community_name"),
        no_id.label("question_id"),
        no_id.label("order_id"),
        no_id.label("rating"),
        Question.text,
        Question.photos,
        Question.resident_id,
        no_id.label("staff_user_id"),
        Question.created_at,
    ).where(Question.status == ModerationStatus.HELD)


def _answers(no_id) -> sa.Select:
    return (
        sa.select(
            sa.literal("answer").label("kind"),
            Answer.id,
            Question.community_id,
            Community.name.label("community_name"),
            Answer.question_id,
            no_id.label("order_id"),
            no_id.label("rating"),
            Answer.text,
            Answer.photos,
            no_id.label("resident_id"),
            Answer.staff_user_id,
            Answer.created_at,
        )
        .join(Question, Question.id == Answer.question_id)
        .where(Answer.status == ModerationStatus.HELD)
    )


def _reviews(no_id) -> sa.Select:
    return sa.select(
        sa.literal("review").label("kind"),
        Review.id,
        Review.community_id,
        Community.name.label("community_name"),
        no_id.label("question_id"),
        Review.order_id,
        Review.rating,
        Review.text,
        Review.photos,
        Review.resident_id,
        no_id.label("staff_user_id"),
        Review.created_at,
    ).where(Review.status == ReviewStatus.HELD)


def held_page(
    principal: Principal,
    page: int,
    page_size: int,
    kind: str | None = None,
    community_id: int | None = None,
) -> dict:
    """Held content of the caller's region (one kind, one community when given), oldest first."""
    no_id = sa.cast(sa.null(), sa.Integer)
    parts = []
    for name, build, community in (
        ("question", _questions, Question.community_id),
        ("answer", _answers, Question.community_id),
        ("review", _reviews, Review.community_id),
    ):
        if kind and kind != name:
            continue
        part = (
            build(no_id).join(Community, Community.id == community).where(region_clause(principal))
        )
        if community_id:
            part = part.where(community == community_id)
        parts.append(part)
    held = sa.union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
    stmt = sa.select(held).order_by(held.c.created_at, held.c.kind, held.c.id)
    return paginate(stmt, page, page_size, _held_item)


def _held_item(*values) -> dict:
    return dict(zip(HELD_COLUMNS, values, strict=True))
