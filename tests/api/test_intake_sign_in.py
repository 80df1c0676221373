"""The intake's sign-in limits, decided before any password is hashed (issue 14, item 6)."""

from __future__ import annotations

import threading

import pytest

from vigil.core.settings import ClearinghouseSettings
from vigil.http.company_cache import CompanyCache
from vigil.http.intake_sign_in import SignInGuard, Verdict, client_key

SETTINGS = ClearinghouseSettings(
    sign_in_free_failures=3,
    sign_in_backoff_seconds=1.0,
    sign_in_max_backoff_seconds=8.0,
    sign_in_username_max_backoff_seconds=4.0,
    failed_sign_in_cache_seconds=10.0,
)
GOOD = "the-right-password"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def guard(clock: Clock) -> SignInGuard:
    return SignInGuard(SETTINGS, clock=clock)


def attempt(
    guard: SignInGuard, username: str, password: str, address: str, hashes: list[str] | None = None
) -> Verdict | bool:
    """One sign-in as the intake makes it: a verdict without a hash, else whether the
    password was right (each hash appended to ``hashes``)."""
    admission = guard.admit(username, password, address)
    if admission.verdict is not Verdict.VERIFY:
        return admission.verdict
    try:

        def check() -> str | None:
            if hashes is not None:
                hashes.append(password)
            return "company" if password == GOOD else None

        return guard.checked(admission, check) is not None
    finally:
        guard.release(admission)


def test_an_address_backs_off_exponentially_without_hashing(
    guard: SignInGuard, clock: Clock
) -> None:
    hashes: list[str] = []
    for n in range(3):
        assert attempt(guard, f"user{n}", "guess", "198.51.100.7", hashes) is False
    assert attempt(guard, "user9", "guess", "198.51.100.7", hashes) is Verdict.WAIT
    assert guard.admit("user9", "guess", "198.51.100.7").retry_after == pytest.approx(1.0)
    clock.now += 1.0
    assert attempt(guard, "user9", "guess", "198.51.100.7", hashes) is False
    clock.now += 1.5  # the next wait is 2 s
    assert attempt(guard, "user10", "guess", "198.51.100.7", hashes) is Verdict.WAIT
    clock.now += 0.5
    assert attempt(guard, "user10", "guess", "198.51.100.7", hashes) is False
    assert len(hashes) == 5
    for _ in range(10):  # the waits stop at the cap
        clock.now += 8.0
        attempt(guard, "user11", f"guess{clock.now}", "198.51.100.7")
    assert guard.admit("user12", "guess", "198.51.100.7").retry_after == pytest.approx(8.0)


def test_other_addresses_are_not_slowed(guard: SignInGuard) -> None:
    for n in range(5):
        attempt(guard, f"user{n}", "guess", "198.51.100.7")
    assert attempt(guard, "platform", GOOD, "203.0.113.5") is True


def test_a_user_name_backs_off_across_addresses(guard: SignInGuard, clock: Clock) -> None:
    hashes: list[str] = []
    for n in range(3):
        assert attempt(guard, "platform", f"guess{n}", f"198.51.100.{n}", hashes) is False
    assert attempt(guard, "platform", "guess9", "198.51.100.99", hashes) is Verdict.WAIT
    assert len(hashes) == 3
    for _ in range(10):
        clock.now += 4.0
        attempt(guard, "platform", f"guess{clock.now}", f"192.0.2.{int(clock.now) % 250}")
    # the user name's cap is lower than an address's: a new company password waits less
    assert guard.admit("platform", "x", "192.0.2.251").retry_after == pytest.approx(4.0)


def test_the_real_company_signs_in_while_its_name_and_address_are_flooded(
    guard: SignInGuard,
) -> None:
    assert attempt(guard, "platform", GOOD, "203.0.113.5") is True
    for n in range(20):  # a guesser on the company's name, from its address and others
        attempt(guard, "platform", f"guess{n}", "203.0.113.5")
        attempt(guard, "platform", f"guess{n}", f"198.51.100.{n}")
    assert attempt(guard, "platform", "guess-new", "198.51.100.200") is Verdict.WAIT
    hashes: list[str] = []
    assert attempt(guard, "platform", GOOD, "203.0.113.5", hashes) is True
    assert attempt(guard, "platform", GOOD, "192.0.2.77", hashes) is True  # another office
    assert hashes == [GOOD, GOOD]


