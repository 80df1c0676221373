"""`vigil exchanges` end to end through the CLI, on SQLite and PostgreSQL, against the fake
Tech Against Terrorism service over loopback: add (and every way its input can be wrong),
fetch with its report, a fetch interrupted by Ctrl-C or killed mid-way and then resumed,
wrong credentials replaced, an unreachable service, list/status, disable/enable, remove.
No credential appears in any output."""

from __future__ import annotations

import base64
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner, Result

from tests.exchanges.fakes.serving import FakeRequest, FakeResponse, FakeService, serving
from tests.exchanges.fakes.tat import CREDENTIALS, PASSWORD, WRONG_CREDENTIALS, FakeTat
from vigil.cli.app import app
from vigil.cli.database_access import EXIT_FATAL, EXIT_OK
from vigil.store import open_database
from vigil.store.audit import AuditRecord
from vigil.store.evidence import MasterKey
from vigil.store.exchanges.feedback_queue import enqueue_feedback
from vigil.store.models import EntryStatus, HashList, ListEntry

ENTRIES = 10
PAGE_PATH = "/api/hash-list/v2/all"
SECRETS = (PASSWORD, WRONG_CREDENTIALS["password"], "secret-typed-as-a-key-0042")


class HangFrom:
    """The fake TAT, whose list pages hang from the ``after``-th on while ``hanging``."""

    def __init__(self, fake: FakeTat, after: int) -> None:
        self.fake, self.after, self.hanging, self.pages = fake, after, False, 0

    def __call__(self, request: FakeRequest) -> FakeResponse:
        if request.path == PAGE_PATH:
            self.pages += 1
            if self.hanging and self.pages > self.after:
                return FakeResponse(hang=True)
        return self.fake(request)


