"""Evaluation tables: every candidate's paired difference from its column's baseline."""

from __future__ import annotations

import numpy as np
import pytest

from bucket_brigade.analysis.tournament import (
    BEST_SCRIPTED,
    add_paired_differences,
    check_baseline,
    run_tournament,
)
from bucket_brigade.confidence import ci95_half_width
from bucket_brigade.errors import UsageError
from bucket_brigade.evaluation import evaluate


def rows_and_scores(rng: np.random.Generator) -> tuple[list[dict], list[np.ndarray]]:
    """Two columns of three candidates over 400 shared games: a model, a strong and a
    weak strategy; in column "b" the model is the strong strategy plus noise around 0."""
    world = rng.normal(50, 20, 400)  # what the games give everyone: shared, paired away
    columns = {"a": {"model_x": world + 5, "hero": world + 1, "liar": world - 3},
               "b": {"model_x": world + 1 + rng.normal(0, 0.5, 400), "hero": world + 1,
                     "liar": world - 3}}
    rows, scores = [], []
    for scenario, candidates in columns.items():
        for name, score in candidates.items():
            rows.append({"candidate": name, "kind": "model" if name == "model_x" else "strategy",
                         "scenario": scenario, "opponents": "random",
                         "mean_score": float(score.mean())})
            scores.append(score)
    return rows, scores


def test_differences_are_paired_against_the_best_scripted_strategy() -> None:
    rows, scores = rows_and_scores(np.random.default_rng(0))
    add_paired_differences(rows, scores, BEST_SCRIPTED)
    assert {r["baseline"] for r in rows} == {"hero"}  # the model is better, but not scripted
    model_a, hero_a, liar_a = rows[:3]
    assert hero_a["minus_baseline"] is None and hero_a["differs"] is None
    assert model_a["minus_baseline"] == pytest.approx(4.0)
    assert model_a["minus_baseline_ci95"] == pytest.approx(0, abs=1e-9)  # a shift, game by game
    assert liar_a["minus_baseline"] == pytest.approx(-4.0) and liar_a["differs"]
    model_b = rows[3]  # unpaired, the scores' CIs (about 2 points) would hide 4 points too
    difference = scores[3] - scores[4]
    assert model_b["minus_baseline"] == pytest.approx(difference.mean())
    assert model_b["minus_baseline_ci95"] == pytest.approx(ci95_half_width(difference))
    assert not model_b["differs"]
    assert sum(r["p_holm"] is not None for r in rows) == 4


def test_holm_makes_the_star_harder_to_earn_with_more_comparisons() -> None:
    """A difference with raw p about 0.03: a star alone, none among ten comparisons."""
    rng = np.random.default_rng(1)
    noise = rng.normal(0, 1, 400)
    noise = (noise - noise.mean()) / noise.std(ddof=1)
    base = np.zeros(400)
    lone = base + 2.17 / np.sqrt(400) + noise  # z = 2.17: p = 0.03
    rows = [{"candidate": c, "kind": "strategy", "scenario": "s", "opponents": "o",
             "mean_score": m} for c, m in (("hero", 1.0), ("liar", 0.1))]
    add_paired_differences(rows, [base, lone], BEST_SCRIPTED)
    assert rows[1]["differs"] and rows[1]["p_holm"] == pytest.approx(0.03, abs=0.001)
    many = rows[:1] + [dict(rows[1], candidate=f"c{k}") for k in range(10)]
    add_paired_differences(many, [base] + [lone] * 10, BEST_SCRIPTED)
    assert not any(r["differs"] for r in many[1:])
    assert many[1]["p_holm"] == pytest.approx(0.3, abs=0.01)


def test_a_named_baseline_and_a_column_without_it() -> None:
    rows, scores = rows_and_scores(np.random.default_rng(2))
    rows[3:] = [dict(r, candidate="other") if r["candidate"] == "model_x" else r
                for r in rows[3:]]
    add_paired_differences(rows, scores, "model_x")
    assert rows[1]["baseline"] == "model_x" and rows[1]["minus_baseline"] == pytest.approx(-4.0)
    assert all(r["baseline"] is None and r["minus_baseline"] is None for r in rows[3:])


def test_a_baseline_must_be_a_candidate() -> None:
    check_baseline("hero", [], ["hero", "liar"])
    with pytest.raises(UsageError, match=r"--baseline 'herro' is not one of the candidates; "
                                         r"choose from: best, hero, liar"):
        check_baseline("herro", [], ["hero", "liar"])


def test_the_tournament_pairs_on_the_same_games() -> None:
    rows = run_tournament([], ["easy"], ["random"], games=60, seed=3,
                          strategies=["hero", "free_rider"])
    hero = evaluate("hero", "easy", ["random"], 3, 60, 3).scores
    free_rider = evaluate("free_rider", "easy", ["random"], 3, 60, 3).scores
    assert rows[0]["minus_baseline"] is None and rows[1]["baseline"] == "hero"
    assert rows[1]["minus_baseline"] == pytest.approx(float((free_rider - hero).mean()))
