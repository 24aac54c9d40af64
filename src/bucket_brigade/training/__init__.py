"""PPO training of a learner seat against scripted opponents (``bucket-brigade train``)."""

from bucket_brigade.training.bench import benchmark_training
from bucket_brigade.training.bookkeeping import TrainResult
from bucket_brigade.training.config import TrainConfig
from bucket_brigade.training.network import PolicyNetwork
from bucket_brigade.training.ppo import compute_gae, train

__all__ = ["PolicyNetwork", "TrainConfig", "TrainResult", "benchmark_training", "compute_gae",
           "train"]
