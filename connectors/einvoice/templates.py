"""Invoice layouts as data: keywords that recognise a layout and named regexes for its fields.

A template is a TOML file under ``config/invoice_templates/`` validated by ``InvoiceTemplate``
(unknown keys rejected, every regex compiled and its named groups checked at load time). Text
is normalised before matching (NFKC, so ``：`` is ``:`` and ``（`` is ``(``; spaced-out
``labels`` such as ``校 验 码`` are closed up), and the keywords and regexes are written
against the normalised text. The template with the most matching keywords wins; ties go to
the higher ``priority``.

    name = "数电票"
    keywords = ["电子发票(", "发票号码"]
    labels = ["发票号码", "开票日期"]
    party_name = '名称:\\s*(?P<value>[^\\s:]+)'
    party_tax_id = '纳税人识别号:\\s*(?P<value>[0-9A-Z]{15,20})'
    line = '^(?P<item>\\*[^*]+\\*\\S*)\\s+ ... (?P<amount>...) (?P<rate>...) (?P<tax>...)$'
    [fields]
    number = '发票号码:\\s*(?P<value>\\d{20})'
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

FieldName = Literal["title", "number", "code", "check_code", "date", "net_total", "tax_total",
                    "gross_total", "gross_upper", "remarks"]
REQUIRED_FIELDS = frozenset({"number", "date", "net_total", "tax_total", "gross_total"})
LINE_GROUPS = frozenset({"item", "spec", "unit", "quantity", "price", "amount", "rate", "tax"})
REQUIRED_LINE_GROUPS = frozenset({"item", "amount", "rate", "tax"})
DEFAULT_FOLDER = Path(__file__).resolve().parents[2] / "config" / "invoice_templates"


class TemplateError(ValueError):
    """A template file that cannot work; names the file and what is wrong."""


def normalise(text: str) -> str:
    """NFKC (full-width colon, yen sign, parentheses and asterisks become ASCII) and no U+3000."""
    return unicodedata.normalize("NFKC", text).replace("\u3000", " ")


def _compile(pattern: str, groups: frozenset[str], required: frozenset[str], what: str) -> str:
    try:
        compiled = re.compile(pattern, re.MULTILINE)
    except re.error as error:
        raise ValueError(f"{what}: not a regular expression ({error})") from None
    names = set(compiled.groupindex)
    if missing := required - names:
        raise ValueError(f"{what}: needs the named groups {sorted(missing)}")
    if unknown := names - groups:
        raise ValueError(f"{what}: unknown named groups {sorted(unknown)} (known: {sorted(groups)})")
    return pattern


class InvoiceTemplate(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    keywords: tuple[str, ...] = Field(min_length=1)
    priority: int = 0
    labels: tuple[str, ...] = ()
    fields: dict[FieldName, str]
    party_name: str
    party_tax_id: str
    line: str

    @field_validator("keywords", "labels")
    @classmethod
    def _normalised(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(normalise(value) for value in values)

    @model_validator(mode="after")
    def _regexes(self) -> InvoiceTemplate:
        if missing := REQUIRED_FIELDS - set(self.fields):
            raise ValueError(f"fields: missing {sorted(missing)}")
        value = frozenset({"value"})
        for name, pattern in self.fields.items():
            _compile(pattern, value, value, f"fields.{name}")
        _compile(self.party_name, value, value, "party_name")
        _compile(self.party_tax_id, value, value, "party_tax_id")
        _compile(self.line, LINE_GROUPS, REQUIRED_LINE_GROUPS, "line")
        return self

    def score(self, text: str) -> int:
        """How many keywords the normalised text holds; 0 unless it holds them all."""
        return len(self.keywords) if all(word in text for word in self.keywords) else 0

    def close_labels(self, text: str) -> str:
        """``校 验 码:`` becomes ``校验码:``, ``名    称`` becomes ``名称``."""
        for label in self.labels:
            spaced = r"[ \t]*".join(re.escape(char) for char in label)
            text = re.sub(spaced, label, text)
        return text


def load_templates(folder: Path = DEFAULT_FOLDER) -> tuple[InvoiceTemplate, ...]:
    """Every ``*.toml`` template in ``folder``, in name order; a bad one raises TemplateError."""
    templates = []
    for path in sorted(folder.glob("*.toml")):
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
            templates.append(InvoiceTemplate.model_validate(data))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, ValidationError) as error:
            raise TemplateError(f"invoice template {path}: {error}") from None
    if not templates:
        raise TemplateError(f"no invoice templates (*.toml) in {folder}")
    return tuple(templates)


def choose(templates: tuple[InvoiceTemplate, ...], text: str) -> InvoiceTemplate | None:
    scored = [(template.score(text), template.priority, template) for template in templates]
    best = max(scored, key=lambda item: (item[0], item[1]), default=None)
    return best[2] if best and best[0] else None
