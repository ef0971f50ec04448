"""Sequence rules: seed 000 delay conversion, deterministic weighted variants, step conditions."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest

from coldflow.errors import InvalidInput
from coldflow.sequencing import (
    DEFAULT_CONDITION,
    STEP_CONDITIONS,
    VariantChoice,
    choose_variant,
    delays_from_seed000,
    delays_to_seed000,
    seeded_index,
    should_send_step,
)

case = pytest.param
LEAD_IDS = [f"lead_{i:05d}" for i in range(10_000)]


def variants(*weights: int, disabled: str = "") -> list[VariantChoice]:
    labels = "ABCDE"
    return [
        VariantChoice(f"var_{label.lower()}", label, weight, label not in disabled)
        for label, weight in zip(labels, weights, strict=False)
    ]


def assert_invalid(error: pytest.ExceptionInfo[InvalidInput], code: str, field: str) -> None:
    assert (error.value.code, error.value.details[0]["field"]) == (code, field)


@pytest.mark.parametrize(
    ("seed000", "coldflow"),
    [
        case([0, 3], [3, None], id="seed-000-example"),
        case([0, 3, 5], [3, 5, None], id="three-steps"),
        case([7, 2], [2, None], id="step-1-delay-ignored"),
        case([0, 0, 1], [0, 1, None], id="same-day-follow-up"),
        case([0], [None], id="single-step"),
        case([], [], id="no-steps"),
    ],
)
def test_delay_conversion(seed000: list[int], coldflow: list[int | None]) -> None:
    assert delays_from_seed000(seed000) == coldflow
    # Back to seed 000, step 1's delay normalised to 0.
    assert delays_to_seed000(coldflow) == ([0, *seed000[1:]] if seed000 else [])


def test_to_seed000_ignores_a_leftover_delay_on_the_last_step() -> None:
    assert delays_to_seed000([3, 4]) == [0, 3]


@pytest.mark.parametrize(
    ("call", "code", "field"),
    [
        case(lambda: delays_from_seed000([0, -1]), "INVALID_DELAY", "sequences[1].delay_days",
             id="negative"),
        case(lambda: delays_from_seed000([0, 3, True]), "INVALID_DELAY",
             "sequences[2].delay_days", id="bool"),
        case(lambda: delays_to_seed000([3, None, None]), "INVALID_DELAY", "steps[1].delay_days",
             id="null-before-last"),
        case(lambda: delays_to_seed000([-2, None]), "INVALID_DELAY", "steps[0].delay_days",
             id="negative-stored"),
    ],
)  # fmt: skip
def test_delay_conversion_rejects(call: Callable[[], object], code: str, field: str) -> None:
    with pytest.raises(InvalidInput) as error:
        call()
    assert_invalid(error, code, field)


@pytest.mark.parametrize(
    ("seed", "n", "expected"),
    [
        case("abc", 10, 5, id="pinned-abc"),
        case("spintax:lead_001:1:0", 3, 0, id="pinned-spintax-seed"),
        case("anything", 1, 0, id="single-option"),
    ],
)
def test_seeded_index_is_stable(seed: str, n: int, expected: int) -> None:
    assert seeded_index(seed, n) == expected


def test_seeded_index_is_spread_evenly() -> None:
    counts = Counter(seeded_index(lead_id, 4) for lead_id in LEAD_IDS)
    assert all(abs(counts[i] / len(LEAD_IDS) - 0.25) < 0.03 for i in range(4))


def test_seeded_index_rejects_no_options() -> None:
    with pytest.raises(ValueError, match="0 options"):
        seeded_index("abc", 0)


@pytest.mark.parametrize(
    ("choices", "expected_shares"),
    [
        case(variants(50, 30, 20), {"A": 0.5, "B": 0.3, "C": 0.2}, id="50-30-20"),
        case(variants(50, 50), {"A": 0.5, "B": 0.5}, id="even-split"),
        case(variants(90, 10), {"A": 0.9, "B": 0.1}, id="90-10"),
        case(variants(1, 3), {"A": 0.25, "B": 0.75}, id="not-percentages"),
        case(variants(0, 0, 0), {"A": 1 / 3, "B": 1 / 3, "C": 1 / 3}, id="all-zero-equal-split"),
        case(variants(60, 0, 40), {"A": 0.6, "B": 0.0, "C": 0.4}, id="zero-weight-never-chosen"),
        case(variants(50, 30, 20, disabled="B"), {"A": 50 / 70, "B": 0.0, "C": 20 / 70},
             id="disabled-ignored"),
    ],
)  # fmt: skip
def test_choose_variant_distribution(
    choices: list[VariantChoice], expected_shares: dict[str, float]
) -> None:
    counts = Counter(choose_variant(choices, lead_id=i, step=1).label for i in LEAD_IDS)
    for label, share in expected_shares.items():
        assert abs(counts[label] / len(LEAD_IDS) - share) <= 0.03, (label, counts)
        if share == 0:
            assert counts[label] == 0


@pytest.mark.parametrize(
    ("lead_id", "expected_by_step"),
    [
        case("lead_001", "CCA", id="lead_001"),
        case("lead_002", "BAA", id="lead_002"),
        case("lead_003", "ACA", id="lead_003"),
        case("lead_005", "CCB", id="lead_005"),
    ],
)
def test_choose_variant_is_stable(lead_id: str, expected_by_step: str) -> None:
    choices = variants(50, 30, 20)
    picked = "".join(choose_variant(choices, lead_id=lead_id, step=s).label for s in (1, 2, 3))
    assert picked == expected_by_step


def test_choose_variant_ignores_input_order() -> None:
    choices = variants(50, 30, 20)
    for lead_id in LEAD_IDS[:200]:
        forward = choose_variant(choices, lead_id=lead_id, step=2)
        assert choose_variant(choices[::-1], lead_id=lead_id, step=2) == forward


def test_choose_variant_single_enabled_always_wins() -> None:
    choices = variants(50, 50, disabled="A")
    assert {choose_variant(choices, lead_id=i, step=1).label for i in LEAD_IDS[:500]} == {"B"}


@pytest.mark.parametrize(
    ("choices", "code", "field"),
    [
        case(variants(50, 50, disabled="AB"), "NO_ENABLED_VARIANT", "variants", id="all-disabled"),
        case([], "NO_ENABLED_VARIANT", "variants", id="no-variants"),
        case(variants(50, -10), "INVALID_WEIGHT", "variants.B.weight", id="negative-weight"),
    ],
)
def test_choose_variant_rejects(choices: list[VariantChoice], code: str, field: str) -> None:
    with pytest.raises(InvalidInput) as error:
        choose_variant(choices, lead_id="lead_001", step=1)
    assert_invalid(error, code, field)


@pytest.mark.parametrize(
    ("condition", "replied", "opened", "expected"),
    [
        case("always", False, False, True, id="always-untouched"),
        case("always", True, True, True, id="always-replied"),
        case("not_replied", False, False, True, id="not-replied-untouched"),
        case("not_replied", False, True, True, id="not-replied-opened"),
        case("not_replied", True, False, False, id="not-replied-replied"),
        case("not_opened", False, False, True, id="not-opened-untouched"),
        case("not_opened", False, True, False, id="not-opened-opened"),
        case("not_opened", True, False, False, id="not-opened-reply-counts-as-open"),
        case("opened_not_replied", False, True, True, id="opened-not-replied-opened"),
        case("opened_not_replied", False, False, False, id="opened-not-replied-untouched"),
        case("opened_not_replied", True, True, False, id="opened-not-replied-replied"),
    ],
)
def test_should_send_step(condition: str, replied: bool, opened: bool, expected: bool) -> None:
    assert should_send_step(condition, replied=replied, opened=opened) is expected


def test_conditions_match_product_spec() -> None:
    assert STEP_CONDITIONS == ("always", "not_replied", "not_opened", "opened_not_replied")
    assert DEFAULT_CONDITION == "not_replied"


def test_unknown_condition_rejected() -> None:
    with pytest.raises(InvalidInput) as error:
        should_send_step("opened_twice", replied=False, opened=False)
    assert_invalid(error, "INVALID_CONDITION", "condition")