class Vigil:
    """Runs `vigil ...` in-process against one configuration, keeping every output."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.outputs: list[str] = []

    def __call__(self, *args: str | Path) -> Result:
        result = CliRunner().invoke(
            app, [str(arg) for arg in args], env=self.env, catch_exceptions=False
        )
        self.outputs.append(result.output + result.stderr)
        assert "Traceback" not in self.outputs[-1]
        return result

    def shown(self) -> str:
        return "\n".join(self.outputs)


@pytest.fixture
def fake() -> FakeTat:
    service = FakeTat(page_size=3)
    for number in range(ENTRIES):
        service.add("PDQ" if number % 2 else "MD5", secrets.token_hex(32 if number % 2 else 16))
        service.tick()
    return service


@pytest.fixture
def hanging(fake: FakeTat) -> HangFrom:
    return HangFrom(fake, after=2)


@pytest.fixture
def service(hanging: HangFrom) -> Iterator[FakeService]:
    with serving(hanging) as running:
        yield running


@pytest.fixture
def env(tmp_path: Path, database_url: str) -> dict[str, str]:
    return {
        "VIGIL_DATA_DIR": str(tmp_path / "data"),
        "VIGIL_DATABASE_URL": database_url,
        "VIGIL_EVIDENCE__MASTER_KEY": base64.b64encode(MasterKey.generate().material).decode(),
        "VIGIL_DATABASE__BUSY_TIMEOUT": "2",
        "COLUMNS": "200",
    }


@pytest.fixture
def vigil(env: dict[str, str]) -> Iterator[Vigil]:
    runner = Vigil(env)
    assert runner("lists", "create", "tat-list").exit_code == EXIT_OK
    yield runner
    shown = runner.shown()
    assert not [secret for secret in SECRETS if secret in shown]


def _credentials(tmp_path: Path, fields: object, name: str = "tat.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(fields))
    path.chmod(0o600)
    return path


def _add(vigil: Vigil, tmp_path: Path, url: str, fields: object = CREDENTIALS) -> Result:
    file = _credentials(tmp_path, fields)
    return vigil(
        "exchanges",
        "add",
        "tat",
        "tat",
        "--list",
        "tat-list",
        "--credentials-file",
        file,
        "--base-url",
        url,
    )


def _held(database_url: str) -> int:
    database = open_database(database_url)
    try:
        with database.session() as session:
            count = session.scalar(
                select(func.count(ListEntry.id))
                .join(HashList)
                .where(HashList.name == "tat-list", ListEntry.status == EntryStatus.ACTIVE)
            )
            return int(count or 0)
    finally:
        database.dispose()


def test_an_exchange_added_and_fetched_feeds_its_list_and_shows_its_status(
    vigil: Vigil, service: FakeService, tmp_path: Path, database_url: str
) -> None:
    added = _add(vigil, tmp_path, service.url(""))
    assert added.exit_code == EXIT_OK, added.output + added.stderr
    assert "added tat exchange 'tat'" in added.output and "warning" not in added.stderr
    fetched = vigil("exchanges", "fetch", "tat")
    assert fetched.exit_code == EXIT_OK, fetched.stderr
    assert f"{ENTRIES} entries (0 deletions) in 4 pages" in fetched.output
    assert f"list tat-list: {ENTRIES} added" in fetched.output
    assert _held(database_url) == ENTRIES
    listed = vigil("exchanges", "list")
    assert "tat-list" in listed.output and "succeeded" in listed.output
    status = vigil("exchanges", "status", "tat")
    assert status.exit_code == EXIT_OK
    lines = dict(
        (label.strip(), value.strip())
        for label, _, value in (line.partition(":") for line in status.output.splitlines())
    )
    assert lines["State"] == "succeeded" and lines["Entries fetched"] == str(ENTRIES)
    assert lines["Checkpoint"] == "stored" and lines["Last success"] != "never"
    assert lines["Feedback queue"] == "pending 0, sent 0, failed 0"
    assert vigil("exchanges", "fetch", "tat").output.startswith("tat: 0 entries")


def test_a_fetch_interrupted_by_ctrl_c_then_killed_resumes_to_the_whole_list(
    vigil: Vigil,
    service: FakeService,
    hanging: HangFrom,
    tmp_path: Path,
    env: dict[str, str],
    database_url: str,
) -> None:
    assert _add(vigil, tmp_path, service.url("")).exit_code == EXIT_OK
    hanging.hanging = True
    interrupted = _fetch_until_hung(env, hanging, signal.SIGINT)
    assert interrupted.returncode == 130, interrupted.stderr
    assert "interrupted after 2 stored page(s)" in interrupted.stderr
    assert "Traceback" not in interrupted.stderr
    assert _held(database_url) == 6  # two pages of three

    hanging.after, hanging.pages = 1, 0
    killed = _fetch_until_hung(env, hanging, signal.SIGKILL)
    assert killed.returncode == -signal.SIGKILL
    assert _held(database_url) == 9  # the resumed run stored one more page before it died

    hanging.hanging = False
    resumed = vigil("exchanges", "fetch", "tat")
    assert resumed.exit_code == EXIT_OK, resumed.stderr
    assert resumed.output.startswith("tat: 1 entries")
    assert _held(database_url) == ENTRIES
    assert "State:               succeeded" in vigil("exchanges", "status", "tat").output


def _fetch_until_hung(
    env: dict[str, str], hanging: HangFrom, stop: signal.Signals
) -> subprocess.CompletedProcess[str]:
    """`python -m vigil exchanges fetch tat` in a fresh process, stopped by ``stop`` once it
    waits on the page that hangs."""
    process = subprocess.Popen(
        [sys.executable, "-m", "vigil", "exchanges", "fetch", "tat"],
        env=os.environ | env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while hanging.pages <= hanging.after and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)  # the last good page's transaction has committed before the next request
    process.send_signal(stop)
    stdout, stderr = process.communicate(timeout=60)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def test_wrong_credentials_fail_with_their_kind_and_replacing_them_resumes(
    vigil: Vigil, service: FakeService, tmp_path: Path, database_url: str
) -> None:
    assert _add(vigil, tmp_path, service.url(""), WRONG_CREDENTIALS).exit_code == EXIT_OK
    failed = vigil("exchanges", "fetch", "tat")
    assert failed.exit_code == EXIT_FATAL
    assert "failed (credentials)" in failed.stderr and "resumes" in failed.stderr
    status = vigil("exchanges", "status", "tat").output
    assert "failed (credentials)" in status and "Last error:" in status
    good = _credentials(tmp_path, CREDENTIALS, "good.json")
    replaced = vigil("exchanges", "set-credentials", "tat", "--credentials-file", good)
    assert replaced.exit_code == EXIT_OK and "checkpoint is kept" in replaced.output
    assert vigil("exchanges", "fetch", "tat").exit_code == EXIT_OK
    assert _held(database_url) == ENTRIES


def test_an_unreachable_service_fails_as_unreachable(vigil: Vigil, tmp_path: Path) -> None:
    assert _add(vigil, tmp_path, "http://127.0.0.1:1").exit_code == EXIT_OK
    failed = vigil("exchanges", "fetch", "tat")
    assert failed.exit_code == EXIT_FATAL and "failed (unreachable)" in failed.stderr
    assert "failed (unreachable)" in vigil("exchanges", "status").output


@pytest.mark.parametrize(
    ("arguments", "fields", "said"),
    [
        (["nope", "x"], CREDENTIALS, "unknown exchange type 'nope'"),
        (["tat", "x", "--list", "absent"], CREDENTIALS, "vigil lists create"),
        (["tat", "x"], {"username": "u"}, "lack password"),
        (["tat", "x"], {**CREDENTIALS, "secret-typed-as-a-key-0042": "v"}, "1 field(s)"),
        (["tat", "x"], {"username": "u", "password": ""}, "non-empty text"),
        (["tat", "x"], ["username", "password"], "one JSON object"),
        (["tat", "x", "--environment", "industry"], CREDENTIALS, "only NCMEC"),
        (["ncmec", "x", "--environment", "moon"], {"username": "u", "password": "p"}, "moon"),
        (["threatexchange", "x"], {"access_token": "t"}, "privacy_group"),
        (["tat", "x", "--option", "novalue"], CREDENTIALS, "KEY=VALUE"),
        (["tat", "x", "--interval", "5"], CREDENTIALS, "fetch interval"),
        (["tat", "x", "--base-url", "ftp://h"], CREDENTIALS, "http(s)"),
    ],
)
def test_bad_input_to_add_is_one_clear_line_and_stores_nothing(
    vigil: Vigil, tmp_path: Path, arguments: list[str], fields: object, said: str
) -> None:
    file = _credentials(tmp_path, fields)
    if "--list" not in arguments:
        arguments = [*arguments, "--list", "tat-list"]
    result = vigil("exchanges", "add", *arguments, "--credentials-file", file)
    assert result.exit_code == EXIT_FATAL and said in result.stderr, result.stderr
    assert result.stderr.count("error:") == 1
    assert "no exchanges yet" in vigil("exchanges", "list").output


def test_a_credentials_file_that_cannot_be_read_never_shows_its_content(
    vigil: Vigil, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"username": "u", "password": "secret-typed-as-a-key-0042"')
    missing = tmp_path / "missing.json"
    for file, said in ((broken, "is not a JSON object"), (missing, "cannot read")):
        result = vigil(
            "exchanges", "add", "tat", "x", "--list", "tat-list", "--credentials-file", file
        )
        assert result.exit_code == EXIT_FATAL and said in result.stderr
        assert "username, password" in result.stderr


def test_a_credentials_file_others_can_read_is_used_with_a_warning(
    vigil: Vigil, tmp_path: Path, service: FakeService
) -> None:
    file = _credentials(tmp_path, CREDENTIALS)
    file.chmod(0o644)
    result = vigil(
        "exchanges",
        "add",
        "tat",
        "tat",
        "--list",
        "tat-list",
        "--credentials-file",
        file,
        "--base-url",
        service.url(""),
    )
    assert result.exit_code == EXIT_OK and "can be read by other users" in result.stderr


def test_an_ncmec_exchange_gets_its_environments_published_root(
    vigil: Vigil, tmp_path: Path
) -> None:
    file = _credentials(tmp_path, {"username": "u", "password": "p"})
    result = vigil(
        "exchanges",
        "add",
        "ncmec",
        "n",
        "--list",
        "tat-list",
        "--credentials-file",
        file,
        "--environment",
        "test_industry",
    )
    assert result.exit_code == EXIT_OK, result.stderr
    status = vigil("exchanges", "status", "n").output
    assert "https://exttest.cybertip.org/hashsharing" in status and "test_industry" in status


def test_disable_enable_and_remove_waiting_for_pending_feedback(
    vigil: Vigil, service: FakeService, tmp_path: Path, database_url: str
) -> None:
    assert _add(vigil, tmp_path, service.url("")).exit_code == EXIT_OK
    assert vigil("exchanges", "disable", "tat").output.startswith("disabled")
    refused = vigil("exchanges", "fetch", "tat")
    assert refused.exit_code == EXIT_FATAL and "disabled" in refused.stderr
    assert "already disabled" in vigil("exchanges", "disable", "tat").output
    assert vigil("exchanges", "enable", "tat").exit_code == EXIT_OK
    database = open_database(database_url)
    try:
        with database.transaction(write=True) as session:
            enqueue_feedback(
                session,
                "tat",
                external_id="2800",
                signal_type="md5",
                signal="0" * 32,
                verdict="affirmative",
                actor="reviewer",
            )
    finally:
        database.dispose()
    assert "pending 1" in vigil("exchanges", "status", "tat").output
    kept = vigil("exchanges", "remove", "tat")
    assert kept.exit_code == EXIT_FATAL and "waiting to be sent" in kept.stderr
    removed = vigil("exchanges", "remove", "tat", "--force")
    assert removed.exit_code == EXIT_OK and "1 feedback item(s)" in removed.output
    assert "no exchanges yet" in vigil("exchanges", "list").output
    unknown = vigil("exchanges", "status", "tat")
    assert unknown.exit_code == EXIT_FATAL and "no exchange named 'tat'" in unknown.stderr


def _feedback_row(output: str) -> str:
    rows = [line.split() for line in output.splitlines() if line.split()[:1] == ["Feedback:"]]
    return " ".join(rows[0][1:]) if rows else ""


def test_feedback_can_be_switched_off_and_on_per_exchange(
    vigil: Vigil, service: FakeService, tmp_path: Path
) -> None:
    assert _add(vigil, tmp_path, service.url("")).exit_code == EXIT_OK
    # TAT publishes no feedback: the switch is kept, and the status says nothing is sent.
    assert _feedback_row(vigil("exchanges", "status", "tat").output).startswith("none")
    switched = vigil("exchanges", "feedback", "tat", "off")
    assert switched.output.startswith("feedback to 'tat' is now off")
    assert "already off" in vigil("exchanges", "feedback", "tat", "off").output
    assert vigil("exchanges", "feedback", "tat", "on").output.startswith(
        "feedback to 'tat' is now on"
    )
    refused = vigil("exchanges", "feedback", "tat", "maybe")
    assert refused.exit_code != EXIT_OK and "on or off" in refused.stderr
    assert vigil("exchanges", "feedback", "nope", "off").exit_code != EXIT_OK


def _row(output: str, label: str) -> str:
    rows = [
        line.partition(":")[2].strip() for line in output.splitlines() if line.startswith(label)
    ]
    return rows[0] if rows else ""


def test_retro_after_fetch_is_off_by_default_switched_audited_and_shown(
    vigil: Vigil, service: FakeService, tmp_path: Path, database_url: str
) -> None:
    assert _add(vigil, tmp_path, service.url("")).exit_code == EXIT_OK
    assert _row(vigil("exchanges", "status", "tat").output, "Retro after fetch") == "off"
    switched = vigil("exchanges", "retro", "tat", "on")
    assert switched.output.startswith("retroactive matching after fetching 'tat' is now on")
    assert "already on" in vigil("exchanges", "retro", "tat", "on").output
    assert _row(vigil("exchanges", "status", "tat").output, "Retro after fetch").startswith("on")
    assert "now off" in vigil("exchanges", "retro", "tat", "off").output
    refused = vigil("exchanges", "retro", "tat", "yes")
    assert refused.exit_code != EXIT_OK and "on or off" in refused.stderr
    assert vigil("exchanges", "retro", "nope", "on").exit_code == EXIT_FATAL
    database = open_database(database_url)
    try:
        with database.session() as session:
            changes = [
                record.details.get("change")
                for record in session.scalars(select(AuditRecord).order_by(AuditRecord.seq))
            ]
    finally:
        database.dispose()
    assert [c for c in changes if str(c).startswith("retro")] == [
        "retro_after_fetch_enabled",
        "retro_after_fetch_disabled",
    ]
