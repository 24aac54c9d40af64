"""PPO training of a learner seat against scripted opponents (``bucket-brigade train``)."""

from bucket_brigade.training.bench import benchmark_training
from bucket_brigade.training.network import PolicyNetwork
from bucket_brigade.training.ppo import TrainConfig, TrainResult, compute_gae, train

__all__ = ["PolicyNetwork", "TrainConfig", "TrainResult", "benchmark_training", "compute_gae",
           "train"]
