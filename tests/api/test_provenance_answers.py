"""The five provenance fields of an entry (exchange, exchange_kind, member, tags, source) are
declared once, in vigil.api.answers.provenance, and the two answers that show them, a match
record's hit and a screening match, still send their keys in the order they always have."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from vigil.api.answers import provenance
from vigil.api.answers.records import RecordHit
from vigil.api.answers.screening import ListMatch

PROVENANCE = ("exchange", "exchange_kind", "member", "tags", "source")
# The key orders the answers had before the fields were shared: a client comparing answers
# byte for byte (or a signed copy of one) must see no change.
RECORD_HIT_KEYS = [
    "entry_id", "list_id", "list", "list_version", "external_id", "signal_type", "distance",
    "variant", "classification", "share", "suspect",
    "exchange", "exchange_kind", "member", "tags", "source",
]  # fmt: skip
LIST_MATCH_KEYS = [
    "list", "entry_id", "external_id", "signal_type", "distance", "variant", "classification",
    "segments", "suspect",
    "member", "tags", "exchange", "exchange_kind", "source",
]  # fmt: skip
ANSWERS = [(RecordHit, RECORD_HIT_KEYS), (ListMatch, LIST_MATCH_KEYS)]


def _hit() -> dict[str, Any]:
    return {
        "entry_id": 1, "list_id": 2, "list": "known", "list_version": None, "external_id": "e-1",
        "signal_type": "pdq", "distance": 3, "variant": None, "classification": "A1",
        "share": 0.5, "suspect": False, "exchange": "ncmec", "exchange_kind": "hma",
        "member": "m-1", "tags": ["t"], "source": "exchange:ncmec",
    }  # fmt: skip


def _match() -> dict[str, Any]:
    return {
        "list": "known", "entry_id": 1, "external_id": None, "signal_type": "md5",
        "distance": None, "variant": None, "classification": None, "segments": [],
        "suspect": True, "member": None, "tags": [], "exchange": None, "exchange_kind": None,
        "source": "bank.csv",
    }  # fmt: skip


def _declared_in(model: type[BaseModel], field: str) -> str:
    """The module of the class in ``model``'s hierarchy whose own annotations hold ``field``."""
    owner = next(cls for cls in model.__mro__ if field in vars(cls).get("__annotations__", {}))
    return owner.__module__


@pytest.mark.parametrize(
    ("model", "keys"), ANSWERS, ids=lambda value: getattr(value, "__name__", "")
)
def test_provenance_is_declared_once_in_its_module(model: type[BaseModel], keys: list[str]) -> None:
    assert {field: _declared_in(model, field) for field in PROVENANCE} == dict.fromkeys(
        PROVENANCE, provenance.__name__
    )
    for field in keys:
        if field not in PROVENANCE:
            assert _declared_in(model, field) == model.__module__, field


@pytest.mark.parametrize(
    ("model", "keys"), ANSWERS, ids=lambda value: getattr(value, "__name__", "")
)
def test_the_key_order_is_unchanged(model: type[BaseModel], keys: list[str]) -> None:
    assert list(model.model_fields) == keys
    assert list(model.model_json_schema()["properties"]) == keys
    assert model.model_json_schema()["required"] == keys


def test_the_sent_keys_keep_their_order_whatever_the_route_built() -> None:
    for model, keys, sample in (
        (RecordHit, RECORD_HIT_KEYS, _hit()),
        (ListMatch, LIST_MATCH_KEYS, _match()),
    ):
        built = dict(reversed(list(sample.items())))  # a route may build its dict in any order
        assert list(json.loads(model.model_validate(built).model_dump_json())) == keys


def test_the_schemas_keep_their_descriptions() -> None:
    """The bases' docstrings must not become an answer's description in /openapi.json."""
    assert RecordHit.model_json_schema()["description"] == (
        "One list entry the record matched, as it was when it matched."
    )
    assert "description" not in ListMatch.model_json_schema()


@pytest.mark.parametrize(
    ("model", "sample"), [(RecordHit, _hit()), (ListMatch, _match())], ids=["hit", "match"]
)
def test_an_undeclared_or_missing_key_still_fails(
    model: type[BaseModel], sample: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError, match="extra"):
        model.model_validate({**sample, "member_secret": "x"})
    for field in PROVENANCE:
        without = {key: value for key, value in sample.items() if key != field}
        with pytest.raises(ValidationError, match=field):
            model.model_validate(without)
    with pytest.raises(ValidationError):
        model.model_validate({**sample, "tags": "not-a-list"})
