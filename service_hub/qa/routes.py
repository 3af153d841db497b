"""Community Q&A with photos: ask, answer, read; managers moderate held content."""

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from service_hub.auth.access import current_principal, requires
from service_hub.auth.tokens import decode_token
from service_hub.plumbing.errors import Unauthorized
from service_hub.plumbing.pagination import PageArgsSchema, page_schema
from service_hub.qa import held, service
from service_hub.qa.schemas import (
    AnswerCreateSchema,
    AnswerSchema,
    HeldArgs,
    HeldItemSchema,
    ModerationDecisionSchema,
    ModerationResultSchema,
    QuestionCreateSchema,
    QuestionSchema,
    QuestionWithAnswersSchema,
)

blp = Blueprint("qa", __name__, description="Community Q&A with photos, and its moderation")

MODERATED = (
    "Text is checked by WeChat: risky text is refused (422 `content_risky`, nothing stored); "
    "text WeChat doubts, or cannot check, is stored with status `held` until a manager "
    "approves it."
)


def _viewer_resident_id() -> int | None:
    """The resident behind an optional bearer token; a token sent must be valid."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Send a bearer token, or no Authorization header.", code="token_invalid")
    claims = decode_token(token.strip())
    if claims.get("kind") != "resident":
        return None
    try:
        return int(claims["sub"])
    except ValueError as exc:
        raise Unauthorized("The token is not valid.", code="token_invalid") from exc


@blp.route("/communities/<int:community_id>/questions")
class CommunityQuestions(MethodView):
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, page_schema(QuestionWithAnswersSchema))
    @blp.alt_response(401, response="UNAUTHORIZED", description="a bearer token sent is invalid")
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, page_args, community_id: int):
        """A community's questions, newest first, each with its first answers.

        Anyone may read. With a resident's bearer token (optional) the list also shows that
        resident's own questions still held for review.
        """
        return service.questions_page(community_id, _viewer_resident_id(), **page_args)

    @requires(blp, "resident")
    @blp.arguments(QuestionCreateSchema)
    @blp.response(201, QuestionSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(
        422, response="UNPROCESSABLE_ENTITY", description="invalid fields, or `content_risky`"
    )
    @blp.doc(description=MODERATED + " 403 `not_bound`: bind the community first.")
    def post(self, args, community_id: int):
        """Ask a question in a community I am bound to."""
        return service.ask_question(current_principal().id, community_id, **args), 201


@blp.route("/questions/<int:question_id>/answers")
class QuestionAnswers(MethodView):
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, page_schema(AnswerSchema))
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, page_args, question_id: int):
        """All visible answers of a published question, oldest first."""
        return service.answers_page(question_id, **page_args)

    @requires(blp, "engineer", "manager")
    @blp.arguments(AnswerCreateSchema)
    @blp.response(201, AnswerSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT", description="`question_not_visible`")
    @blp.alt_response(
        422, response="UNPROCESSABLE_ENTITY", description="invalid fields, or `content_risky`"
    )
    @blp.doc(
        description=(
            "Engineers who serve the question's community, and customer service (managers of "
            "its region, admins). 403 `not_serving_community` / `outside_region` otherwise. "
            + MODERATED
        )
    )
    def post(self, args, question_id: int):
        """Answer a question."""
        return service.answer_question(current_principal(), question_id, **args), 201


@blp.route("/moderation/held")
class HeldContent(MethodView):
    @requires(blp, "manager")
    @blp.arguments(HeldArgs, location="query")
    @blp.response(200, page_schema(HeldItemSchema))
    def get(self, args):
        """Questions, answers and reviews held for review in my region, oldest first."""
        return held.held_page(current_principal(), **args)


def _decision_route(kind: str, decision: str) -> None:
    """Register POST /{kind}s/{id}/{decision} for managers."""
    summary = {
        "approve": f"Publish a held {kind}.",
        "reject": f"Reject a held or published {kind}, with a reason.",
    }[decision]

    @requires(blp, "manager")
    @blp.arguments(ModerationDecisionSchema)
    @blp.response(200, ModerationResultSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.doc(
        summary=summary,
        description="Managers of the content's region, admins. A repeat changes nothing.",
    )
    def view(args, item_id: int):
        return service.decide(current_principal(), kind, item_id, decision, args["reason"])

    if decision == "approve":
        view = blp.alt_response(409, response="CONFLICT", description="content was rejected")(view)
    else:
        view = blp.alt_response(
            422, response="UNPROCESSABLE_ENTITY", description="a reason is required"
        )(view)

    endpoint = f"{decision}_{kind}"
    blp.route(f"/{kind}s/<int:item_id>/{decision}", endpoint=endpoint, methods=["POST"])(view)


for _kind in ("question", "answer"):
    for _decision in ("approve", "reject"):
        _decision_route(_kind, _decision)
