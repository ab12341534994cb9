"""The sample menu and the sample agents file work together: every IVR hand-over has agents."""

from __future__ import annotations

from pathlib import Path

from hotline.ivr.menus import load_menu
from hotline.queues.config import load_agents_file

ROOT = Path(__file__).resolve().parents[3]


def test_every_queue_node_of_the_sample_menu_has_agents_holding_its_skills() -> None:
    menu = load_menu(ROOT / "hotline" / "ivr" / "examples" / "12345.yaml")
    queues, agents = load_agents_file(ROOT / "hotline" / "queues" / "examples" / "agents.yaml")
    queue_names = {q.name for q in queues}
    for node_id, node in menu.nodes.items():
        if node.kind != "queue":
            continue
        assert node.queue in queue_names, f"{node_id}: queue {node.queue!r} is not in the agents file"
        able = [a for a in agents if all(skill in a.skills for skill in node.skills)]
        assert able, f"{node_id}: no agent has all of {node.skills}"
