"""Butler binding rules: engineers hand out single-use codes, residents bind by scanning one.

Decisions (docs/butler.md has the whole story):
- A code is stored only once its mini-program QR has been fetched, so a WeChat failure leaves
  nothing behind that could be bound. An engineer holds at most BUTLER_MAX_OPEN_CODES unused,
  unexpired codes (429 beyond), counted under a lock on the engineer's row.
- A code is consumed by one conditional UPDATE (unused and fresh) in the same transaction as
  the binding, so two residents scanning one code at once bind exactly one of them.
- Latest scan wins: binding a different engineer ends the old binding ("replaced"); binding
  the same engineer again changes nothing (the code is consumed all the same). Binds of one
  resident queue on the resident's row lock; the partial unique index on active bindings keeps
  one per resident whatever happens, and a bind that collides with it starts over.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from models import BindingStatus, ButlerBinding, ButlerCode, Engineer, Resident
from models.base import utcnow
from service_hub.plumbing.errors import AppError, Conflict, NotFound, Unauthorized
from service_hub.plumbing.extensions import db
from service_hub.plumbing.timefmt import local_zone
from service_hub.wechat.access_token import access_token_provider
from service_hub.wechat.client import WeChatError, WeChatUnavailable

SCENE_PREFIX = "b="
SCENE_LENGTH = 32  # WeChat's limit for a getwxacodeunlimit scene
# Binding attempts when a parallel bind of the same resident wins the active-binding index.
BIND_ATTEMPTS = 3
# WeChat answers meaning "busy or over quota, try later" rather than "this call is wrong".
_WECHAT_TRY_LATER = frozenset({-1, 43108, 45009, 45011})

END_REPLACED = "replaced"
END_UNBOUND = "unbound_by_resident"


@dataclass(frozen=True)
class BindResult:
    """What a bind did: the resident's active binding and how it came about."""

    binding: ButlerBinding
    engineer: Engineer
    outcome: str  # bound, replaced, already_bound
    replaced_engineer_id: int | None = None

    @property
    def created(self) -> bool:
        """Whether a new binding row was made (201) rather than an existing one kept (200)."""
        return self.outcome != "already_bound"


def new_scene() -> str:
    """A fresh nonce within WeChat's scene rules: 32 characters of [A-Za-z0-9_-] after "b="."""
    # token_urlsafe's alphabet (letters, digits, '-', '_') is inside WeChat's allowed set;
    # 30 characters carry 180 random bits.
    return (SCENE_PREFIX + secrets.token_urlsafe(24))[:SCENE_LENGTH]


def _open_codes(engineer_id: int, now: datetime) -> sa.Select:
    return sa.select(ButlerCode.expires_at).where(
        ButlerCode.engineer_id == engineer_id,
        ButlerCode.used_at.is_(None),
        ButlerCode.expires_at > now,
    )


def _check_open_code_limit(engineer_id: int, now: datetime) -> None:
    """Refuse (429) when the engineer already holds the most unused, unexpired codes."""
    limit = current_app.config["BUTLER_MAX_OPEN_CODES"]
    expiries = db.session.scalars(_open_codes(engineer_id, now).order_by(ButlerCode.expires_at))
    expiries = expiries.all()
    if len(expiries) < limit:
        return
    wait = max(1, int((expiries[0] - now).total_seconds()) + 1)
    raise AppError(
        f"You already hold {len(expiries)} unused codes; use one or wait for it to expire.",
        status=429,
        code="bind_codes_limit",
        message_zh="未使用的二维码过多，请稍后再试",
        details={"limit": limit},
        headers={"Retry-After": str(wait)},
    )


def _qr_error(error: WeChatError) -> AppError:
    """Our error for a WeChat failure to draw the QR; nothing was stored."""
    common = {"code": "wechat_qr_failed", "details": {"errcode": error.errcode}}
    if isinstance(error, WeChatUnavailable) or error.errcode in _WECHAT_TRY_LATER:
        return AppError(
            "WeChat could not make the binding QR code now; try again shortly.",
            status=503,
            message_zh="微信繁忙，二维码生成失败，请稍后再试",
            headers={"Retry-After": "5"},
            **common,
        )
    # Anything else (a token refused twice, a bad page) will not heal by retrying.
    return AppError(
        f"WeChat refused to make the binding QR code (errcode {error.errcode}).",
        status=502,
        message_zh="二维码生成失败，请联系管理员",
        **common,
    )


def create_bind_code(engineer_id: int) -> dict:
    """Issue a single-use binding code and its mini-program QR for an engineer.

    Returns {"scene", "expires_at", "qr_png_base64", "page"}. Raises 429 `bind_codes_limit`
    when the engineer holds too many open codes, and 502/503 `wechat_qr_failed` when WeChat
    gives no image (nothing is stored then).
    """
    _check_open_code_limit(engineer_id, utcnow())
    # No transaction (SQLite's write lock, a PostgreSQL connection) is held across WeChat.
    db.session.rollback()
    scene = new_scene()
    page = current_app.config["BUTLER_QR_PAGE"]
    provider = access_token_provider()
    try:
        png = provider.call_with_token(
            lambda token: provider.client.get_unlimited_qrcode(token, scene, page=page)
        )
    except WeChatError as error:
        raise _qr_error(error) from error
    now = utcnow()
    # The engineer's row lock makes the count and the insert one step for parallel requests
    # (NO KEY UPDATE: rows referring to the engineer need not wait for it).
    db.session.execute(
        sa.select(Engineer.id).where(Engineer.id == engineer_id).with_for_update(key_share=True)
    )
    _check_open_code_limit(engineer_id, now)
    code = ButlerCode(
        engineer_id=engineer_id,
        scene=scene,
        expires_at=now + timedelta(seconds=current_app.config["BUTLER_CODE_TTL_SECONDS"]),
        created_at=now,
    )
    db.session.add(code)
    db.session.commit()
    return {
        "scene": scene,
        "expires_at": code.expires_at,
        "qr_png_base64": base64.b64encode(png).decode("ascii"),
        "page": page,
    }


