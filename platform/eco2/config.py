"""Configuration from environment variables, validated once at start-up.

Each field names the variable it reads (its alias). A function that needs more
settings subclasses :class:`Settings` and passes the class to ``Function``.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated, Literal, Mapping, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

S = TypeVar("S", bound="Settings")


def _split_commas(value: object) -> object:
    if isinstance(value, str):
        return [item.strip().rstrip("/") for item in value.split(",") if item.strip()]
    return value


# A list given in one variable as comma-separated values: "a, b,c".
CommaList = Annotated[list[str], BeforeValidator(_split_commas)]


def _existing_file(value: str | None) -> str | None:
    if value and not os.path.isfile(value):
        raise ValueError("no such file")
    return value or None


# The path of a file that must exist at start-up (a key, a JWKS); empty is unset.
ExistingFile = Annotated[str | None, AfterValidator(_existing_file)]

# A count that "off" turns off (None).
OffOrCount = Annotated[int | None, BeforeValidator(lambda value: None if value == "off" else value)]


class Settings(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    env: Literal["dev", "test", "prod"] = Field("prod", alias="ECO2_ENV")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", alias="ECO2_LOG_LEVEL")
    database_url: str | None = Field(None, alias="DATABASE_URL")
    redis_url: str | None = Field(None, alias="REDIS_URL")
    max_body_bytes: int = Field(1 << 20, ge=1024, le=64 << 20, alias="ECO2_MAX_BODY_BYTES")
    # The longest a request's whole body may take to arrive (eco2.body).
    body_timeout_seconds: float = Field(10.0, gt=0, le=300, alias="ECO2_BODY_TIMEOUT_SECONDS")
    db_pool_max: int = Field(4, ge=1, le=64, alias="ECO2_DB_POOL_MAX")
    db_timeout_seconds: float = Field(3.0, gt=0, le=60, alias="ECO2_DB_TIMEOUT_SECONDS")
    # psycopg's prepare_threshold (its own default, 5): on, since PostgreSQL and the
    # cluster's PgBouncer 1.24 (max_prepared_statements) both keep prepared statements;
    # "off" for a PgBouncer < 1.22 in transaction mode (eco2.db).
    db_prepare_threshold: OffOrCount = Field(5, ge=0, alias="ECO2_DB_PREPARE_THRESHOLD")
    redis_timeout_seconds: float = Field(1.0, gt=0, le=30, alias="ECO2_REDIS_TIMEOUT_SECONDS")
    # Browser origins of the app allowed to call with credentials (eco2.cors).
    cors_origins: CommaList = Field(default_factory=list, alias="ECO2_CORS_ORIGINS")
    # Token verification, in every function (eco2.tokens).
    jwks: str | None = Field(None, alias="ECO2_JWKS")
    jwks_file: ExistingFile = Field(None, alias="ECO2_JWKS_FILE")
    jwt_issuer: str = Field("eco2-auth", min_length=1, alias="ECO2_JWT_ISSUER")
    jwt_audience: str = Field("eco2-app", min_length=1, alias="ECO2_JWT_AUDIENCE")
    jwt_leeway_seconds: int = Field(30, ge=0, le=300, alias="ECO2_JWT_LEEWAY_SECONDS")
    access_ttl_seconds: int = Field(900, ge=60, le=86400, alias="ECO2_ACCESS_TTL_SECONDS")

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("must be a postgresql:// URL")
        return value or None

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis://, rediss:// or unix:// URL")
        return value or None

    @field_validator("jwks")
    @classmethod
    def _jwks_json(cls, value: str | None) -> str | None:
        if value:
            import json

            try:
                keys = json.loads(value).get("keys")
            except (ValueError, AttributeError):
                raise ValueError("must be a JSON Web Key Set") from None
            if not isinstance(keys, list):
                raise ValueError("must be a JSON Web Key Set")
        return value or None


class ConfigError(SystemExit):
    """Raised at start-up for a bad variable; the process exits with EX_CONFIG (78)."""

    def __init__(self, message: str) -> None:
        super().__init__(78)
        self.message = message


def load(cls: type[S] = Settings, environ: Mapping[str, str] | None = None) -> S:
    """Validate the environment into ``cls``; a bad value stops the process.

    The message names each offending variable and never echoes its value,
    since it may be a secret.
    """
    try:
        return cls.model_validate(dict(os.environ if environ is None else environ))
    except ValidationError as exc:
        lines = []
        for err in exc.errors(include_url=False, include_input=False):
            field = cls.model_fields.get(str(err["loc"][0])) if err["loc"] else None
            name = (field.alias if field and field.alias else None) or ".".join(map(str, err["loc"]))
            lines.append(f"  {name}: {err['msg']}")
        message = "eco2: invalid configuration:\n" + "\n".join(lines)
        print(message, file=sys.stderr, flush=True)
        raise ConfigError(message) from None
