#!/usr/bin/env bash
# The GPU check, one command on a lent GPU (issue 15), from the repository root, wheels in .whl/:
#   1. benchmarks/gpu.py: the engine vs a bare vmap×scan and the memory-bandwidth bound (the figure)
#   2. the same CLI jobs with device=cpu and device=gpu, results compared
#   3. benchmarks/engine.py --quick --only 1,2,7 on the GPU
# Each stage has its own time limit (seconds: GPU_TIMEOUT, COMPARE_TIMEOUT, ENGINE_TIMEOUT); logs go
# to ${OUT:-/tmp}. Smaller sizes for a CPU smoke test: GPU_RUNS, GPU_STEPS, GPU_REPEATS, GPU_COPY_MIB.
set -uo pipefail
out=${OUT:-/tmp}
run=$(mktemp -d)
py=${PYTHON:-python3}
site=${SITE:-/tmp/site}
whl=${WHL:-.whl}
export PYTHONUNBUFFERED=1

# hydra-core, omegaconf and antlr4 are not in the GPU image: carried as wheels (docs: device README)
if compgen -G "$whl/*.whl" >/dev/null; then
  $py -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$site" \
    "$whl"/*.whl || echo "note: installing the wheels in $whl failed"
else
  echo "note: no wheels in $whl (carry .whl): the CLI stages need hydra-core and omegaconf"
fi
export PYTHONPATH="$site:$PWD${PYTHONPATH:+:$PYTHONPATH}"

stage() {  # stage NAME SECONDS LOG COMMAND...: run COMMAND under a time limit, output teed to LOG
  local name=$1 limit=$2 log=$3
  shift 3
  echo "== $name (limit ${limit} s)"
  local t0=$SECONDS
  timeout -k 10 "$limit" "$@" 2>&1 | tee "$out/$log"
  local rc=${PIPESTATUS[0]}
  [ "$rc" = 124 ] && echo "note: $name stopped at its ${limit} s limit"
  echo "== $name: exit $rc after $((SECONDS - t0)) s"
}

compare() {  # the CLI on device=cpu and device=gpu: a 3-run experiment and a 1,024-run grid
  for dev in cpu gpu; do
    $py -m optlab experiment=rosenbrock device=$dev plots=[] hydra.run.dir="$run/rosen-$dev" | tail -4
    $py -m optlab surface=rastrigin optimizer=adam 'grid.learning_rate="logspace(-3,0,16)"' \
      starts=64 steps=2000 device=$dev plots=[] hydra.run.dir="$run/grid-$dev" | sed -n 1,2p
  done
  for job in rosen grid; do
    if [ -f "$run/$job-cpu/trajectory.npz" ] && [ -f "$run/$job-gpu/trajectory.npz" ]; then
      echo "$job cpu vs gpu: $($py benchmarks/compare_runs.py "$run/$job-cpu" "$run/$job-gpu")"
    else
      echo "$job cpu vs gpu: skipped (a run is missing)"
    fi
  done
}
export -f compare
export py run

{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null ||
    echo "note: no nvidia-smi here (no NVIDIA GPU)"
  $py -c "import jax; print('jax', jax.__version__, jax.devices())"
} 2>&1 | tee "$out/device_info.log"

stage "gpu.py" "${GPU_TIMEOUT:-200}" gpu.log $py benchmarks/gpu.py \
  --runs "${GPU_RUNS:-1048576}" --steps "${GPU_STEPS:-2000}" --repeats "${GPU_REPEATS:-3}" \
  ${GPU_COPY_MIB:+--copy-mib "$GPU_COPY_MIB"}
stage "device=cpu vs device=gpu" "${COMPARE_TIMEOUT:-120}" device_check.log bash -c compare
stage "engine.py --quick --only 1,2,7" "${ENGINE_TIMEOUT:-100}" benchmark.log \
  $py benchmarks/engine.py --quick --only 1,2,7
