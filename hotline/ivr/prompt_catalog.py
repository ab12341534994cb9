"""The prompt catalog (``examples/prompts.yaml``): prompt name -> text per language, for synthesis.

Pure parsing; the lab's espeak-ng generator and the menu loader's prompt check both use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hotline.kernel.errors import ProblemsError


class PromptCatalogError(ProblemsError):
    """The catalog is unreadable or invalid; ``problems`` lists every problem."""

    inline = True

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        super().__init__(problems, headline=source)


class PromptCatalog(BaseModel):
    """Prompt texts to synthesize.

    Attributes:
        prefix: full-name template, ``{lang}`` replaced by the language (``hotline/{lang}/``).
        voices: language code -> espeak-ng voice (``zh: cmn``, ``yue: yue``, ``en: en-us``).
        prompts: relative prompt name -> language code -> text.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    prefix: str = ""
    voices: dict[str, str] = Field(default_factory=dict)
    prompts: dict[str, dict[str, str]]

    def full_name(self, name: str, language: str) -> str:
        """``main_menu``, ``yue`` -> ``hotline/yue/main_menu``."""
        return self.prefix.replace("{lang}", language) + name

    def names(self) -> set[str]:
        """Every full prompt name the catalog produces (for ``known_prompts``)."""
        return {self.full_name(n, lang) for n, texts in self.prompts.items() for lang in texts}

    def texts(self) -> list[tuple[str, str, str]]:
        """``(full name, language, text)`` for each prompt and language, sorted by name."""
        return sorted(
            (self.full_name(n, lang), lang, text) for n, texts in self.prompts.items() for lang, text in texts.items()
        )


def parse_catalog(data: Mapping[str, Any], source: str = "<dict>") -> PromptCatalog:
    """Validate a catalog mapping.

    Raises:
        PromptCatalogError: every problem found.
    """
    try:
        return PromptCatalog.model_validate(data)
    except ValidationError as exc:
        raise PromptCatalogError(
            source, [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        ) from None


def load_catalog(path: str | Path) -> PromptCatalog:
    """Read and validate a catalog YAML file.

    Raises:
        PromptCatalogError: unreadable, not YAML, or invalid.
    """
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise PromptCatalogError(str(path), [str(exc)]) from None
    if not isinstance(data, Mapping):
        raise PromptCatalogError(str(path), ["expected a mapping with 'prompts'"])
    return parse_catalog(data, str(path))
