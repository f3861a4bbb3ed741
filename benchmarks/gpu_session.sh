#!/usr/bin/env bash
# The GPU measurements behind benchmarks/results/<gpu>-*: one script, run from the repository root on a
# machine with a CUDA GPU, that needs neither the dataset nor `datasets` there.
#
# Where the dataset is (once):
#   python -m benchmarks.carry pack --out .devdata/imdb.npz && cp ../shared/data/eval/* .devdata/
# On the GPU machine:
#   bash benchmarks/gpu_session.sh OUTDIR
#
# 1. quality: torch sgd at 2^16 and 2^14, adam and sparse_adam on all of IMDB, 5 epochs (the CPU rows of the
#    README's Quality table are too slow for that on 2 cores);
# 2. the runner's CUDA rows (DeviceBatches, torch sgd at 2^14..2^20) and where the time goes;
# 3. hogwild's thread scaling on this machine's cores: shared or private hot rows (Config.hot_rows), per-pair or
#    shared negatives (Config.shared_negatives);
# 4. optional (SEEDS_S=300, ~4 minutes on 16 cores): hogwild over 7 seeds on all of IMDB, 5 epochs, 7 rows at a time
#    (--jobs), the seed-to-seed spread that a quality gap has to exceed.
# Each step has its own time limit, and writes its results as it goes, so one failing step loses nothing else.
set -uo pipefail
OUT=${1:-gpu-results}
PY=${PYTHON:-python3}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 FASTW2V_BENCH_CORPUS=/tmp/fastw2v-imdb
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1 | tee "$OUT/machine.txt"
$PY -c "import torch, numba, numpy, os; print('torch', torch.__version__, '| numba', numba.__version__, '| numpy',
numpy.__version__, '| cpus', os.cpu_count(), '|', torch.cuda.get_device_name(0))" 2>&1 | tee -a "$OUT/machine.txt"
$PY -m benchmarks.carry unpack .devdata/imdb.npz "$FASTW2V_BENCH_CORPUS" || exit 1
EVAL="--analogies .devdata/questions-words.txt --similarity .devdata/wordsim353.tsv"

timeout "${QUALITY_S:-210}" $PY -m benchmarks.quality --corpus "$FASTW2V_BENCH_CORPUS" --slice-tokens 0 --epochs 5 \
  --backends sgd,adam,sparse_adam --batch-sizes "${BATCH_SIZES:-65536,16384}" --workers 8 $EVAL \
  --out "$OUT/quality.json" 2>&1 | grep -v '^USDT' | tee "$OUT/quality.log"

timeout "${RUNNER_S:-200}" $PY -m benchmarks --device cuda --rows cuda --quick --repeat 2 --profile \
  --out "$OUT/runner.json" 2>&1 | grep -v '^USDT' | tee "$OUT/runner.log"

timeout "${SCALING_S:-160}" $PY -m benchmarks.scaling --repeat 1 --hot-rows 0,256 --shared-negatives both 2>&1 | grep -v '^USDT' | tee "$OUT/scaling.log"

if [ "${SEEDS_S:-0}" -gt 0 ]; then
  timeout "$SEEDS_S" $PY -m benchmarks.quality --corpus "$FASTW2V_BENCH_CORPUS" --slice-tokens 0 --epochs 5 --backends "" \
    --jobs 7 --workers 2 $(for s in 1 2 3 4 5 6 7; do printf -- '--variant hogwild:seed=%s ' $s; done) $EVAL \
    --out "$OUT/seeds.json" 2>&1 | grep -v '^USDT' | tee "$OUT/seeds.log"
fi
