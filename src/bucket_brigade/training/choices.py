"""The kinds and default sizes of what a run trains, without torch: the command line
shows and checks them, and the modules that build them (``network``, ``sharing``,
``critic``) read them from here."""

from __future__ import annotations

# The policy network's shape (training.network builds it); the limits also hold for a
# network read from a file.
DEFAULT_HIDDEN_SIZE = 32
MAX_HIDDEN_SIZE = 8192
MAX_SEATS = 1000  # learning seats, and so the seat-index inputs of a shared-id network
POLICIES = ("structured", "mlp")  # the network's bodies
DEFAULT_POLICY = "structured"
# Who owns the learning seats' parameters (names after EPyMARL and BenchMARL): one network
# for all (shared), one network that also reads its seat's index (shared-id: EPyMARL's
# obs_agent_id), or a network and an optimizer per seat (independent: BenchMARL's
# share_policy_params=False). training.sharing builds them.
SHARING_MODES = ("shared", "shared-id", "independent")
# The value function: over the learner's own observation (IPPO) or over the global state
# (central: MAPPO's centralised critic, training.critic).
CRITICS = ("local", "central")
