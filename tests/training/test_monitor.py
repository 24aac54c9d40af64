"""TensorBoard's hyperparameter table: every run's settings, written once per run."""

from __future__ import annotations

from pathlib import Path

from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
from tensorboard.plugins.hparams import metadata
from torch.utils.tensorboard import SummaryWriter

from bucket_brigade.training import train
from bucket_brigade.training.checkpoint import RunPaths, load_checkpoint
from bucket_brigade.training.monitor import HPARAM_METRICS, TrainingMonitor


def hparams_values(run_dir: Path, tag: str) -> list[bytes]:
    """The plugin content of every ``tag`` summary in the run's event files."""
    return [value.metadata.plugin_data.content
            for path in sorted(run_dir.glob("events.out.tfevents*"))
            for event in EventFileLoader(str(path)).Load()
            for value in event.summary.value if value.tag == tag]


def hparams_records(run_dir: Path) -> list[dict[str, object]]:
    """The settings of every session-start record in the run's event files."""
    infos = [metadata.parse_session_start_info_plugin_data(content)
             for content in hparams_values(run_dir, metadata.SESSION_START_INFO_TAG)]
    return [{name: getattr(v, v.WhichOneof("kind")) for name, v in info.hparams.items()}
            for info in infos]


def experiment_metrics(run_dir: Path) -> list[list[str]]:
    return [[m.name.tag for m in metadata.parse_experiment_plugin_data(content).metric_infos]
            for content in hparams_values(run_dir, metadata.EXPERIMENT_TAG)]


def test_a_run_and_its_resume_carry_the_settings_once(tiny_config, tmp_path) -> None:
    first = train(tiny_config(steps=256, lr=1e-3))
    run_dir = tmp_path / "runs" / "tiny"
    (settings,) = hparams_records(run_dir)
    assert settings["lr"] == 1e-3 and settings["scenario"] == "greedy_neighbor"
    assert settings["opponent_model"] == "none" and settings["seed"] == 3
    assert set(settings) == set(tiny_config().to_dict())
    assert experiment_metrics(run_dir) == [list(HPARAM_METRICS)]
    train(tiny_config(steps=384, lr=1e-3), load_checkpoint(first.last_checkpoint))
    assert len(list(run_dir.glob("events.out.tfevents*"))) == 2
    assert len(hparams_records(run_dir)) == 1


def test_a_resumed_run_without_settings_gets_them(tiny_config, tmp_path) -> None:
    """A run stopped before its settings reached the disk: its resume writes them."""
    paths = RunPaths(tmp_path, "tiny")
    writer = SummaryWriter(str(paths.run_dir))
    writer.add_scalar("episode/reward", 1.0, 128)
    writer.close()
    assert hparams_records(paths.run_dir) == []
    monitor = TrainingMonitor(paths, tiny_config(), start_step=128)
    with monitor.running():
        pass
    assert len(hparams_records(paths.run_dir)) == 1
    with TrainingMonitor(paths, tiny_config(), start_step=256).running():
        pass
    assert len(hparams_records(paths.run_dir)) == 1
