"""Page-number pagination with a body envelope, the same on every list."""

from __future__ import annotations

import marshmallow as ma
import sqlalchemy as sa

from service_hub.plumbing.extensions import db

MAX_PAGE_SIZE = 100


class PageArgsSchema(ma.Schema):
    """?page=&page_size= (page_size at most 100)."""

    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=10_000))
    page_size = ma.fields.Integer(
        load_default=20, validate=ma.validate.Range(min=1, max=MAX_PAGE_SIZE)
    )


_page_schemas: dict[type, type] = {}


def page_schema(item_schema: type[ma.Schema]) -> type[ma.Schema]:
    """The envelope schema {items, page, page_size, total} around item_schema."""
    if item_schema not in _page_schemas:
        name = item_schema.__name__.removesuffix("Schema") + "PageSchema"
        _page_schemas[item_schema] = type(
            name,
            (ma.Schema,),
            {
                "items": ma.fields.List(ma.fields.Nested(item_schema), required=True),
                "page": ma.fields.Integer(required=True),
                "page_size": ma.fields.Integer(required=True),
                "total": ma.fields.Integer(required=True),
            },
        )
    return _page_schemas[item_schema]


def paginate(stmt: sa.Select, page: int, page_size: int, row_to_item=None) -> dict:
    """Run stmt for one page and count the whole result.

    Items are the first entity of each row, or row_to_item(row) when given.
    """
    total = db.session.scalar(
        sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())
    )
    paged = stmt.limit(page_size).offset((page - 1) * page_size)
    if row_to_item is None:
        items = db.session.scalars(paged).all()
    else:
        items = [row_to_item(*row) for row in db.session.execute(paged)]
    return {"items": items, "page": page, "page_size": page_size, "total": total}


_capped_page_schemas: dict[type, type] = {}


def capped_page_schema(item_schema: type[ma.Schema]) -> type[ma.Schema]:
    """page_schema's envelope plus total_exact, for lists whose count is capped."""
    if item_schema not in _capped_page_schemas:
        base = page_schema(item_schema)
        name = item_schema.__name__.removesuffix("Schema") + "CappedPageSchema"
        _capped_page_schemas[item_schema] = type(
            name,
            (base,),
            {
                "total": ma.fields.Integer(
                    required=True, metadata={"description": "matches, counted up to a cap"}
                ),
                "total_exact": ma.fields.Boolean(
                    required=True,
                    metadata={"description": "false: there are more matches than total"},
                ),
            },
        )
    return _capped_page_schemas[item_schema]


def paginate_capped(stmt: sa.Select, page: int, page_size: int, cap: int, row_to_item=None) -> dict:
    """paginate, but counting at most `cap` matches, so the first page of a list over
    millions of rows costs a page and a bounded count, not a count of everything.

    `total_exact` is false when more than `cap` rows match (total is then `cap`).
    """
    matches = stmt.order_by(None).with_only_columns(sa.literal(1), maintain_column_froms=True)
    limited = matches.limit(cap + 1).subquery()
    seen = db.session.scalar(sa.select(sa.func.count()).select_from(limited))
    paged = stmt.limit(page_size).offset((page - 1) * page_size)
    if row_to_item is None:
        items = db.session.scalars(paged).all()
    else:
        items = [row_to_item(*row) for row in db.session.execute(paged)]
    return {
        "items": items,
        "page": page,
        "page_size": page_size,
        "total": min(seen, cap),
        "total_exact": seen <= cap,
    }
