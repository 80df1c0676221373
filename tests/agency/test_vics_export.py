"""The VICS export checked against the field list in docs/vics.md (parsed here, so the
documentation and the code cannot drift): required fields present, types right, nothing
undocumented; and the category mapping the documentation states."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.agency.package_rows import build_referral, make_vault
from vigil.agency.vics import UnknownReferral, vics_export
from vigil.store import Database

DOCS = Path(__file__).resolve().parents[2] / "docs" / "vics.md"
_SCALARS = {"string": str, "integer": int, "boolean": bool}


@dataclass(frozen=True)
class Field:
    type: str
    required: bool


def documented_fields() -> dict[str, dict[str, Field]]:
    """{object: {field: Field}} from the docs' "Field list" table."""
    section = DOCS.read_text(encoding="utf-8").split("## Field list", 1)[1].split("\n## ")[0]
    objects: dict[str, dict[str, Field]] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 6 or cells[0] in ("Object", "---") or set(cells[0]) <= {"-"}:
            continue
        assert cells[3] in ("required", "optional"), line
        objects.setdefault(cells[0], {})[cells[1]] = Field(cells[2], cells[3] == "required")
    return objects


def problems(
    value: Any, name: str, fields: dict[str, dict[str, Field]], where: str = ""
) -> list[str]:
    found: list[str] = []
    if not isinstance(value, dict):
        return [f"{where or name} is not an object"]
    spec = fields[name]
    found += [f"{where}.{key} is not documented" for key in value if key not in spec]
    for key, field in spec.items():
        if key not in value:
            if field.required:
                found.append(f"{where}.{key} is missing")
            continue
        found += _type_problems(value[key], field.type, fields, f"{where}.{key}")
    return found


def _type_problems(
    value: Any, kind: str, fields: dict[str, dict[str, Field]], where: str
) -> list[str]:
    nullable = kind.endswith(" or null")
    kind = kind.removesuffix(" or null")
    if value is None:
        return [] if nullable else [f"{where} is null"]
    array = re.fullmatch(r"array of (\w+)", kind)
    if array:
        if not isinstance(value, list):
            return [f"{where} is not an array"]
        return [
            problem
            for index, item in enumerate(value)
            for problem in problems(item, array[1], fields, f"{where}[{index}]")
        ]
    expected = _SCALARS[kind]
    if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
        return [f"{where} is not a {kind}"]
    if kind == "string" and value == "" and not fields_allow_empty(where):
        return [f"{where} is empty"]
    return []


def fields_allow_empty(where: str) -> bool:
    # Required strings may be empty (no series, no tags); optional ones are left out instead.
    return where.rsplit(".", 1)[-1] in {"Series", "Tags"}


def test_the_docs_table_describes_every_object() -> None:
    fields = documented_fields()
    assert set(fields) == {"Document", "Case", "Media", "AlternativeHash", "MediaFile"}
    assert fields["Media"]["Category"] == Field("integer or null", True)
    assert fields["Document"]["value"].type == "array of Case"


def test_checker_catches_what_it_should() -> None:
    fields = documented_fields()
    broken = {"@odata.context": "x", "value": [{"CaseID": 1, "Extra": True}]}
    found = problems(broken, "Document", fields)
    assert ".value[0].CaseID is not a string" in found
    assert ".value[0].Extra is not documented" in found
    assert ".value[0].Media is missing" in found


@pytest.mark.parametrize("with_paths", [False, True])
def test_every_export_matches_the_documented_fields(
    database: Database, tmp_path: Path, corpus_images: list[Path], with_paths: bool
) -> None:
    vault = make_vault(tmp_path / "evidence")
    with database.transaction(write=True) as session:
        made = build_referral(session, vault, corpus_images)
        paths = {sha: f"media/{sha}.jpg" for sha in made.sha256s} if with_paths else None
        document = vics_export(session, made.referral_id, media_paths=paths)
    assert problems(document, "Document", documented_fields()) == []
    (case,) = document["value"]
    assert case["CaseNumber"] == str(made.report_id)
    media = case["Media"]
    assert [m["MediaID"] for m in media] == [1, 2, 3]
    assert [m["AlternativeHashes"][0]["HashValue"] for m in media] == [
        sha.upper() for sha in made.sha256s
    ]
    assert all(("RelativeFilePath" in m) is with_paths for m in media)


def test_category_mapping_is_the_documented_one(
    database: Database, tmp_path: Path, corpus_images: list[Path]
) -> None:
    vault = make_vault(tmp_path / "evidence")
    with database.transaction(write=True) as session:
        made = build_referral(session, vault, corpus_images)
        media = vics_export(session, made.referral_id)["value"][0]["Media"]
    labelled, drawn, new = media
    # A1 labelled by an analyst: CSAM, with the list entry's series and victim flag.
    assert (labelled["Category"], labelled["IsPrecategorized"]) == (1, True)
    assert (labelled["Series"], labelled["VictimIdentified"]) == ("Synthetic series", True)
    assert "industry:A1" in labelled["Tags"].split(",")
    # B2, but the reporter said drawn: CGI/animation; viral: distributed.
    assert (drawn["Category"], drawn["IsDistributed"]) == (3, True)
    assert drawn["MediaFiles"][0]["OriginalFileName"] == "drawing.png"
    # Nobody classified it: left for the examiner; another report carries it: distributed.
    assert (new["Category"], new["IsPrecategorized"], new["IsDistributed"]) == (None, False, True)
    assert labelled["IsDistributed"] is False
    table = DOCS.read_text(encoding="utf-8").split("## Category mapping", 1)[1]
    assert "| A1, A2, B1 or B2 | not `animeDrawingVirtualHentai` | 1 |" in table
    assert "| A1, A2, B1 or B2 | `animeDrawingVirtualHentai` | 3 |" in table


def test_case_id_is_stable_and_unknown_referrals_refused(
    database: Database, tmp_path: Path, corpus_images: list[Path]
) -> None:
    vault = make_vault(tmp_path / "evidence")
    with database.transaction(write=True) as session:
        made = build_referral(session, vault, corpus_images)
        first = vics_export(session, made.referral_id)["value"][0]["CaseID"]
        assert vics_export(session, made.referral_id)["value"][0]["CaseID"] == first
        with pytest.raises(UnknownReferral):
            vics_export(session, made.referral_id + 1000)
