"""Content moderation of user text through WeChat's msg_sec_check (v2) before it is published.

Outcomes of `check_text`:
- "pass": publish at once;
- "review": store it held, hidden from everyone but its author and staff until a manager
  approves it;
- risky: refused with a 422 `content_risky`, and nothing is stored.

Decisions:
- **WeChat unreachable, or answering with an error** (outage, timeout, busy, a quota or an
  openid WeChat will not check): "review". Content is never published unchecked, and the
  resident is not punished for our outage: it waits in the moderation queue instead.
- **Staff (engineers, customer service) have no openid**, and v2 checks only a user who has
  opened the mini-program in the last two hours. Their text is checked under
  `WECHAT_MODERATION_OPENID` (an openid of the operator's own service account in this
  mini-program) when that is configured, with the same outcomes; without it their text is
  trusted and passes: staff are named, accountable accounts that can be deactivated at once,
  and managers can still reject an answer after publication.
"""

from __future__ import annotations

import logging
from typing import Literal

from flask import current_app

from service_hub.plumbing.errors import InvalidInput
from service_hub.wechat.access_token import access_token_provider
from service_hub.wechat.client import WeChatError

log = logging.getLogger(__name__)

Verdict = Literal["pass", "review"]
# msg_sec_check scene 2: comments and replies (1 is profiles, 3 forums, 4 social logs).
SCENE_COMMENT = 2


class ContentRisky(InvalidInput):
    """WeChat judged the text risky: the client must change it; nothing was stored."""

    code = "content_risky"

    def __init__(self, label: int | None = None) -> None:
        super().__init__(
            "The text contains content that cannot be published; change it and submit again.",
            message_zh="内容含有违规信息，请修改后再提交",
            details={"label": label} if label is not None else None,
        )


def check_text(openid: str | None, text: str) -> Verdict:
    """Moderate text written by the user with this openid (None for staff).

    Returns "pass" or "review"; raises ContentRisky (422) when WeChat says risky. Makes an
    HTTP call: end any open database transaction before calling it.
    """
    if openid is None:
        openid = current_app.config["WECHAT_MODERATION_OPENID"]
        if not openid:
            return "pass"
    provider = access_token_provider()
    try:
        result = provider.call_with_token(
            lambda token: provider.client.msg_sec_check(token, openid, text, scene=SCENE_COMMENT)
        )
    except WeChatError as exc:  # WeChatUnavailable included: never publish unchecked
        log.warning("msg_sec_check gave no verdict, holding the text for review: %s", exc)
        return "review"
    suggest = result["suggest"]
    if suggest == "risky":
        raise ContentRisky(result.get("label"))
    if suggest == "pass":
        return "pass"
    # "review", or anything WeChat may add later: a person decides.
    return "review"
