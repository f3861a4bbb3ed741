#!/usr/bin/env bash
# The GPU measurements behind benchmarks/results/<gpu>-*: one script, run from the repository root on a
# machine with a CUDA GPU, that needs neither the datasets nor `datasets` there.
#
# Where the datasets are (once):
#   python -m tools.carry pack --out .devdata/imdb.npz && cp ../shared/data/eval/* .devdata/
#   python -m tools.mixed_corpus --out .devdata/mixed &&
#     python -m tools.carry pack --corpus .devdata/mixed/mixed.jsonl --out .devdata/mixed.npz   # optional
# On the GPU machine (carry .devdata/*.npz and the two evaluation files):
#   bash benchmarks/gpu_session.sh OUTDIR
#
# 1. the fused Triton step, in one process (benchmarks.gpu_fused): its arithmetic against the torch
#    step on a real batch, block shapes, words/s beside the torch step for several batch sizes and d = 300,
#    GPU memory (V = 5M, d = 300), where the time goes, and quality at 1 and 5 epochs on IMDB and the second corpus;
# 2. the runner's CUDA rows (DeviceBatches, both steps at 2^14..2^20, each row its own process) and its profiles;
# 3. optional (OLD_S=210): adam and sparse_adam quality on all of IMDB, 5 epochs;
# 4. optional (SCALING_S=160): hogwild's thread scaling on this machine's cores;
# 5. optional (SEEDS_S=300): hogwild over 7 seeds on all of IMDB, 5 epochs, 7 rows at a time
#    (--jobs), the seed-to-seed spread that a quality gap has to exceed;
# 6. optional (CBOW_S=240): CBOW on the GPU (the fused CBOW kernels, B = 2^16 windows) and gensim's CBOW on all of
#    IMDB, 1 epoch: words/s and quality;
# 7. optional (DISK_S=480, DISK_TOKENS=1000000000): a generated Zipf text of DISK_TOKENS tokens written to disk,
#    encoded on the host's cores and trained 1 epoch on the GPU from its memory-mapped ids, chunk by chunk: the
#    summary's encoding tokens/s and training words/s, beside step 1's IMDB rate.
# Each step has its own time limit, and writes its results as it goes, so one failing step loses nothing else.
set -uo pipefail
OUT=${1:-gpu-results}
PY=${PYTHON:-python3}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 FASTW2V_BENCH_CORPUS=/tmp/fastw2v-imdb
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1 | tee "$OUT/machine.txt"
$PY -c "import torch, numba, numpy, os; print('torch', torch.__version__, '| numba', numba.__version__, '| numpy',
numpy.__version__, '| cpus', os.cpu_count(), '|', torch.cuda.get_device_name(0))" 2>&1 | tee -a "$OUT/machine.txt"
$PY -m tools.carry unpack .devdata/imdb.npz "$FASTW2V_BENCH_CORPUS" || exit 1
EVAL="--analogies .devdata/questions-words.txt --similarity .devdata/wordsim353.tsv"

SECOND=""
if [ -f .devdata/mixed.npz ]; then
  $PY -m tools.carry unpack .devdata/mixed.npz /tmp/fastw2v-mixed && SECOND="--second /tmp/fastw2v-mixed"
fi
timeout "${FUSED_S:-420}" $PY -m benchmarks.gpu_fused --corpus "$FASTW2V_BENCH_CORPUS" $SECOND --eval-dir .devdata \
  --out "$OUT" 2>&1 | grep -v '^USDT' | tee "$OUT/gpu_fused.log"

timeout "${RUNNER_S:-250}" $PY -m benchmarks --device cuda --rows cuda --quick --repeat 1 --profile --row-timeout 60 \
  --out "$OUT/runner.json" 2>&1 | grep -v '^USDT' | tee "$OUT/runner.log"

if [ "${OLD_S:-0}" -gt 0 ]; then
  timeout "$OLD_S" $PY -m benchmarks.quality --corpus "$FASTW2V_BENCH_CORPUS" --slice-tokens 0 --epochs 5 \
    --backends adam,sparse_adam --workers 8 $EVAL --out "$OUT/quality.json" 2>&1 | grep -v '^USDT' | tee "$OUT/quality.log"
fi

if [ "${SCALING_S:-0}" -gt 0 ]; then
  timeout "$SCALING_S" $PY -m benchmarks.scaling --repeat 1 --hot-rows 0,256 --shared-negatives both 2>&1 | grep -v '^USDT' | tee "$OUT/scaling.log"
fi

if [ "${SEEDS_S:-0}" -gt 0 ]; then
  timeout "$SEEDS_S" $PY -m benchmarks.quality --corpus "$FASTW2V_BENCH_CORPUS" --slice-tokens 0 --epochs 5 --backends "" \
    --jobs 7 --workers 2 $(for s in 1 2 3 4 5 6 7; do printf -- '--variant hogwild:seed=%s ' $s; done) $EVAL \
    --out "$OUT/seeds.json" 2>&1 | grep -v '^USDT' | tee "$OUT/seeds.log"
fi

if [ "${CBOW_S:-0}" -gt 0 ]; then
  timeout "$CBOW_S" $PY -m benchmarks.quality --corpus "$FASTW2V_BENCH_CORPUS" --slice-tokens 0 --epochs 1 --sg 0 \
    --backends gensim,sgd --batch-sizes 65536 --gensim-mode iterable --workers 16 $EVAL \
    --out "$OUT/cbow.json" 2>&1 | grep -v '^USDT' | tee "$OUT/cbow.log"
fi

if [ "${DISK_S:-0}" -gt 0 ]; then
  timeout "$DISK_S" $PY -c "from benchmarks.benchmarks.common import zipf_lines as z; print(z('/tmp', ${DISK_TOKENS:-1000000000}, 1000))" \
    > "$OUT/disk-corpus.txt" && timeout "$DISK_S" $PY -m fastw2v train --data "$(cat "$OUT/disk-corpus.txt")" \
    --epochs 1 --min-count 5 --cache-dir /tmp/fastw2v-disk-cache --output /tmp/fastw2v-disk.bin 2>&1 | tee "$OUT/disk.log"
fi
