"""The sample Foshan-style 12345 menu and its prompt catalog stay valid and consistent."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.ivr.menus import QueueNode, load_menu, node_prompts
from hotline.ivr.prompt_catalog import PromptCatalogError, load_catalog, parse_catalog

EXAMPLES = Path(__file__).resolve().parents[3] / "hotline" / "ivr" / "examples"
QUEUES = {"commerce", "labour_social", "housing_fund", "environment", "transport", "general", "complaints"}


def test_given_sample_menu_when_loading_with_catalog_prompts_then_no_problem() -> None:
    catalog = load_catalog(EXAMPLES / "prompts.yaml")
    menu = load_menu(EXAMPLES / "12345.yaml", known_prompts=catalog.names())
    assert menu.id == "foshan-12345"
    assert menu.languages == ("zh", "yue", "en")
    assert {n.queue for n in menu.nodes.values() if isinstance(n, QueueNode)} == QUEUES


def test_given_prompt_catalog_when_reading_then_every_prompt_has_zh_yue_en_text_and_a_voice() -> None:
    catalog = load_catalog(EXAMPLES / "prompts.yaml")
    assert set(catalog.voices) == {"zh", "yue", "en"}
    for name, texts in catalog.prompts.items():
        assert set(texts) == {"zh", "yue", "en"}, name
        assert all(t.strip() for t in texts.values()), name
    assert ("hotline/en/goodbye", "en", "Thank you for calling. Goodbye.") in catalog.texts()


def test_given_sample_menu_when_listing_prompts_then_catalog_has_no_unused_menu_prompt() -> None:
    catalog = load_catalog(EXAMPLES / "prompts.yaml")
    menu = load_menu(EXAMPLES / "12345.yaml")
    used = {p for n in menu.nodes.values() for _, p in node_prompts(n)}
    used |= {menu.defaults.invalid_prompt, menu.defaults.timeout_prompt, menu.defaults.goodbye_prompt}
    unused = {n for n in catalog.prompts if not n.startswith(("hot/", "cb/"))} - used  # cb/: callbacks/offering.py
    assert not unused


@pytest.mark.parametrize(
    ("data", "fragment"),
    [({"prompts": {"a": {"zh": 1}}}, "prompts.a.zh"), ({"prompts": {}, "voice": {}}, "voice")],
)
def test_given_bad_catalog_when_parsing_then_problem_names_key(data: dict, fragment: str) -> None:
    with pytest.raises(PromptCatalogError, match=fragment):
        parse_catalog(data)
