#!/usr/bin/env bash
# Regenerate the README pictures in docs/images/ from `experiment=rosenbrock`:
#   rosenbrock_contour.png, rosenbrock_loss.png, rosenbrock_animation.gif and one frame of it.
# Usage (from anywhere): docs/make_images.sh        PYTHON=/path/to/python docs/make_images.sh
set -euo pipefail
cd "$(dirname "$0")/.."
py="${PYTHON:-python}"
run="$(mktemp -d)"
trap 'rm -rf "$run"' EXIT
PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" "$py" -m optlab experiment=rosenbrock \
  'plots=[contour,loss,animation]' plot_options.quiver=true hydra.run.dir="$run"
cp "$run/contour.png" docs/images/rosenbrock_contour.png
cp "$run/loss.png" docs/images/rosenbrock_loss.png
cp "$run/animation.gif" docs/images/rosenbrock_animation.gif
"$py" - "$run/animation.gif" docs/images/rosenbrock_animation_frame.png <<'PY'
import sys
from PIL import Image

with Image.open(sys.argv[1]) as gif:
    gif.seek(gif.n_frames // 3)  # a third of the way: the runs in motion, arrows showing
    gif.convert("RGB").save(sys.argv[2])
PY
ls -l docs/images/