def active_binding(resident_id: int) -> ButlerBinding | None:
    """The resident's active butler binding, if any."""
    return db.session.scalar(
        sa.select(ButlerBinding).where(
            ButlerBinding.resident_id == resident_id, ButlerBinding.status == BindingStatus.ACTIVE
        )
    )


def _refused_code(code_id: int, resident_id: int, now: datetime) -> BindResult | AppError:
    """Why a code could not be claimed.

    A code this resident used themselves, whose engineer is still their butler, is a repeat of
    their own scan: it answers with the binding, not an error.
    """
    used_at, used_by, expires_at, engineer_id = db.session.execute(
        sa.select(
            ButlerCode.used_at, ButlerCode.used_by, ButlerCode.expires_at, ButlerCode.engineer_id
        ).where(ButlerCode.id == code_id)
    ).one()
    if used_at is not None:
        binding = active_binding(resident_id)
        if used_by == resident_id and binding is not None and binding.engineer_id == engineer_id:
            # The same scan sent again (a lost answer on a weak signal): the same binding.
            engineer = db.session.get(Engineer, binding.engineer_id)
            return BindResult(binding, engineer, "already_bound")
        return Conflict(
            "This code has been used already; ask the engineer for a new one.",
            code="bind_code_used",
            message_zh="二维码已被使用，请让师傅刷新",
        )
    return AppError(
        "This code has expired; ask the engineer to refresh it.",
        status=410,
        code="bind_code_expired",
        message_zh="二维码已失效，请让师傅刷新",
        details={"expired_at": expires_at.astimezone(local_zone()).isoformat()},
    )


def _bind_once(resident_id: int, scene: str) -> BindResult:
    # Binds of one resident queue on the resident's row, taken first so that every bind locks
    # resident, then code: no deadlock. NO KEY UPDATE, as foreign keys to the row (used_by,
    # the new binding) take KEY SHARE locks on it. The active-binding index is the backstop.
    locked = db.session.scalar(
        sa.select(Resident.id).where(Resident.id == resident_id).with_for_update(key_share=True)
    )
    if locked is None:
        raise Unauthorized("This account no longer exists.", code="account_inactive")
    now = utcnow()
    code = db.session.scalar(sa.select(ButlerCode).where(ButlerCode.scene == scene))
    if code is None:
        raise NotFound(
            "No such binding code.", code="bind_code_unknown", message_zh="二维码无效，请重新扫码"
        )
    code_id, engineer_id = code.id, code.engineer_id
    claimed = db.session.execute(
        sa.update(ButlerCode)
        .where(ButlerCode.id == code_id, ButlerCode.used_at.is_(None), ButlerCode.expires_at > now)
        .values(used_at=now, used_by=resident_id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        refused = _refused_code(code_id, resident_id, now)
        db.session.commit()
        if isinstance(refused, AppError):
            raise refused
        return refused
    engineer = db.session.get(Engineer, engineer_id)
    current = active_binding(resident_id)
    if current is not None and current.engineer_id == engineer_id:
        db.session.commit()  # the code is consumed; the binding stays as it was
        return BindResult(current, engineer, "already_bound")
    replaced = None
    if current is not None:
        replaced = current.engineer_id
        current.status, current.end_reason, current.ended_at = (
            BindingStatus.ENDED,
            END_REPLACED,
            now,
        )
        db.session.flush()  # end the old row before the new one meets the unique index
    binding = ButlerBinding(
        resident_id=resident_id, engineer_id=engineer_id, code_id=code_id, created_at=now
    )
    db.session.add(binding)
    db.session.commit()
    return BindResult(binding, engineer, "bound" if replaced is None else "replaced", replaced)


def bind(resident_id: int, scene: str) -> BindResult:
    """Bind the resident to the engineer behind a scanned code (latest scan wins).

    Raises 404 `bind_code_unknown`, 409 `bind_code_used`, 410 `bind_code_expired`, and 409
    `bind_conflict` if parallel binds of this resident keep winning the race.
    """
    for _ in range(BIND_ATTEMPTS):
        try:
            return _bind_once(resident_id, scene)
        except IntegrityError:
            # Another bind of this resident committed an active binding first; the rollback
            # also gave our code back, so the next attempt replaces that binding.
            db.session.rollback()
    raise Conflict(
        "Another binding of yours was being made at the same moment; try again.",
        code="bind_conflict",
        message_zh="操作过于频繁，请重试",
    )


def my_butler(resident_id: int) -> tuple[ButlerBinding, Engineer]:
    """The resident's active binding and its engineer, or 404 `no_butler`."""
    row = db.session.execute(
        sa.select(ButlerBinding, Engineer)
        .join(Engineer, Engineer.id == ButlerBinding.engineer_id)
        .where(
            ButlerBinding.resident_id == resident_id, ButlerBinding.status == BindingStatus.ACTIVE
        )
    ).first()
    if row is None:
        raise NotFound("You have no butler.", code="no_butler", message_zh="您还没有绑定管家")
    return row[0], row[1]


def unbind(resident_id: int) -> bool:
    """End the resident's binding; harmless when there is none. Returns whether one ended."""
    ended = db.session.execute(
        sa.update(ButlerBinding)
        .where(
            ButlerBinding.resident_id == resident_id, ButlerBinding.status == BindingStatus.ACTIVE
        )
        .values(status=BindingStatus.ENDED, end_reason=END_UNBOUND, ended_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return bool(ended)
