"""Choosing a routing rule, without a database: order, conditions, and rules the code cannot
read (which must never capture reports)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vigil.store.models import RoutingRule
from vigil.triage.routing import (
    RoutingError,
    RoutingFacts,
    check_conditions,
    choose_rule,
    condition_from_text,
    rule_matches,
)


def rule(
    rule_id: int,
    position: int,
    *,
    country: str | None = None,
    region: str | None = None,
    enabled: bool = True,
    **conditions: Any,
) -> RoutingRule:
    return RoutingRule(
        id=rule_id,
        position=position,
        agency_id=rule_id,
        country=country,
        region=region,
        conditions=conditions,
        description=f"rule {rule_id}",
        enabled=enabled,
    )


CALIFORNIA = RoutingFacts("US", "US-CA", 2, "Example Social")
BRAZIL = RoutingFacts("BR", "BR-SP", 3, "Other Platform")
NOWHERE = RoutingFacts(None, None, 1, "Example Social")


def test_first_matching_rule_by_position_wins_not_by_list_order() -> None:
    state = rule(1, 20, country="US", region="US-CA")
    national = rule(2, 30, country="US")
    liaison = rule(3, 40, countries_other_than=["US"])
    rules = [liaison, national, state]
    assert choose_rule(rules, CALIFORNIA) is state
    assert choose_rule(rules, RoutingFacts("US", "US-NY", 2, None)) is national
    assert choose_rule(rules, BRAZIL) is liaison
    assert choose_rule(rules, NOWHERE) is None  # unlocated is not "abroad"


def test_equal_positions_fall_back_to_the_rule_id() -> None:
    later, earlier = rule(9, 10, country="US"), rule(4, 10, country="US")
    assert choose_rule([later, earlier], CALIFORNIA) is earlier


def test_disabled_rules_are_skipped() -> None:
    off, on = rule(1, 1, country="US", enabled=False), rule(2, 2, country="US")
    assert choose_rule([off, on], CALIFORNIA) is on
    assert choose_rule([off], CALIFORNIA) is None


def test_a_rule_without_conditions_catches_everything_even_unlocated_reports() -> None:
    catch_all = rule(1, 100)
    assert choose_rule([catch_all], NOWHERE) is catch_all
    assert choose_rule([catch_all], BRAZIL) is catch_all


@pytest.mark.parametrize(
    ("conditions", "facts", "expected"),
    [
        ({"max_priority": 1}, RoutingFacts("US", None, 1, None), True),
        ({"max_priority": 1}, RoutingFacts("US", None, 2, None), False),
        ({"max_priority": 2}, RoutingFacts("US", None, None, None), False),
        ({"companies": ["example social"]}, CALIFORNIA, True),  # names match case-insensitively
        ({"companies": ["Example Social"]}, BRAZIL, False),
        ({"countries": ["us", "CA"]}, CALIFORNIA, True),
        ({"countries": ["CA"]}, CALIFORNIA, False),
        ({"regions": ["US-CA", "US-NV"]}, CALIFORNIA, True),
        ({"regions": ["US-NV"]}, CALIFORNIA, False),
        ({"countries_other_than": ["US", "CA"]}, BRAZIL, True),
        ({"countries_other_than": ["US"]}, CALIFORNIA, False),
        ({"located": True}, CALIFORNIA, True),
        ({"located": True}, NOWHERE, False),
        ({"located": False}, NOWHERE, True),
        ({"countries_other_than": ["US"], "max_priority": 2}, BRAZIL, False),  # all must hold
        ({"countries_other_than": ["US"], "max_priority": 3}, BRAZIL, True),
    ],
)
def test_conditions(conditions: dict[str, Any], facts: RoutingFacts, expected: bool) -> None:
    assert rule_matches(rule(1, 1, **conditions), facts) is expected


@pytest.mark.parametrize(
    "conditions",
    [
        {"abroad": True},  # unknown
        {"max_priority": "1"},
        {"max_priority": True},
        {"located": "yes"},
        {"countries": "US"},
        {"countries": []},
        {"countries": [1]},
        {"companies": None},
        {"countries_other_than": []},
    ],
)
def test_rules_the_code_cannot_read_never_match(conditions: dict[str, Any]) -> None:
    assert not rule_matches(rule(1, 1, **conditions), CALIFORNIA)
    assert not rule_matches(rule(1, 1, **conditions), BRAZIL)


def test_conditions_that_are_not_a_mapping_never_match() -> None:
    broken = rule(1, 1)
    broken.conditions = ["countries", "US"]  # type: ignore[assignment]
    assert not rule_matches(broken, CALIFORNIA)


def test_check_conditions_normalises_and_refuses() -> None:
    assert check_conditions(
        {"countries_other_than": [" us "], "max_priority": 1, "companies": [" Example "]}
    ) == {"countries_other_than": ["US"], "max_priority": 1, "companies": ["Example"]}
    for bad in (
        {"abroad": True},
        {"max_priority": 5},
        {"max_priority": 0},
        {"countries": ["USA"]},
        {"countries": []},
        {"located": 1},
        {"regions": "US-CA"},
    ):
        with pytest.raises(RoutingError):
            check_conditions(bad)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("countries_other_than=US", ("countries_other_than", ["US"])),
        ("countries= US, CA ,", ("countries", ["US", "CA"])),
        ("max_priority=1", ("max_priority", 1)),
        ("located=TRUE", ("located", True)),
        ("companies=Example Social,Other", ("companies", ["Example Social", "Other"])),
    ],
)
def test_condition_from_text(text: str, expected: tuple[str, Any]) -> None:
    assert condition_from_text(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "=US", "countries=", "countries", "max_priority=one", "max_priority=-1", "located=maybe"],
)
def test_malformed_condition_text_is_refused(text: str) -> None:
    with pytest.raises(RoutingError):
        condition_from_text(text)


COUNTRY = st.sampled_from(["US", "BR", "GB", "DE", None])
RULES = st.lists(
    st.builds(
        lambda rule_id, position, country, enabled, other, priority: rule(
            rule_id,
            position,
            country=country,
            enabled=enabled,
            **({"countries_other_than": [other]} if other else {}),
            **({"max_priority": priority} if priority else {}),
        ),
        st.integers(1, 10_000),
        st.integers(0, 50),
        COUNTRY,
        st.booleans(),
        st.sampled_from(["US", "BR", None]),
        st.sampled_from([1, 2, 3, None]),
    ),
    max_size=12,
)
FACTS = st.builds(RoutingFacts, COUNTRY, st.none(), st.sampled_from([1, 2, 3, 4, None]), st.none())


@given(RULES, FACTS)
def test_the_chosen_rule_is_the_first_enabled_match(
    rules: list[RoutingRule], facts: RoutingFacts
) -> None:
    chosen = choose_rule(rules, facts)
    matching = [r for r in rules if r.enabled and rule_matches(r, facts)]
    if chosen is None:
        assert matching == []
        return
    assert chosen.enabled and rule_matches(chosen, facts)
    assert all((chosen.position, chosen.id) <= (r.position, r.id) for r in matching)
    assert choose_rule(list(reversed(rules)), facts) in (
        chosen,
        *[r for r in matching if (r.position, r.id) == (chosen.position, chosen.id)],
    )
