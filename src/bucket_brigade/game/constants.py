"""The codes of the game's discrete values (RULES.md), shared by both engines and every view.

The compiled kernel imports these too: Numba freezes module-level integers into the
compiled code as constants, so importing them costs nothing at run time.
"""

SAFE, BURNING, RUINED = 0, 1, 2  # house states
HOUSE_STATES = 3
REST, WORK = 0, 1  # modes, and signals (a signal claims a mode)
