#!/usr/bin/env bash
# Regenerate every picture of the site (docs/images/) by running the commands the pages show.
# Each `shot` line is one command of a page (tests/test_docs.py checks that every one appears,
# token for token, in a ```bash block of docs/): it runs in a fresh directory and its files are
# copied to docs/images/ under the names given. Runs in a few minutes on 2 CPU cores.
# Usage (from anywhere): docs/make_images.sh        PYTHON=/path/to/python docs/make_images.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
py="${PYTHON:-python}"
images="$root/docs/images"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}" MPLBACKEND=Agg

# shot MODULE "OUT=FILE ..." ARG...: run `python -m MODULE ARG...` in a fresh directory (its run
# directory too), then copy each FILE it wrote to docs/images/OUT.
shot() {
  local module=$1 copies=$2 dir pair
  shift 2
  dir="$(mktemp -d "$work/run.XXXX")"
  echo "+ python -m $module $*" >&2
  (cd "$dir" && "$py" -m "$module" "$@" hydra.run.dir=. >/dev/null)
  for pair in $copies; do
    cp "$dir/${pair#*=}" "$images/${pair%%=*}"
  done
}

# Home page, getting started, and the contour / loss / surface3d / animation gallery.
shot optlab "rosenbrock_contour.png=contour.png rosenbrock_loss.png=loss.png
  rosenbrock_surface3d.png=surface3d.png rosenbrock_animation.gif=animation.gif" \
  experiment=rosenbrock 'plots=[contour,loss,surface3d,animation]' plot_options.quiver=true
"$py" - "$images/rosenbrock_animation.gif" "$images/rosenbrock_animation_frame.png" <<'PY'
import sys
from PIL import Image

with Image.open(sys.argv[1]) as gif:
    gif.seek(gif.n_frames // 3)  # a third of the way: the runs in motion, arrows showing
    gif.convert("RGB").save(sys.argv[2])
PY
shot optlab "himmelblau_contour.png=contour.png himmelblau_loss.png=loss.png" \
  surface=himmelblau starts=6 plot_options.quiver=true
shot optlab "rosenbrock10_slice_contour.png=contour.png rosenbrock10_slice_surface3d.png=surface3d.png" \
  surface=rosenbrock surface.dim=10 starts=4 optimizer=adam \
  'plots=[contour,surface3d]' 'plot_options.axes=[2,5]'
shot optlab "rosenbrock10_pca_contour.png=contour.png" \
  surface=rosenbrock surface.dim=10 starts=4 optimizer=adam plot_options.projection=pca
shot optlab "himmelblau_surface3d.png=surface3d.png" \
  surface=himmelblau starts=6 'plots=[surface3d]'

# The calculus laboratory.
shot optlab "derivatives_slices.png=slices.png derivatives_gradient_field.png=gradient_field.png
  derivatives_directional.png=directional.png" \
  experiment=derivatives surface=himmelblau point=[1.0,2.0]

# The explorer (no window: save=).
shot optlab.explore "explorer.png=explorer.png" \
  surface=himmelblau start=[0.5,-2] direction=120 save=explorer.png

# Machine learning (needs the [ml] extra: scikit-learn).
shot optlab "mlp.png=mlp.png mlp_landscape.png=landscape.png mlp_landscape_pca.png=landscape_pca.png" \
  experiment=mlp mlp.landscape=true
shot optlab "saliency.png=saliency.png" experiment=saliency
shot optlab "penalty.png=penalty.png" experiment=penalty

ls -l "$images"
