#!/usr/bin/env bash
# The GPU check: the same jobs with device=cpu and device=gpu (results compared), then the engine
# benchmark. Run from the repository root on a machine with a GPU; logs go to ${OUT:-/tmp}.
set -uo pipefail
out=${OUT:-/tmp}
run=$(mktemp -d)
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
py=${PYTHON:-python3}
{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  $py -c "import jax; print('jax', jax.__version__, jax.devices())"
  for dev in cpu gpu; do
    $py -m optlab experiment=rosenbrock device=$dev plots=[] hydra.run.dir=$run/rosen-$dev | tail -4
    $py -m optlab surface=rastrigin optimizer=adam 'grid.learning_rate="logspace(-3,0,16)"' \
      starts=64 steps=2000 device=$dev plots=[] hydra.run.dir=$run/grid-$dev | sed -n 1,2p
  done
  echo "rosenbrock cpu vs gpu: $($py benchmarks/compare_runs.py $run/rosen-cpu $run/rosen-gpu)"
  echo "grid 1024 cpu vs gpu:  $($py benchmarks/compare_runs.py $run/grid-cpu $run/grid-gpu)"
} 2>&1 | tee "$out/device_check.log"
$py benchmarks/engine.py --quick 2>&1 | tee "$out/benchmark.log"
