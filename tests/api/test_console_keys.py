"""Issue 14, item 4: an API key with media:view revealed the original bytes behind the
console's media routes. Console media are for people with a session and the reviewer role."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.api.service import add_key, add_user, sign_in
from vigil.store import Database
from vigil.store.models import Role
from vigil.store.models.review import CaseItem

PICTURE = Path("/work/shared/corpus/images/background.jpg")


def _flagged_item(client: TestClient, database: Database) -> tuple[int, bytes]:
    content = PICTURE.read_bytes()
    flagger = {"Authorization": f"Bearer {add_key(database, 'flagger', ['flag'])}"}
    answer = client.post(
        "/v1/flags",
        headers=flagger,
        data={"source": "user_report", "content_id": "c-1", "account_id": "a-1"},
        files={"file": ("p.jpg", content, "image/jpeg")},
    )
    assert answer.status_code == 200, answer.text
    with database.transaction() as session:
        item_id = session.scalars(select(CaseItem.id)).one()
    return item_id, content


def test_a_media_view_key_cannot_reveal_a_review_item(
    client: TestClient, database: Database
) -> None:
    item_id, content = _flagged_item(client, database)
    key = {"Authorization": f"Bearer {add_key(database, 'viewer', ['media:view'])}"}
    for method, path in [
        ("POST", f"/review/items/{item_id}/reveal"),
        ("GET", f"/review/items/{item_id}/preview"),
    ]:
        answer = client.request(method, path, headers={**key, "X-CSRF-Token": "x"})
        assert answer.status_code == 403, path
        assert content not in answer.content
    # The same route still serves a reviewer who signed in.
    add_user(database, "rita", [Role.REVIEWER])
    csrf = sign_in(client, "rita")
    revealed = client.post(f"/review/items/{item_id}/reveal", headers=csrf)
    assert revealed.status_code == 200 and revealed.content == content


def test_a_media_view_key_still_reaches_the_api_media_it_is_documented_for(
    client: TestClient, database: Database
) -> None:
    _flagged_item(client, database)
    key = {"Authorization": f"Bearer {add_key(database, 'viewer', ['media:view'])}"}
    records = client.get(
        "/v1/records",
        headers={"Authorization": f"Bearer {add_key(database, 'reader', ['records:read'])}"},
    )
    record_id = records.json()["records"][0]["record_id"]
    assert client.get(f"/v1/records/{record_id}/media", headers=key).status_code == 200
