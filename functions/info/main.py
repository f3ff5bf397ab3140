"""info: Waste categories, disposal guides, FAQ, recyclable prices and search.

Public and read-only: everything comes from the knowledge base shipped with the
runtime (eco2.knowledge), so responses carry an ETag and Cache-Control and a
matching If-None-Match gets 304. Handlers return the knowledge base's own
records; the response models pick the fields they show.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints, field_validator

from eco2 import Call, Function, knowledge, pagination, problems

fn = Function("info", "/api/v1/info")

# The data changes only with a deploy; revalidation is a 304 (the ETag).
STATIC = "public, max-age=3600"
SEARCH = "public, max-age=300"


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


@fn.get("/categories", response=CategoryList, cache=STATIC, etag=True, static=True)
def categories(call: Call) -> dict[str, Any]:
    """Every category: the majors and the recyclable middle categories."""
    return {"categories": knowledge.load().categories}


@fn.get("/categories/{code}", response=Guide, cache=STATIC, etag=True)
def category_guide(call: Call) -> dict[str, Any]:
    """A category's disposal guide, by code (clear_pet) or Korean name (무색페트병)."""
    kb = knowledge.load()
    c = kb.category(call.params["code"])
    if c is None:
        raise problems.not_found("No such category.")
    return {
        **vars(c.guide),
        **vars(c),
        "subcategories": kb.children(c.code),
        "items": kb.items_in(c.code),
        "faq": kb.faq_in(c.code),
    }


@fn.get("/items/{id}", response=Item, cache=STATIC, etag=True)
def item(call: Call) -> dict[str, Any]:
    """One item: where it goes, and that category's steps."""
    kb = knowledge.load()
    found = kb.item(call.params["id"])
    if found is None:
        raise problems.not_found("No such item.")
    category = kb.category(found.category)
    return {
        **vars(found),
        "category": category,
        "confused_with": kb.category(found.confused_with) if found.confused_with else None,
        "guide": category.guide,
    }


# Answers kept serialized, by query string: the app's users send the same few
# queries over and over (a repeated one is a dictionary lookup).
SEARCH_ANSWERS = 256


@fn.get("/search", query=SearchQuery, response=SearchResults, cache=SEARCH, etag=True, memo=SEARCH_ANSWERS)
def search(call: Call) -> dict[str, Any]:
    """Ranked categories, items and FAQ for a Korean or English query."""
    hits = knowledge.search(call.query.q, call.query.limit)
    return {"query": call.query.q, "results": [{**vars(h), "guide": h.category.guide} for h in hits]}


@fn.get("/faq", query=FaqQuery, response=FaqPage, cache=STATIC, etag=True)
def faq(call: Call) -> dict[str, Any]:
    """The FAQ, optionally of one category, a page at a time (keyset cursor)."""
    entries = knowledge.load().faq_in(call.query.category)
    ids = [f.id for f in entries]
    after = pagination.decode(call.query.cursor, pagination.text)
    if after is not None and after[0] not in ids:
        # Well-formed, but not from this listing (another category, or an entry
        # since removed): the same 422 as any cursor we did not make.
        raise pagination.invalid_cursor("not a cursor of this listing")
    start = ids.index(after[0]) + 1 if after else 0
    page = entries[start : start + call.query.limit]
    more = start + len(page) < len(entries)
    return {"items": page, "next_cursor": pagination.encode(page[-1].id) if page and more else None}


@fn.get("/prices", query=PriceQuery, response=PriceList, cache=STATIC, etag=True)
def prices(call: Call) -> dict[str, Any]:
    """Recyclable-resource prices (KRW/kg) from the KECO survey, for one region or all."""
    kb = knowledge.load()
    region = call.query.region
    return {
        **vars(kb.prices),
        "region": kb.region(region) if region else None,
        "items": [
            {**vars(i), "price": i.prices[region] if region else None,
             "prices": {region: i.prices[region]} if region else i.prices}
            for i in kb.prices.items
        ],
    }


handle = fn.build()
