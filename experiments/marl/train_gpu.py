"""The standalone training script of the project's specification; the same program as
``bucket-brigade train``.

    python experiments/marl/train_gpu.py --steps 10000000 --scenario trivial_cooperation \
        --run-name baseline_v1
"""

import sys

from bucket_brigade.cli import main

if __name__ == "__main__":
    sys.exit(main(["train", *sys.argv[1:]]))
