"""Hypothesis strategies for hostile input: scenario files, genome files, option values."""

from __future__ import annotations

from hypothesis import strategies as st

from bucket_brigade.game.scenarios import SCENARIO_FIELDS, SCENARIOS

# Names that must never become a path or reach a terminal as they are.
HOSTILE_TEXT = st.sampled_from(["..", ".", "../../x", "/tmp/x", "a/b", "a\\b", "", " ",
                                "\x1b]0;t\x07", "\x00", "-rf", "x" * 300, "é", "evolved:..",
                                "pool:", "pool:,", ",", "nan", "inf", "1e999"])
TEXT = st.one_of(HOSTILE_TEXT, st.text(max_size=20))
NUMBERS = st.one_of(st.integers(-3, 40), st.integers(), st.floats(allow_nan=True),
                    st.floats(0, 1), st.booleans())
SCALARS = st.one_of(NUMBERS, TEXT)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=8)
KEYS = st.one_of(st.sampled_from([*SCENARIO_FIELDS, "base"]), st.text(max_size=8))
BASES = st.one_of(st.sampled_from(list(SCENARIOS)), TEXT,
                  st.sampled_from(["self.toml", "other.json", "missing.toml"]))


@st.composite
def odd_tables(draw: st.DrawFn) -> dict[str, object]:
    """A table of fields: mostly scenario fields with odd values, sometimes a base."""
    data = draw(st.dictionaries(KEYS, VALUES, max_size=6))
    if draw(st.booleans()):
        data["base"] = draw(BASES)
    return data


# Overrides of a named scenario that are often valid, so that games get played too.
NEAR_VALID = st.fixed_dictionaries({"base": st.sampled_from(list(SCENARIOS))}, optional={
    "name": st.one_of(st.from_regex(r"[a-z_]{1,12}", fullmatch=True), HOSTILE_TEXT),
    "num_houses": st.one_of(st.integers(2, 30), st.sampled_from([1000, 1001, 10**9])),
    "min_nights": st.integers(1, 30),
    "max_nights": st.one_of(st.integers(1, 60), st.sampled_from([100_000, 100_001, 2**63 - 1])),
    "prob_fire_spreads_to_neighbor": st.floats(-0.5, 1.5),
    "initial_fire_fraction": st.floats(0, 1),
    "cost_to_work_one_night": st.one_of(st.floats(0, 5), st.floats()),
    "reward_rest": st.floats(),
})
scenario_files = st.one_of(odd_tables(), NEAR_VALID).map(dict)


GENOMES = st.one_of(
    st.fixed_dictionaries({"params": st.one_of(
        st.lists(NUMBERS, min_size=0, max_size=12), st.lists(st.floats(0, 1), min_size=10,
                                                            max_size=10), VALUES)}),
    VALUES)
