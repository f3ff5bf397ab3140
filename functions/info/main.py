"""info: Waste categories, disposal guides, FAQ, recyclable prices and search.

Public and read-only: everything comes from the knowledge base shipped with the
runtime (eco2.knowledge), so responses carry an ETag and Cache-Control and a
matching If-None-Match gets 304.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints, field_validator
from werkzeug.wrappers import Response

from eco2 import Call, Function, Problem, knowledge, pagination

fn = Function("info", "/api/v1/info")

STATIC_MAX_AGE = 3600  # the data changes only with a deploy; revalidation is a 304
SEARCH_MAX_AGE = 300


class CategoryRef(BaseModel):
    code: str
    name: str
    major: str
    middle: str | None
    recyclable: bool


class Category(CategoryRef):
    name_en: str
    parent: str | None
    synonyms: list[str]


class CategoryList(BaseModel):
    categories: list[Category]


class GuideStep(BaseModel):
    id: str = Field(description="Stable step id (scan reports missing steps by it)")
    title: str
    text: str
    required: bool


class Redirect(BaseModel):
    item: str
    goes_to: list[str] = Field(description="Category codes, the usual one first")
    note: str | None


class GuideBrief(BaseModel):
    title: str
    summary: str
    steps: list[GuideStep]


class ItemRef(BaseModel):
    id: str
    name: str


class FaqRef(BaseModel):
    id: str
    question: str


class Guide(Category):
    title: str
    summary: str
    includes: list[str]
    steps: list[GuideStep]
    put_out: list[str]
    not_accepted: list[Redirect]
    tips: list[str]
    subcategories: list[CategoryRef]
    items: list[ItemRef]
    faq: list[FaqRef]


class Item(BaseModel):
    id: str
    name: str
    aliases: list[str]
    note: str | None
    category: CategoryRef
    confused_with: CategoryRef | None
    guide: GuideBrief


class SearchHit(BaseModel):
    kind: Literal["category", "item", "faq"]
    id: str
    title: str
    score: float
    category: CategoryRef
    guide: GuideBrief


class SearchResults(BaseModel):
    query: str
    results: list[SearchHit]


class Faq(BaseModel):
    id: str
    category: str = Field(description="The topic it is listed under")
    goes_to: str | None = Field(description="Where the answer sends the thing, when not to its topic")
    question: str
    answer: str


class FaqPage(BaseModel):
    items: list[Faq]
    next_cursor: str | None


class Region(BaseModel):
    id: str
    name: str
    description: str | None


class PriceItem(BaseModel):
    id: str
    name: str
    group: str
    group_name: str
    form: str | None
    synonyms: list[str]
    price: int | None = Field(description="KRW per kg in the requested region; null without one")
    prices: dict[str, int] = Field(description="KRW per kg by region id")


class PriceList(BaseModel):
    source: str
    surveyed: str
    unit: str
    url: str
    note: str | None
    region: Region | None
    regions: list[Region]
    items: list[PriceItem]


Query = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class SearchQuery(BaseModel):
    q: Query = Field(description="Korean or English, e.g. 페트병 라벨, pet bottle")
    limit: int = Field(10, ge=1, le=50)


class FaqQuery(pagination.PageQuery):
    category: str | None = Field(None, max_length=40, description="A category code or Korean name")

    @field_validator("category")
    @classmethod
    def _known(cls, value: str | None) -> str | None:
        if value is None:
            return None
        category = knowledge.load().category(value)
        if category is None:
            raise ValueError("unknown category")
        return category.code


class PriceQuery(BaseModel):
    region: str | None = Field(
        None, max_length=40, description="Region id (capital), name (수도권) or a place in it (서울)"
    )

    @field_validator("region")
    @classmethod
    def _known(cls, value: str | None) -> str | None:
        if value is None:
            return None
        region = knowledge.load().region(value)
        if region is None:
            raise ValueError("unknown region")
        return region.id


def _cached(call: Call, body: BaseModel, max_age: int = STATIC_MAX_AGE) -> Response:
    """The JSON of ``body`` with a content ETag; 304 when If-None-Match has it."""
    response = Response(body.model_dump_json(), content_type="application/json")
    response.cache_control.public = True
    response.cache_control.max_age = max_age
    response.add_etag()
    return response.make_conditional(call.request)


def _ref(c: knowledge.Category) -> dict[str, Any]:
    return {
        "code": c.code, "name": c.name, "major": c.major, "middle": c.middle, "recyclable": c.recyclable,
    }


def _category(c: knowledge.Category) -> dict[str, Any]:
    return {**_ref(c), "name_en": c.name_en, "parent": c.parent, "synonyms": c.synonyms}


def _steps(guide: knowledge.Guide) -> list[dict[str, Any]]:
    return [vars(s) for s in guide.steps]


def _brief(guide: knowledge.Guide) -> dict[str, Any]:
    return {"title": guide.title, "summary": guide.summary, "steps": _steps(guide)}


@fn.get("/categories", response=CategoryList)
def categories(call: Call) -> Response:
    """Every category: the majors and the recyclable middle categories."""
    kb = knowledge.load()
    return _cached(call, CategoryList(categories=[_category(c) for c in kb.categories]))


@fn.get("/categories/{code}", response=Guide)
def category_guide(call: Call) -> Response:
    """A category's disposal guide, by code (clear_pet) or Korean name (무색페트병)."""
    kb = knowledge.load()
    c = kb.category(call.params["code"])
    if c is None:
        raise Problem(404, "No such category.", slug="not-found")
    g = c.guide
    body = Guide(
        **_category(c),
        title=g.title,
        summary=g.summary,
        includes=g.includes,
        steps=_steps(g),
        put_out=g.put_out,
        not_accepted=[vars(r) for r in g.not_accepted],
        tips=g.tips,
        subcategories=[_ref(child) for child in kb.children(c.code)],
        items=[{"id": i.id, "name": i.name} for i in kb.items_in(c.code)],
        faq=[{"id": f.id, "question": f.question} for f in kb.faq_in(c.code)],
    )
    return _cached(call, body)


