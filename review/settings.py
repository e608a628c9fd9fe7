"""The review queue's configuration (config/review.toml): SLAs, autonomy, sessions, login limits."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ledger.exceptions import ExceptionCode
from ledger.settings import load_model

DEFAULT_REVIEW_CONFIG = Path(__file__).resolve().parent.parent / "config" / "review.toml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Autonomy(_Strict):
    min_confirmations: int = Field(default=10, ge=1)
    min_accept_ratio: Decimal = Field(default=Decimal("0.95"), ge=0, le=1)
    recent_decline_days: int = Field(default=30, ge=0)


class Session(_Strict):
    idle_minutes: int = Field(default=30, ge=1)
    secure_cookie: Literal["auto", "always", "never"] = "auto"


class Login(_Strict):
    max_failures: int = Field(default=10, ge=1)
    window_minutes: int = Field(default=15, ge=1)


class Queue(_Strict):
    page_size: int = Field(default=50, ge=1, le=500)


class ReviewSettings(_Strict):
    sla_hours: dict[str, int] = Field(default_factory=lambda: {"default": 72})
    autonomy: Autonomy = Autonomy()
    session: Session = Session()
    login: Login = Login()
    queue: Queue = Queue()

    @field_validator("sla_hours")
    @classmethod
    def _known_codes(cls, value: dict[str, int]) -> dict[str, int]:
        unknown = set(value) - {"default", *ExceptionCode}
        if unknown:
            raise ValueError(f"exception codes or 'default' (unknown: {', '.join(sorted(unknown))})")
        return value

    def sla_for(self, code: str) -> int:
        return self.sla_hours.get(code, self.sla_hours.get("default", 72))


def load_review_settings(path: Path = DEFAULT_REVIEW_CONFIG) -> ReviewSettings:
    return load_model(path, ReviewSettings)
