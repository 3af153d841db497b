"""Sign-in rules: residents through WeChat code2Session, staff by password."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from models import Engineer, Resident, StaffUser
from models.base import utcnow
from service_hub.auth import signin_guard
from service_hub.auth.tokens import issue_token
from service_hub.plumbing.errors import AppError, Conflict, Forbidden, InvalidInput, Unauthorized
from service_hub.plumbing.extensions import db
from service_hub.wechat import WeChatClient, WeChatError, WeChatUnavailable

# A hash to check against when the account does not exist, so timing does not tell.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def _wechat_login_error(error: WeChatError) -> AppError:
    if isinstance(error, WeChatUnavailable):
        return AppError(
            "WeChat could not be reached; try again shortly.",
            status=503,
            code="wechat_unreachable",
            message_zh="微信服务暂不可用，请稍后再试",
            headers={"Retry-After": "5"},
        )
    if error.errcode == 40029:
        return Unauthorized(
            "The login code is invalid or already used; call wx.login again.",
            code="wechat_code_invalid",
            message_zh="登录凭证无效，请重新登录",
        )
    if error.errcode == 45011:
        return AppError(
            "Too many logins; try again in a minute.",
            status=429,
            code="wechat_rate_limited",
            message_zh="登录过于频繁，请稍后再试",
            headers={"Retry-After": "60"},
        )
    if error.errcode == 40226:
        return Forbidden(
            "WeChat has blocked this user from logging in.",
            code="wechat_user_blocked",
            message_zh="该微信账号存在风险，暂无法登录",
        )
    if error.errcode == -1:
        return AppError(
            "WeChat is busy; try again shortly.",
            status=503,
            code="wechat_busy",
            message_zh="微信系统繁忙，请稍后再试",
            headers={"Retry-After": "2"},
        )
    return AppError(
        f"WeChat refused the login (errcode {error.errcode}).",
        status=502,
        code="wechat_error",
        message_zh="微信登录失败",
    )


def login_resident(code: str) -> dict:
    """Exchange a wx.login code for our token, creating the resident on first login."""
    client = WeChatClient.from_config(current_app.config)
    try:
        session = client.code2session(code)
    except WeChatError as error:
        raise _wechat_login_error(error) from error
    resident = _upsert_resident(session)
    token, ttl = issue_token("resident", resident.id, "resident")
    return {"token": token, "expires_in": ttl, "role": "resident", "resident_id": resident.id}


def _upsert_resident(session: dict) -> Resident:
    openid = session["openid"]
    resident = db.session.scalar(sa.select(Resident).where(Resident.openid == openid))
    if resident is None:
        resident = Resident(openid=openid)
        db.session.add(resident)
        try:
            db.session.flush()
        except IntegrityError:
            # Two first logins raced; the other one created the row.
            db.session.rollback()
            resident = db.session.scalar(sa.select(Resident).where(Resident.openid == openid))
    resident.session_key = session.get("session_key")
    resident.unionid = session.get("unionid") or resident.unionid
    resident.last_login_at = utcnow()
    db.session.commit()
    return resident


def login_staff(login: str, password: str, address: str) -> dict:
    """Check a staff member's username (or phone) and password from the client at `address`;
    return our token. Repeated failures lock the login for a while (signin_guard)."""
    # A username wins over another account's identical phone number.
    staff = db.session.scalar(sa.select(StaffUser).where(StaffUser.username == login))
    if staff is None:
        staff = db.session.scalar(sa.select(StaffUser).where(StaffUser.phone == login))
    # Failures count against the account, so its username and phone share one budget.
    account = f"staff:{staff.id}" if staff is not None else f"login:{login}"
    signin_guard.check(account, address)
    if staff is None or not staff.active:
        check_password_hash(_DUMMY_HASH, password)
        signin_guard.record_failure(account, address)
        raise Unauthorized(
            "Wrong username or password.", code="bad_credentials", message_zh="用户名或密码错误"
        )
    if not check_password_hash(staff.password_hash, password):
        signin_guard.record_failure(account, address)
        raise Unauthorized(
            "Wrong username or password.", code="bad_credentials", message_zh="用户名或密码错误"
        )
    signin_guard.record_success(account, address)
    token, ttl = issue_token("staff", staff.id, staff.role)
    engineer_id = db.session.scalar(
        sa.select(Engineer.id).where(Engineer.staff_user_id == staff.id)
    )
    return {
        "token": token,
        "expires_in": ttl,
        "role": staff.role,
        "staff_id": staff.id,
        "engineer_id": engineer_id,
    }


def create_staff(
    username: str,
    password: str,
    role: str,
    display_name: str,
    phone: str | None = None,
    region: str | None = None,
) -> StaffUser:
    """Create a staff account with a strongly hashed password (scrypt)."""
    if role not in ("engineer", "manager", "admin"):
        raise InvalidInput(f"Unknown role {role!r}.", fields={"role": ["unknown role"]})
    if len(password) < 8:
        raise InvalidInput(
            "Passwords have at least 8 characters.", fields={"password": ["too short"]}
        )
    staff = StaffUser(
        username=username,
        phone=phone,
        role=role,
        display_name=display_name,
        region=region,
        password_hash=generate_password_hash(password),
    )
    db.session.add(staff)
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise Conflict("That username or phone is taken.", code="staff_exists") from exc
    return staff


def get_resident(resident_id: int) -> Resident:
    """The resident behind a token (a token outliving its resident is not valid)."""
    resident = db.session.get(Resident, resident_id)
    if resident is None:
        raise Unauthorized("This account no longer exists.", code="account_inactive")
    return resident


def update_resident(resident_id: int, changes: dict) -> Resident:
    """Set the optional nickname and avatar."""
    resident = get_resident(resident_id)
    for name in ("nickname", "avatar_url"):
        if name in changes:
            setattr(resident, name, changes[name])
    db.session.commit()
    return resident