def test_a_first_correct_sign_in_clears_the_waits(guard: SignInGuard, clock: Clock) -> None:
    for n in range(3):
        attempt(guard, "platform", f"typo{n}", "203.0.113.5")
    assert attempt(guard, "platform", GOOD, "203.0.113.5") is Verdict.WAIT
    clock.now += 1.0  # the window lets one hash run: the right password gets in
    assert attempt(guard, "platform", GOOD, "203.0.113.5") is True
    assert attempt(guard, "other", "typo", "203.0.113.5") is False  # counters start over


def test_the_same_wrong_pair_is_answered_from_memory(guard: SignInGuard, clock: Clock) -> None:
    hashes: list[str] = []
    assert attempt(guard, "platform", "stale", "203.0.113.5", hashes) is False
    for _ in range(20):
        assert attempt(guard, "platform", "stale", "203.0.113.5", hashes) is Verdict.KNOWN_FAILURE
    assert len(hashes) == 1
    assert attempt(guard, "platform", GOOD, "203.0.113.5") is True  # not held against it
    clock.now += 10.5
    assert attempt(guard, "platform", "stale", "203.0.113.5", hashes) is False
    assert len(hashes) == 2


def test_a_burst_of_one_pair_counts_once_and_hashes_once(guard: SignInGuard) -> None:
    cache, hashes, answers = CompanyCache(ttl=60), [], []
    start = threading.Barrier(12)

    def sign_in(password: str) -> None:
        start.wait()
        admission = guard.admit("platform", password, "203.0.113.5")
        if admission.verdict is not Verdict.VERIFY:
            answers.append(admission.verdict)
            return
        try:

            def check() -> str | None:
                hashes.append(password)
                threading.Event().wait(0.05)  # an argon2 check takes this long
                return "company" if password == GOOD else None

            answers.append(
                cache.get_or_verify("platform", password, lambda: guard.checked(admission, check))
            )
        finally:
            guard.release(admission)

    for password in ("wrong", GOOD):
        threads = [threading.Thread(target=sign_in, args=(password,)) for _ in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert hashes == ["wrong", GOOD]
    assert answers[12:] == ["company"] * 12


def test_pairs_are_kept_only_as_keyed_digests(clock: Clock) -> None:
    first, second = SignInGuard(SETTINGS, clock=clock), SignInGuard(SETTINGS, clock=clock)
    for guard in (first, second):
        attempt(guard, "platform", "hunter2-secret", "203.0.113.5")
    kept = [guard._failed.keys() for guard in (first, second)]
    assert kept[0] != kept[1]  # a per-process key: the same pair, different digests
    assert all(b"hunter2" not in digest for digest in kept[0] + kept[1])


def test_cached_failures_can_be_switched_off(clock: Clock) -> None:
    guard = SignInGuard(
        SETTINGS.model_copy(update={"failed_sign_in_cache_seconds": 0}), clock=clock
    )
    hashes: list[str] = []
    attempt(guard, "platform", "stale", "203.0.113.5", hashes)
    attempt(guard, "platform", "stale", "203.0.113.5", hashes)
    assert len(hashes) == 2


def test_a_quiet_address_starts_over(guard: SignInGuard, clock: Clock) -> None:
    for n in range(6):
        clock.now += 1.0
        attempt(guard, f"user{n}", "guess", "198.51.100.7")
    clock.now += 8.0 * 3 + 1
    for n in range(3):
        assert attempt(guard, f"later{n}", "guess", "198.51.100.7") is False


@pytest.mark.parametrize(
    ("address", "client"),
    [
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),
        ("::ffff:198.51.100.7", "198.51.100.7"),
        ("198.51.100.7", "198.51.100.7"),
        ("testclient", "testclient"),
        ("", ""),
        ("x" * 500, "x" * 100),
    ],
)
def test_client_keys(address: str, client: str) -> None:
    assert client_key(address) == client


def test_a_check_that_fails_is_no_failure(guard: SignInGuard) -> None:
    """A database error during the check is no outcome: the pair is not remembered as
    wrong, so the right password works as soon as the database is back."""
    admission = guard.admit("platform", GOOD, "203.0.113.5")
    with pytest.raises(RuntimeError):
        guard.checked(admission, _database_down)
    guard.release(admission)
    assert attempt(guard, "platform", GOOD, "203.0.113.5") is True


def _database_down() -> None:
    raise RuntimeError("database unavailable")