@fn.get("/items/{id}", response=Item)
def item(call: Call) -> Response:
    """One item: where it goes, and that category's steps."""
    kb = knowledge.load()
    found = kb.item(call.params["id"])
    if found is None:
        raise Problem(404, "No such item.", slug="not-found")
    category = kb.category(found.category)
    confused = kb.category(found.confused_with) if found.confused_with else None
    body = Item(
        id=found.id,
        name=found.name,
        aliases=found.aliases,
        note=found.note,
        category=_ref(category),
        confused_with=_ref(confused) if confused else None,
        guide=_brief(category.guide),
    )
    return _cached(call, body)


@fn.get("/search", query=SearchQuery, response=SearchResults)
def search(call: Call) -> Response:
    """Ranked categories, items and FAQ for a Korean or English query."""
    hits = knowledge.search(call.query.q, call.query.limit)
    body = SearchResults(
        query=call.query.q,
        results=[
            {"kind": h.kind, "id": h.id, "title": h.title, "score": h.score,
             "category": _ref(h.category), "guide": _brief(h.category.guide)}
            for h in hits
        ],
    )
    return _cached(call, body, SEARCH_MAX_AGE)


@fn.get("/faq", query=FaqQuery, response=FaqPage)
def faq(call: Call) -> Response:
    """The FAQ, optionally of one category, a page at a time (keyset cursor)."""
    entries = knowledge.load().faq_in(call.query.category)
    ids = [f.id for f in entries]
    after = pagination.decode(call.query.cursor, str)
    if after is not None and after[0] not in ids:
        # Well-formed, but not from this listing (another category, or an entry
        # since removed): the same 422 as any cursor we did not make.
        raise Problem(422, "The cursor is not valid.", slug="validation", errors=[
            {"loc": ["query", "cursor"], "msg": "not a cursor of this listing", "type": "cursor"}])
    start = ids.index(after[0]) + 1 if after else 0
    page = entries[start : start + call.query.limit]
    more = start + len(page) < len(entries)
    body = FaqPage(
        items=[vars(f) for f in page],
        next_cursor=pagination.encode(page[-1].id) if page and more else None,
    )
    return _cached(call, body)


@fn.get("/prices", query=PriceQuery, response=PriceList)
def prices(call: Call) -> Response:
    """Recyclable-resource prices (KRW/kg) from the KECO survey, for one region or all."""
    kb = knowledge.load()
    p = kb.prices
    region = call.query.region
    body = PriceList(
        source=p.source,
        surveyed=p.surveyed,
        unit=p.unit,
        url=p.url,
        note=p.note,
        region=vars(kb.region(region)) if region else None,
        regions=[vars(r) for r in p.regions],
        items=[
            {**{k: v for k, v in vars(i).items() if k != "prices"},
             "price": i.prices[region] if region else None,
             "prices": {region: i.prices[region]} if region else dict(i.prices)}
            for i in p.items
        ],
    )
    return _cached(call, body)


handle = fn.build()
