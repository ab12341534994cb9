"""ChanSpy originate fields, agent-leg choice by linkedid, users file validation and hashing."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.telephony.calls import Call, Leg
from hotline.web.errors import UsersFileError
from hotline.web.spy import pick_agent_leg, spy_originate
from hotline.web.users import Role, add_user, load_users, parse_users, verify_password


@pytest.mark.parametrize(("mode", "opts"), [("listen", "q"), ("whisper", "qw"), ("barge", "qB")])
def test_given_mode_when_spy_originated_then_supervisor_seat_rings_into_chanspy(mode: str, opts: str) -> None:
    f = spy_originate(mode, "1271", "PJSIP/1275-0000002a", 5.0)
    assert f["Channel"] == "PJSIP/1271"
    assert f["Application"] == "ChanSpy"
    assert f["Data"] == f"PJSIP/1275-0000002a,{opts}"
    assert f["Timeout"] == "5000"


def _call() -> Call:
    c = Call("L", 1.0)
    c.legs = {"u1": Leg("u1", "L", "PJSIP/trunk-00000001", 1.0), "u2": Leg("u2", "L", "PJSIP/1275-00000002", 2.0)}
    return c


def test_given_call_with_trunk_and_agent_leg_then_agent_leg_picked() -> None:
    assert pick_agent_leg(_call(), ["1275"]).uniqueid == "u2"  # type: ignore[union-attr]
    assert pick_agent_leg(_call(), ["1276"]) is None
    assert pick_agent_leg(_call(), ["1275"], agent_id="1276") is None


def test_given_user_added_when_loaded_then_password_verifies_and_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "users.yaml"
    add_user(path, "zhang.wei", "supervisor", "correct horse", seat="1271")
    user = load_users(path)["zhang.wei"]
    assert user.role is Role.SUPERVISOR and user.seat == "1271"
    assert verify_password(user, "correct horse") and not verify_password(user, "wrong")
    assert path.stat().st_mode & 0o777 == 0o600
    assert "correct horse" not in path.read_text()


def test_given_bad_users_file_when_parsed_then_every_problem_is_listed() -> None:
    with pytest.raises(UsersFileError) as err:
        parse_users({"users": {"a": {"role": "boss", "password_hash": "$argon2id$x"},
                               "b": {"role": "agent", "password_hash": "plain"}}}, "u.yaml")
    assert len(err.value.problems) == 2
    assert "u.yaml: users.a.role" in err.value.problems[0]
