"""Seat: one home, shared by both engines."""

from __future__ import annotations

from bucket_brigade.game import reference
from bucket_brigade.game.seat import Seat


def test_external_means_no_pool() -> None:
    assert Seat().external
    assert not Seat(pool=(None,)).external
    assert not Seat(pool=((0.5,) * 10,)).external


def test_the_reference_engine_uses_the_same_class() -> None:
    assert reference.Seat is Seat
