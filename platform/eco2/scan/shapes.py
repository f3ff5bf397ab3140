"""The shapes of scan's answers, for the OpenAPI document and the response check:
the original's fields (what the released app reads), then eco2's (docs/scan.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class Categories(BaseModel):
    major_category: str
    middle_category: str
    minor_category: str | None


class ClassificationResult(BaseModel):
    classification: Categories
    situation_tags: list[str]


class RuleStep(BaseModel):
    id: str
    title: str
    text: str
    required: bool


class DisposalRules(BaseModel):
    key: str = Field(description="The category's code")
    category: str = Field(description="The middle category, or the major one")
    title: str
    summary: str
    steps: list[RuleStep]
    put_out: list[str]
    tips: list[str]


class FinalAnswer(BaseModel):
    disposal_steps: dict[str, str] = Field(description='{"단계1": ..., ...}')
    insufficiencies: list[str]
    user_answer: str


class PipelineResult(BaseModel):
    classification_result: ClassificationResult
    disposal_rules: DisposalRules
    final_answer: FinalAnswer


class Reward(BaseModel):
    received: bool = Field(description="This scan granted the character")
    already_owned: bool
    name: str
    dialog: str
    match_reason: str
    character_type: str
    type: str
    code: str


class Candidate(BaseModel):
    code: str
    name: str
    probability: float
    item: str | None
    class_: str = Field(alias="class", description="The strongest ImageNet class behind it")


class Points(BaseModel):
    awarded: int
    scan: int
    character: int
    daily_cap_reached: bool


class ModelInfo(BaseModel):
    name: str
    version: str
    sha256: str


class Timings(BaseModel):
    fetch_ms: float | None
    decode_ms: float
    inference_ms: float
    vision_ms: float | None
    total_ms: float


class ScanAnswer(BaseModel):
    task_id: str
    status: Literal["completed"]
    message: str
    pipeline_result: PipelineResult
    reward: Reward | None = Field(description="null unless a character matches a correctly prepared recyclable")
    scan_id: str
    confidence: float
    candidates: list[Candidate]
    source: Literal["model", "user_input", "vision"]
    points: Points
    model: ModelInfo
    timings: Timings


class ScanTask(ScanAnswer):
    category: str = Field(description="The major category (the original's task field)")
    completed_at: datetime


class ScanCategory(BaseModel):
    id: int
    name: str
    display_name: str
    instructions: list[str]
