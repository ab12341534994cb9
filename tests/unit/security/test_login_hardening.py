"""Login hardening read as a list of attacks (issue #15 item 3): open redirects after login, brute
force per user and per address, user-name enumeration by work done, and argon2 on its own pool."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from hotline.web.auth import Authenticator
from hotline.web.errors import TooManyAttempts, status_of
from hotline.web.loginguard import LoginThrottle, safe_next
from hotline.web.users import Role, User

# --- open redirect: `next` must stay on this site ----------------------------------------------------------------

OFF_SITE = [
    "//evil.example",                       # protocol-relative
    "///evil.example",
    "/%09/evil.example",                    # TAB dropped by browsers -> //evil.example (the reported one)
    "/%0a/evil.example", "/%0d/evil.example", "/%0D%0A/evil.example",  # encoded CR/LF
    "/%2509/evil.example",                  # double-encoded TAB
    "/\t/evil.example", "/\n/evil.example", "/ /evil.example",  # raw control chars and whitespace
    "/\\evil.example", "/\\\\evil.example", "\\\\evil.example", "/%5Cevil.example",  # backslash = slash
    "/%2F/evil.example", "/%2f%2fevil.example",  # encoded second slash
    "https://evil.example", "http:/evil.example", "HTTPS://evil.example",
    "javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,x", "%6Aavascript:alert(1)",
    "evil.example", "", None, "/\x00/evil", "/\x7f/evil", "/\u2028/evil",
]


@pytest.mark.parametrize("target", OFF_SITE)
def test_given_off_site_next_when_made_safe_then_home(target: str | None) -> None:
    assert safe_next(target) == "/"


@pytest.mark.parametrize("target", ["/", "/supervisor", "/wallboard?x=1&y=2", "/qa/reviews/42#score",
                                    "/api/agents/1272", "/reviews/a%2Fb"])
def test_given_same_site_path_when_made_safe_then_kept(target: str) -> None:
    assert safe_next(target) == target


def test_given_very_long_next_then_home() -> None:
    assert safe_next("/" + "a" * 5000) == "/"


# --- brute force: growing, bounded waits per user and per address -------------------------------------------------

class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_given_repeated_failures_for_one_user_then_waits_double_and_are_capped() -> None:
    clock = Clock()
    t = LoginThrottle(clock, free=3, base_s=1.0, max_s=60.0)
    delays = []
    for i in range(12):
        delays.append(t.failed("li.na", f"10.0.0.{i}"))  # a new address each time: the user key alone decides
        clock.now += delays[-1]                          # the attacker waits exactly as long as told
    assert delays == [0, 0, 0, 1, 2, 4, 8, 16, 32, 60, 60, 60]
    t.failed("li.na", "10.9.9.8")
    assert t.wait_s("li.na", "10.9.9.9") == 60.0  # bounded: never longer than max_s


def test_given_user_in_waiting_window_then_refused_until_window_passes() -> None:
    clock = Clock()
    t = LoginThrottle(clock, free=1, base_s=2.0)
    t.failed("li.na", None)
    assert t.wait_s("li.na", None) == 0.0
    t.failed("li.na", None)
    assert t.wait_s("li.na", None) == 2.0
    clock.now += 1.5
    assert t.wait_s("li.na", None) == pytest.approx(0.5)
    assert t.wait_s("LI.NA", None) == pytest.approx(0.5)  # case does not dodge the counter
    clock.now += 0.5
    assert t.wait_s("li.na", None) == 0.0


def test_given_password_spraying_from_one_address_then_the_address_is_slowed() -> None:
    clock = Clock()
    t = LoginThrottle(clock, free=3, address_free=3, base_s=1.0)
    for i in range(6):
        t.failed(f"user{i}", "203.0.113.7")  # a different name each time: the address key decides
    assert t.wait_s("someone.else", "203.0.113.7") == 4.0
    assert t.wait_s("someone.else", "198.51.100.1") == 0.0  # other clients are not affected


def test_given_success_then_user_count_cleared_but_address_keeps_its_earlier_count() -> None:
    clock = Clock()
    t = LoginThrottle(clock, free=0, address_free=0, base_s=1.0)
    t.failed("li.na", "203.0.113.7")
    t.failed("li.na", "203.0.113.7")
    t.failed("li.na", "203.0.113.7")  # recorded up front for the attempt that then succeeds
    t.succeeded("li.na", "203.0.113.7")
    assert t.wait_s("li.na", None) == 0.0
    assert t.wait_s("li.na", "203.0.113.7") == 2.0


def test_given_quiet_period_then_failures_forgotten_and_table_stays_bounded() -> None:
    clock = Clock()
    t = LoginThrottle(clock, free=0, base_s=1.0, forget_s=900.0, max_keys=100)
    t.failed("li.na", None)
    clock.now += 901
    assert t.failed("li.na", None) == 1.0  # counting starts again
    for i in range(1000):
        t.failed(f"u{i}", f"10.{i // 256}.{i % 256}.1")
    assert len(t) <= 100


# --- enumeration and work: same argon2 work for unknown and known users; its own pool ------------------------------

class CountingHasher:
    """``(hash, password) -> bool`` that counts calls and the threads they ran on (hash ``h:<password>``)."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.threads: list[str] = []

    def __call__(self, password_hash: str, password: str) -> bool:
        self.calls.append(password_hash)
        self.threads.append(threading.current_thread().name)
        return password_hash == f"h:{password}"


