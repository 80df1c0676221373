"""/v1/admin/exchanges: administrators see each exchange's state, counts, errors and feedback
queue, switch it off and on, and start a fetch (run in a worker thread after the answer)
against the fake TAT service over loopback; everyone else is refused, and no answer holds a
credential."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.api.service import PASSWORD as ACCOUNT_PASSWORD
from tests.api.service import add_key, add_user, running, sign_in
from tests.exchanges.fakes.serving import FakeService, serving
from tests.exchanges.fakes.tat import CREDENTIALS, PASSWORD, FakeTat
from tests.screening.listed import fingerprint
from vigil.core.settings import Settings, load_settings
from vigil.exchanges.fetching import fetch_lock_name
from vigil.screening.backlog.fingerprint_store import FingerprintStore
from vigil.screening.backlog.objects import ObjectRef
from vigil.screening.backlog.scan_job import job_store_dir
from vigil.store import Database
from vigil.store.audit import AuditRecord
from vigil.store.evidence.keys import load_master_key
from vigil.store.exchanges.catalogue import create_exchange, get_exchange
from vigil.store.exchanges.feedback_queue import enqueue_feedback, mark_feedback_failed
from vigil.store.job_locks import held_alone
from vigil.store.lists.catalogue import create_list
from vigil.store.models import Role, ScanJobMatch
from vigil.store.scan_jobs.jobs import start_job
from vigil.store.scan_jobs.retro_state import retro_summary

ENTRIES = 7
BASE = "/v1/admin/exchanges"
STORED = ObjectRef("s3", "media", "photos/cat.jpg", "v1", None)


@pytest.fixture
def tat_entries() -> FakeTat:
    fake = FakeTat(page_size=3)
    for _ in range(ENTRIES):
        fake.add("MD5", secrets.token_hex(16))
        fake.tick()
    return fake


@pytest.fixture
def tat(tat_entries: FakeTat) -> Iterator[FakeService]:
    with serving(tat_entries) as service:
        yield service


@pytest.fixture
def exchange(database: Database, settings: Settings, tat: FakeService) -> str:
    with database.transaction(write=True) as session:
        create_list(session, "tat-list", actor="admin")
        create_exchange(
            session,
            "tat",
            kind="tat",
            base_url=tat.url(""),
            credentials=CREDENTIALS,
            list_names=["tat-list"],
            master_key=load_master_key(settings),
            actor="admin",
        )
    return "tat"


@pytest.fixture
def admin(settings: Settings, database: Database) -> Iterator[TestClient]:
    add_user(database, "root", [Role.ADMIN])
    for client in running(settings):
        client.headers.update(sign_in(client, "root"))
        yield client


def _no_credentials(text: str) -> None:
    assert PASSWORD not in text and CREDENTIALS["username"] not in text


def test_an_administrator_sees_each_exchange_and_starts_a_fetch(
    admin: TestClient, exchange: str, database: Database
) -> None:
    listed = admin.get(BASE)
    assert listed.status_code == 200, listed.text
    [shown] = listed.json()["exchanges"]
    assert (shown["name"], shown["kind"], shown["state"], shown["lists"]) == (
        "tat",
        "tat",
        "never",
        ["tat-list"],
    )
    assert shown["feedback"] == {"pending": 0, "sent": 0, "failed": 0}
    assert shown["has_checkpoint"] is False
    started = admin.post(f"{BASE}/tat/fetch")
    assert started.status_code == 202, started.text
    assert started.json() == {
        "exchange": "tat",
        "started": True,
        "runs_in": "a worker thread of this service process",
    }
    # TestClient returns once the background task has run.
    after = admin.get(f"{BASE}/tat").json()
    assert (after["state"], after["entries_fetched"], after["has_checkpoint"]) == (
        "succeeded",
        ENTRIES,
        True,
    )
    assert after["last_fetch_succeeded_at"] is not None and after["last_error"] is None
    _no_credentials(listed.text + repr(after))
    with database.session() as session:
        fetches = [
            record.actor
            for record in session.scalars(select(AuditRecord))
            if record.details.get("change") == "fetch"
        ]
    assert fetches == ["user:root"]


def test_a_fetch_is_refused_while_another_runs_or_the_exchange_is_disabled(
    admin: TestClient, exchange: str, database: Database, tat: FakeService
) -> None:
    with database.session() as session:
        exchange_id = get_exchange(session, exchange).id
    with held_alone(database, fetch_lock_name(exchange_id)) as held:
        assert held
        busy = admin.post(f"{BASE}/tat/fetch")
    assert busy.status_code == 409 and "being fetched" in busy.text
    disabled = admin.post(f"{BASE}/tat/disable")
    assert disabled.status_code == 200 and disabled.json()["enabled"] is False
    refused = admin.post(f"{BASE}/tat/fetch")
    assert refused.status_code == 409 and "disabled" in refused.text
    assert tat.requests == []
    enabled = admin.post(f"{BASE}/tat/enable")
    assert enabled.status_code == 200 and enabled.json()["enabled"] is True
    assert admin.post(f"{BASE}/tat/fetch").status_code == 202
    assert admin.get(f"{BASE}/tat").json()["state"] == "succeeded"


def test_the_feedback_queue_shows_pending_and_failed_items_with_the_reason(
    admin: TestClient, exchange: str, database: Database
) -> None:
    with database.transaction(write=True) as session:
        items = [
            enqueue_feedback(
                session,
                exchange,
                external_id=f"28{number:02d}",
                signal_type="md5",
                signal=secrets.token_hex(16),
                verdict="negative",
                reason="not terrorist content",
                actor="reviewer",
            )
            for number in range(2)
        ]
        first = items[0]
        assert first is not None
        mark_feedback_failed(
            session,
            first.id,
            error="unsupported: the TAT hash list takes no feedback",
            retryable=False,
        )
    counts = admin.get(f"{BASE}/tat").json()["feedback"]
    assert counts == {"pending": 1, "sent": 0, "failed": 1}
    failed = admin.get(f"{BASE}/tat/feedback", params={"state": "failed"})
    assert failed.status_code == 200, failed.text
    [item] = failed.json()["feedback"]
    assert (item["external_id"], item["state"], item["attempts"]) == ("2800", "failed", 1)
    assert (
        item["last_error"].startswith("unsupported") and item["reason"] == "not terrorist content"
    )
    everything = admin.get(f"{BASE}/tat/feedback").json()["feedback"]
    assert [i["external_id"] for i in everything] == ["2801", "2800"]  # newest first
    assert admin.get(f"{BASE}/tat/feedback", params={"state": "lost"}).status_code == 422


def test_feedback_is_switched_off_and_on_audited_under_the_person(
    admin: TestClient, exchange: str, database: Database
) -> None:
    assert admin.get(f"{BASE}/tat").json()["feedback_enabled"] is True
    assert admin.get(f"{BASE}/tat").json()["retro_after_fetch"] is False  # off by default
    off = admin.post(f"{BASE}/tat/feedback/off")
    assert off.status_code == 200, off.text
    assert (off.json()["name"], off.json()["feedback_enabled"]) == ("tat", False)
    assert off.json()["enabled"] is True  # fetching is another switch
    again = admin.post(f"{BASE}/tat/feedback/off")  # idempotent, and not audited twice
    assert again.status_code == 200 and again.json()["feedback_enabled"] is False
    with database.session() as session:
        assert get_exchange(session, exchange).feedback_enabled is False
    assert admin.get(BASE).json()["exchanges"][0]["feedback_enabled"] is False
    on = admin.post(f"{BASE}/tat/feedback/on")
    assert on.status_code == 200 and on.json()["feedback_enabled"] is True
    with database.session() as session:
        assert get_exchange(session, exchange).feedback_enabled is True
        changes = [
            (record.details.get("change"), record.actor)
            for record in session.scalars(select(AuditRecord).order_by(AuditRecord.seq))
            if record.details.get("change") in {"feedback_disabled", "feedback_enabled"}
        ]
    assert changes == [("feedback_disabled", "user:root"), ("feedback_enabled", "user:root")]
    assert admin.post(f"{BASE}/tat/feedback/maybe").status_code in {404, 405}
    assert admin.get(f"{BASE}/tat/feedback/off").status_code in {404, 405}


def test_retro_after_fetch_is_switched_on_and_off_audited_under_the_person(
    admin: TestClient, exchange: str, database: Database
) -> None:
    on = admin.post(f"{BASE}/tat/retro/on")
    assert on.status_code == 200, on.text
    assert (on.json()["name"], on.json()["retro_after_fetch"]) == ("tat", True)
    assert (on.json()["enabled"], on.json()["feedback_enabled"]) == (True, True)  # other switches
    again = admin.post(f"{BASE}/tat/retro/on")  # idempotent, and not audited twice
    assert again.status_code == 200 and again.json()["retro_after_fetch"] is True
    with database.session() as session:
        assert get_exchange(session, exchange).retro_after_fetch is True
    assert admin.get(BASE).json()["exchanges"][0]["retro_after_fetch"] is True
    off = admin.post(f"{BASE}/tat/retro/off")
    assert off.status_code == 200 and off.json()["retro_after_fetch"] is False
    with database.session() as session:
        assert get_exchange(session, exchange).retro_after_fetch is False
        changes = [
            (record.details.get("change"), record.actor)
            for record in session.scalars(select(AuditRecord).order_by(AuditRecord.seq))
            if "retro" in str(record.details.get("change"))
        ]
    assert [actor for _, actor in changes] == ["user:root", "user:root"]
    assert changes[0][0] != changes[1][0]
    assert admin.post(f"{BASE}/tat/retro/maybe").status_code in {404, 405}
    assert admin.get(f"{BASE}/tat/retro/on").status_code in {404, 405}


@pytest.mark.parametrize("retro", [True, False], ids=["retro-on", "retro-off"])
def test_a_fetch_started_over_http_runs_the_retro_round_when_the_switch_is_on(
    admin: TestClient,
    exchange: str,
    database: Database,
    settings: Settings,
    tat_entries: FakeTat,
    corpus_images: list[Path],
    retro: bool,
) -> None:
    """A stored backlog fingerprint of a benign corpus image; the exchange shares its
    SHA-256. With the switch on, the fetch started here queues the stored object for review
    (the round the scheduled job runs); with it off nothing is matched."""
    with database.transaction(write=True) as session:
        job = start_job(session, source="s3://media/", engine="local", options={}, store_dir="")
        job.store_dir = str(job_store_dir(settings.data_dir, job.id))
        store = FingerprintStore(Path(job.store_dir))
    stored = fingerprint(corpus_images[0])
    assert stored.sha256 is not None
    store.write_part(1, [(STORED, stored)])
    tat_entries.add("SHA256", stored.sha256)
    tat_entries.tick()
    assert admin.post(f"{BASE}/tat/retro/{'on' if retro else 'off'}").status_code == 200
    assert admin.post(f"{BASE}/tat/fetch").status_code == 202
    # TestClient returns once the background task (fetch, then the round) has run.
    assert admin.get(f"{BASE}/tat").json()["entries_fetched"] == ENTRIES + 1
    with database.session() as session:
        queued = [
            (identity, str(signal))
            for identity, signal in session.execute(
                select(ScanJobMatch.identity, ScanJobMatch.signal_type)
            )
        ]
        summary = retro_summary(session)
    if retro:
        assert queued == [(STORED.identity, "sha256")]
        assert summary.last_matches == 1 and summary.last_error is None
        assert summary.last_by is not None and "tat" in summary.last_by
    else:
        assert queued == [] and summary.last_at is None


@pytest.mark.parametrize(
    "name", ["ncmec/esp", "partners / eu 50%", "a/enable/b", "deep/x/feedback/on"]
)
@pytest.mark.parametrize("slash", ["/", ""], ids=["slash-as-is", "slash-encoded"])
def test_a_name_with_slashes_spaces_or_percent_reaches_every_route(
    admin: TestClient,
    database: Database,
    settings: Settings,
    tat: FakeService,
    name: str,
    slash: str,
) -> None:
    """Each route takes the whole name, written with "/" or with "%2F"; spaces and "%" are
    percent-encoded as in any URL, and an action word inside the name is part of it."""
    with database.transaction(write=True) as session:
        create_list(session, "shared", actor="admin")
        for stored in (name, name.split("/")[0]):  # a shorter name must not be taken instead
            create_exchange(
                session,
                stored,
                kind="tat",
                base_url=tat.url(""),
                credentials=CREDENTIALS,
                list_names=["shared"],
                master_key=load_master_key(settings),
                actor="admin",
            )
    path = f"{BASE}/{quote(name, safe=slash)}"
    assert admin.get(path).json()["name"] == name
    assert admin.post(f"{path}/disable").json() == admin.get(path).json()
    assert admin.get(path).json()["enabled"] is False
    assert admin.post(f"{path}/enable").json()["enabled"] is True
    assert admin.post(f"{path}/feedback/off").json()["feedback_enabled"] is False
    assert admin.post(f"{path}/feedback/on").json()["feedback_enabled"] is True
    assert admin.post(f"{path}/retro/on").json()["retro_after_fetch"] is True
    assert admin.post(f"{path}/retro/off").json()["retro_after_fetch"] is False
    queue = admin.get(f"{path}/feedback")
    assert queue.status_code == 200 and queue.json() == {"exchange": name, "feedback": []}
    started = admin.post(f"{path}/fetch")
    assert started.status_code == 202 and started.json()["exchange"] == name
    assert admin.get(path).json()["state"] == "succeeded"
    with database.session() as session:
        short = get_exchange(session, name.split("/")[0])
        assert (short.enabled, short.feedback_enabled, short.entries_fetched) == (True, True, 0)
        assert short.retro_after_fetch is False
        changed = {
            str(record.details.get("change"))
            for record in session.scalars(select(AuditRecord))
            if record.actor == "user:root"
        }
    assert {"disabled", "enabled", "feedback_disabled", "feedback_enabled"} <= changed


def test_an_unknown_exchange_is_404_naming_it(admin: TestClient) -> None:
    for method, path, named in (
        ("GET", f"{BASE}/nope", "'nope'"),
        ("POST", f"{BASE}/nope/enable", "'nope'"),
        ("POST", f"{BASE}/nope/feedback/off", "'nope'"),
        ("POST", f"{BASE}/nope/retro/on", "'nope'"),
        ("POST", f"{BASE}/no%2Fpe/retro/off", "'no/pe'"),
        ("POST", f"{BASE}/nope/fetch", "'nope'"),
        ("GET", f"{BASE}/nope/feedback", "'nope'"),
        ("GET", f"{BASE}/no/pe", "'no/pe'"),
        ("POST", f"{BASE}/no%2Fpe/disable", "'no/pe'"),
        ("POST", f"{BASE}/nope/feedback/off/enable", "'nope/feedback/off'"),
        ("GET", f"{BASE}/" + "n" * 10_000, "'nnnn"),
    ):
        answer = admin.request(method, path)
        assert answer.status_code == 404 and named in answer.text, (method, path)


@pytest.mark.parametrize(
    "role", [Role.REVIEWER, Role.LIST_CURATOR, Role.AUDITOR, Role.REPORT_SUBMITTER]
)
def test_people_who_are_not_administrators_are_refused(
    role: Role, settings: Settings, database: Database, exchange: str, tat: FakeService
) -> None:
    add_user(database, "someone", [role])
    for client in running(settings):
        client.headers.update(sign_in(client, "someone", ACCOUNT_PASSWORD))
        for method, path in (
            ("GET", BASE),
            ("GET", f"{BASE}/tat"),
            ("POST", f"{BASE}/tat/disable"),
            ("POST", f"{BASE}/tat/fetch"),
            ("GET", f"{BASE}/tat/feedback"),
            ("POST", f"{BASE}/tat/feedback/off"),
            ("POST", f"{BASE}/tat/retro/on"),
        ):
            assert client.request(method, path).status_code == 403, (role, method, path)
    assert tat.requests == []
    with database.session() as session:
        found = get_exchange(session, exchange)
        assert (found.feedback_enabled, found.retro_after_fetch) == (True, False)


def test_api_keys_and_anonymous_callers_are_refused(
    client: TestClient, database: Database, exchange: str
) -> None:
    token = add_key(database, "platform", ["screen", "flag", "records:read", "lists:read"])
    assert client.get(BASE, headers={"Authorization": f"Bearer {token}"}).status_code == 403
    assert client.get(BASE).status_code == 401
    assert client.post(f"{BASE}/tat/fetch").status_code in {401, 403}
    keyed = client.post(f"{BASE}/tat/feedback/off", headers={"Authorization": f"Bearer {token}"})
    assert keyed.status_code == 403
    assert client.post(f"{BASE}/tat/feedback/off").status_code in {401, 403}
    keyed = client.post(f"{BASE}/tat/retro/on", headers={"Authorization": f"Bearer {token}"})
    assert keyed.status_code == 403
    assert client.post(f"{BASE}/tat/retro/on").status_code in {401, 403}
    with database.session() as session:
        found = get_exchange(session, exchange)
        assert (found.feedback_enabled, found.retro_after_fetch) == (True, False)


def test_a_fetch_needs_the_evidence_master_key(
    database_url: str, tmp_path: Path, database: Database
) -> None:
    settings = load_settings(
        data_dir=tmp_path / "keyless", database_url=database_url, api={"secure_cookies": False}
    )
    add_user(database, "root", [Role.ADMIN])
    for client in running(settings):
        client.headers.update(sign_in(client, "root"))
        answer = client.post(f"{BASE}/anything/fetch")
        assert answer.status_code == 503 and "master key" in answer.text
        assert client.get(BASE).json() == {"exchanges": []}
