"""Issue 2's benchmark in one run: photo speed and compatibility, robustness, video.

Each part runs in its own interpreter so its single-thread pinning takes effect
before NumPy loads; their outputs are printed one after another.

    python benchmarks/bench_fingerprint.py [--video-minutes 10] [--rounds 5]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run(script: str, *args: str) -> int:
    print(f"\n=== {script} {' '.join(args)}", flush=True)
    return subprocess.run(
        [sys.executable, str(HERE / script), *args], cwd=HERE.parent, check=False
    ).returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--video-minutes", default="10")
    parser.add_argument("--rounds", default="5")
    args = parser.parse_args()
    codes = [
        run("bench_photo.py", "--rounds", args.rounds),
        run("bench_robustness.py"),
        run("bench_video.py", "--minutes", args.video_minutes),
    ]
    return max(codes)


if __name__ == "__main__":
    raise SystemExit(main())