USERS = {"li.na": User("li.na", Role.AGENT, "h:right", agent_id="1272")}


def _auth(hasher: CountingHasher, clock: Clock, executor: ThreadPoolExecutor | None = None) -> Authenticator:
    return Authenticator(lambda: USERS, 3600, clock, executor=executor, verify=hasher, dummy=lambda: "h:dummy-x",
                         throttle=LoginThrottle(clock, free=3, base_s=1.0, max_s=60.0))


async def test_given_unknown_and_known_user_then_the_same_hash_work_is_done() -> None:
    hasher, clock = CountingHasher(), Clock()
    auth = _auth(hasher, clock)
    assert await auth.check_password("nobody", "guess", "10.0.0.1") is None
    assert await auth.check_password("li.na", "guess", "10.0.0.2") is None
    assert await auth.check_password("li.na", "right", "10.0.0.3") == USERS["li.na"]
    assert hasher.calls == ["h:dummy-x", "h:right", "h:right"]  # one verification each, unknown name included
    assert await auth.check_password("nobody", "dummy-x", "10.0.0.4") is None  # the dummy never logs anyone in


async def test_given_brute_force_then_refused_without_hashing_until_the_wait_passes() -> None:
    hasher, clock = CountingHasher(), Clock()
    auth = _auth(hasher, clock)
    for i in range(4):
        assert await auth.check_password("li.na", f"guess{i}", "203.0.113.7") is None
    with pytest.raises(TooManyAttempts) as err:
        await auth.check_password("li.na", "right", "203.0.113.7")
    assert status_of(err.value) == 429 and err.value.details == {"retry_after_s": 1}
    with pytest.raises(TooManyAttempts):  # from another address the user key still holds
        await auth.check_password("li.na", "right", "198.51.100.1")
    assert len(hasher.calls) == 4  # refused attempts cost no argon2
    clock.now += 1.0
    assert await auth.check_password("li.na", "right", "198.51.100.1") == USERS["li.na"]


async def test_given_burst_of_parallel_guesses_then_only_the_free_ones_and_one_more_are_hashed() -> None:
    hasher, clock = CountingHasher(), Clock()
    auth = _auth(hasher, clock)
    results = await asyncio.gather(*(auth.check_password("li.na", f"g{i}", "203.0.113.7") for i in range(10)),
                                   return_exceptions=True)
    assert len(hasher.calls) == 4
    assert sum(isinstance(r, TooManyAttempts) for r in results) == 6


async def test_given_password_checks_then_they_run_on_the_given_small_pool() -> None:
    hasher, clock = CountingHasher(), Clock()
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="hotline-password") as pool:
        auth = _auth(hasher, clock, pool)
        await asyncio.gather(*(auth.check_password(f"u{i}", "x", f"10.0.0.{i}") for i in range(6)))
    assert len(hasher.threads) == 6
    assert all(name.startswith("hotline-password") for name in hasher.threads)
    assert len(set(hasher.threads)) <= 2


async def test_given_too_many_checks_in_flight_then_refused_at_once() -> None:
    started, release = threading.Event(), threading.Event()

    def slow(password_hash: str, password: str) -> bool:
        started.set()
        release.wait(5)
        return False

    clock = Clock()
    with ThreadPoolExecutor(max_workers=1) as pool:
        auth = Authenticator(lambda: USERS, 3600, clock, executor=pool, verify=slow, dummy=lambda: "h:d",
                             max_pending=1)
        first = asyncio.create_task(auth.check_password("a", "x", "10.0.0.1"))
        await asyncio.wait_for(asyncio.to_thread(started.wait, 5), 5)
        with pytest.raises(TooManyAttempts):
            await auth.check_password("b", "x", "10.0.0.2")
        release.set()
        assert await asyncio.wait_for(first, 5) is None


def test_given_a_floor_behind_one_nat_when_a_few_agents_mistype_then_the_address_is_not_locked() -> None:
    now = [0.0]
    t = LoginThrottle(lambda: now[0])  # defaults: 3 per user, 20 per address
    for i in range(10):  # ten agents each mistype once from the centre's one address
        assert t.failed(f"agent{i}", "198.51.100.1") == 0.0
    assert t.wait_s("agent11", "198.51.100.1") == 0.0
