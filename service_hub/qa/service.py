"""Community Q&A: residents ask, engineers and customer service answer, moderated.

Text is checked by WeChat (service_hub.moderation) before it is stored. That is an HTTP call
of up to a few seconds, so every write first reads what it needs, ends that transaction (on
SQLite every transaction holds the write lock), calls WeChat, then writes in a new one.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa

from models import (
    Answer,
    Engineer,
    EngineerCommunity,
    ModerationStatus,
    Question,
    Resident,
    StaffUser,
)
from models.base import utcnow
from service_hub.auth.regions import require_region
from service_hub.auth.tokens import Principal
from service_hub.communities.service import get_community, is_bound
from service_hub.moderation import check_text
from service_hub.plumbing.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from service_hub.plumbing.extensions import db
from service_hub.plumbing.pagination import paginate
from service_hub.uploads.storage import validate_photo_urls

log = logging.getLogger(__name__)

# Photos on one question or answer.
MAX_PHOTOS = 9
# Answers embedded in each question of a list; the rest are on GET /questions/{id}/answers.
ANSWERS_SHOWN = 5
_STATUS_FOR_VERDICT = {"pass": ModerationStatus.VISIBLE, "review": ModerationStatus.HELD}


def _end_read() -> None:
    # Not holding a transaction (SQLite's write lock, a PostgreSQL connection) across WeChat.
    db.session.rollback()


def _question_not_found(question_id: int) -> NotFound:
    return NotFound(
        f"No question {question_id}.", code="question_not_found", message_zh="问题不存在"
    )


def get_question(question_id: int) -> Question:
    """The question, or a 404."""
    question = db.session.get(Question, question_id)
    if question is None:
        raise _question_not_found(question_id)
    return question


def _question_item(question: Question, nickname: str | None, viewer_id: int | None) -> dict:
    return {
        "id": question.id,
        "community_id": question.community_id,
        "text": question.text,
        "photos": question.photos or [],
        "status": question.status,
        "answer_count": question.answer_count,
        "asker_nickname": nickname,
        "mine": viewer_id is not None and question.resident_id == viewer_id,
        "created_at": question.created_at,
    }


def _answers_select() -> sa.Select:
    """Answers with who gave them, in one query."""
    return (
        sa.select(Answer, StaffUser.display_name, Engineer.name)
        .join(StaffUser, StaffUser.id == Answer.staff_user_id)
        .outerjoin(Engineer, Engineer.id == Answer.engineer_id)
    )


def _answer_item(answer: Answer, staff_name: str, engineer_name: str | None) -> dict:
    is_engineer = answer.engineer_id is not None
    return {
        "id": answer.id,
        "question_id": answer.question_id,
        "text": answer.text,
        "photos": answer.photos or [],
        "status": answer.status,
        "answerer": {
            "role": "engineer" if is_engineer else "customer_service",
            "engineer_id": answer.engineer_id,
            "name": engineer_name if is_engineer else staff_name,
        },
        "created_at": answer.created_at,
    }


def ask_question(resident_id: int, community_id: int, text: str, photos: list[str]) -> dict:
    """A bound resident asks; risky text is refused, text WeChat doubts is held for review."""
    photos = validate_photo_urls(photos, max_count=MAX_PHOTOS)
    get_community(community_id)
    if not is_bound(resident_id, community_id):
        raise Forbidden(
            "Bind this community before asking in it.",
            code="not_bound",
            message_zh="请先绑定该小区",
        )
    resident = db.session.get(Resident, resident_id)
    if resident is None:
        raise Unauthorized("This account no longer exists.", code="account_inactive")
    openid, nickname = resident.openid, resident.nickname
    _end_read()
    status = _STATUS_FOR_VERDICT[check_text(openid, text)]
    question = Question(
        community_id=community_id, resident_id=resident_id, text=text, photos=photos, status=status
    )
    db.session.add(question)
    db.session.commit()
    return _question_item(question, nickname, resident_id)


def questions_page(
    community_id: int, viewer_resident_id: int | None, page: int, page_size: int
) -> dict:
    """Visible questions newest first (and the viewer's own held ones), with first answers.

    Three queries whatever the page size: the count, the questions, their answers.
    """
    get_community(community_id)
    shown = Question.status == ModerationStatus.VISIBLE
    if viewer_resident_id is not None:
        own_held = sa.and_(
            Question.status == ModerationStatus.HELD, Question.resident_id == viewer_resident_id
        )
        shown = sa.or_(shown, own_held)
    stmt = (
        sa.select(Question, Resident.nickname)
        .join(Resident, Resident.id == Question.resident_id)
        .where(Question.community_id == community_id, shown)
        .order_by(Question.created_at.desc(), Question.id.desc())
    )
    result = paginate(
        stmt, page, page_size, lambda q, nick: _question_item(q, nick, viewer_resident_id)
    )
    answers = _first_answers([item["id"] for item in result["items"]])
    for item in result["items"]:
        item["answers"] = answers.get(item["id"], [])
    return result


def _first_answers(question_ids: list[int]) -> dict[int, list[dict]]:
    """The first ANSWERS_SHOWN visible answers of each question, in one query."""
    if not question_ids:
        return {}
    ranked = (
        sa.select(
            Answer.id,
            sa.func.row_number()
            .over(partition_by=Answer.question_id, order_by=(Answer.created_at, Answer.id))
            .label("n"),
        )
        .where(Answer.question_id.in_(question_ids), Answer.status == ModerationStatus.VISIBLE)
        .subquery()
    )
    stmt = (
        _answers_select()
        .join(ranked, ranked.c.id == Answer.id)
        .where(ranked.c.n <= ANSWERS_SHOWN)
        .order_by(Answer.question_id, Answer.created_at, Answer.id)
    )
    by_question: dict[int, list[dict]] = {}
    for row in db.session.execute(stmt):
        by_question.setdefault(row[0].question_id, []).append(_answer_item(*row))
    return by_question


def answers_page(question_id: int, page: int, page_size: int) -> dict:
    """All visible answers of a visible question, oldest first."""
    if get_question(question_id).status != ModerationStatus.VISIBLE:
        raise _question_not_found(question_id)  # hidden from the public, as in the lists
    stmt = (
        _answers_select()
        .where(Answer.question_id == question_id, Answer.status == ModerationStatus.VISIBLE)
        .order_by(Answer.created_at, Answer.id)
    )
    return paginate(stmt, page, page_size, _answer_item)


def recent_questions(community_id: int, limit: int = 5) -> list[Question]:
    """The community's latest visible questions, newest first (for the community home)."""
    return list(
        db.session.scalars(
            sa.select(Question)
            .where(
                Question.community_id == community_id, Question.status == ModerationStatus.VISIBLE
            )
            .order_by(Question.created_at.desc(), Question.id.desc())
            .limit(limit)
        )
    )


def check_may_answer(principal: Principal, community_id: int) -> None:
    """Engineers serving the community, and customer service (managers of its region, admins)."""
    if principal.role == "engineer":
        serves = principal.engineer_id is not None and db.session.scalar(
            sa.select(
                sa.exists().where(
                    EngineerCommunity.engineer_id == principal.engineer_id,
                    EngineerCommunity.community_id == community_id,
                )
            )
        )
        if not serves:
            raise Forbidden(
                "You do not serve this community.",
                code="not_serving_community",
                message_zh="您不服务该小区，不能回答",
            )
    elif principal.role in ("manager", "admin"):
        require_region(principal, community_id)
    else:
        raise Forbidden("Residents cannot answer.", code="role_forbidden", message_zh="无权回答")


def _bump_answer_count(question_id: int, delta: int, only_visible: bool = False) -> bool:
    """Atomically move answer_count; with only_visible, only while the question is visible."""
    stmt = (
        sa.update(Question)
        .where(Question.id == question_id)
        .values(answer_count=Question.answer_count + delta)
    )
    if only_visible:
        stmt = stmt.where(Question.status == ModerationStatus.VISIBLE)
    return db.session.execute(stmt).rowcount == 1


def _question_not_visible(question_id: int) -> Conflict:
    return Conflict(
        f"Question {question_id} is not published; it cannot be answered.",
        code="question_not_visible",
        message_zh="该问题未公开，不能回答",
    )


def answer_question(principal: Principal, question_id: int, text: str, photos: list[str]) -> dict:
    """Answer a visible question; the answer is moderated like a question."""
    photos = validate_photo_urls(photos, max_count=MAX_PHOTOS)
    question = get_question(question_id)
    if question.status != ModerationStatus.VISIBLE:
        raise _question_not_visible(question_id)
    check_may_answer(principal, question.community_id)
    _end_read()
    status = _STATUS_FOR_VERDICT[check_text(None, text)]
    is_engineer = principal.role == "engineer"
    answer = Answer(
        question_id=question_id,
        staff_user_id=principal.id,
        engineer_id=principal.engineer_id if is_engineer else None,
        text=text,
        photos=photos,
        status=status,
    )
    db.session.add(answer)
    # Counted in the same transaction, and only while the question is still public.
    if status == ModerationStatus.VISIBLE and not _bump_answer_count(
        question_id, 1, only_visible=True
    ):
        db.session.rollback()
        raise _question_not_visible(question_id)
    db.session.commit()
    row = db.session.execute(_answers_select().where(Answer.id == answer.id)).one()
    return _answer_item(*row)


def decide(
    principal: Principal, kind: str, item_id: int, decision: str, reason: str | None
) -> dict:
    """Approve (held → visible) or reject (held or visible → rejected) a question or answer.

    A repeat of the decision already taken changes nothing; approving rejected content is a
    409. The row is locked, so two moderators cannot both count the same answer.
    """
    if decision == "reject" and not (reason or "").strip():
        raise InvalidInput(
            "Say why the content is rejected.",
            message_zh="请填写驳回原因",
            fields={"reason": ["Required to reject."]},
        )
    model = Question if kind == "question" else Answer
    item = db.session.scalar(sa.select(model).where(model.id == item_id).with_for_update())
    if item is None:
        raise NotFound(f"No {kind} {item_id}.", code=f"{kind}_not_found")
    question_id = item.id if kind == "question" else item.question_id
    community_id = db.session.scalar(
        sa.select(Question.community_id).where(Question.id == question_id)
    )
    require_region(principal, community_id)
    target = ModerationStatus.VISIBLE if decision == "approve" else ModerationStatus.REJECTED
    before = item.status
    if before == target:
        db.session.rollback()
        return {"kind": kind, "id": item_id, "status": target, "reason": reason, "changed": False}
    if decision == "approve" and before != ModerationStatus.HELD:
        db.session.rollback()
        raise Conflict(
            f"The {kind} was rejected; it cannot be approved.",
            code="not_held",
            message_zh="内容已被驳回，不能通过",
        )
    item.status = target
    item.moderated_by, item.moderated_at, item.moderation_reason = principal.id, utcnow(), reason
    if kind == "answer" and ModerationStatus.VISIBLE in (before, target):
        _bump_answer_count(question_id, 1 if target == ModerationStatus.VISIBLE else -1)
    db.session.commit()
    log.info("%s %s %s by staff %s: %s", kind, item_id, target, principal.id, reason or "-")
    return {"kind": kind, "id": item_id, "status": target, "reason": reason, "changed": True}
