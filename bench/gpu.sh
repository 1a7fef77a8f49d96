#!/usr/bin/env bash
# Trainer on GPU vs Hugging Face PyTorch (issue #7 item 2), in one command on the GPU machine.
#
# On the development machine (has Node, npm, apt), from the project root:
#   bench/gpu.sh pack         # ../shared/gpu/pack.sh (node, node_modules, dist, Vulkan loader →
#                             # .gpu/) plus bench/gpu-train.ts bundled to .gpu/gpu-train.mjs
# On the GPU machine (no Node of its own; carry [".gpu"]), from the project root:
#   bench/gpu.sh [gpu-train.ts flags, e.g. --layers 4]
#     runs gpu-train (TF.js webgpu) and hf_baseline.py (fp32, tf32, bf16) on the same shape, one
#     after the other, and writes bench/results/gpu-train.json (ratio = PyTorch fp32 ms / ours ms),
#     also copied to $OUT when that is set.
# The tiny CPU check of the same script: npx tsx bench/gpu-train.ts --tiny --backend cpu --steps 2
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

if [ "${1:-}" = pack ]; then
  shared=${ABLATE_SHARED:-$root/../shared}
  "$shared/gpu/pack.sh"
  # The GPU machine has the production node_modules only (no tsx): ship the benchmark as one ES
  # module with the project's own sources inlined and the packages left to node_modules.
  node_modules/.bin/esbuild bench/gpu-train.ts --bundle --platform=node --format=esm --target=node20 --packages=external --outfile=.gpu/gpu-train.mjs --log-level=warning
  du -sh .gpu/gpu-train.mjs | sed 's/^/  /'
  exit 0
fi

[ -f .gpu/setup.sh ] && [ -f .gpu/gpu-train.mjs ] || { echo "bench/gpu.sh: .gpu/ is not packed; run 'bench/gpu.sh pack' on the development machine and carry .gpu" >&2; exit 2; }
# shellcheck source=/dev/null
source .gpu/setup.sh
layers=24
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do [ "${args[$i]}" = --layers ] && layers=${args[$((i + 1))]}; done

lines=$(mktemp)
node .gpu/gpu-train.mjs "$@" | tee -a "$lines"
python3 .gpu/hf_baseline.py --layers "$layers" | tee -a "$lines"

mkdir -p bench/results
LINES="$lines" GPU="$(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | head -1)" node --input-type=module -e '
  import { readFileSync, writeFileSync } from "node:fs";
  import { cpus } from "node:os";
  const rows = readFileSync(process.env.LINES, "utf8").split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
  const ours = rows.find((r) => String(r.impl).startsWith("ablate-"));
  const fp32 = rows.find((r) => r.impl === "hf-transformers-fp32");
  const result = {
    name: "gpu-train",
    ours: ours?.ms_per_step ?? null,
    peer: fp32?.ms_per_step ?? null,
    ratio: ours && fp32 ? Math.round((fp32.ms_per_step / ours.ms_per_step) * 1000) / 1000 : null,
    unit: "ms per training step",
    machine: `${process.env.GPU}; ${cpus().length} cores, ${cpus()[0]?.model ?? "unknown CPU"}, Node ${process.version}`,
    peerName: "Hugging Face DebertaV2ForMultipleChoice, PyTorch fp32 (TF32 off), same shape and optimizer",
    goal: "match PyTorch fp32 per step (ratio ≥ 1)",
    command: "bench/gpu.sh " + process.argv.slice(1).join(" "),
    repeats: ours?.steps ?? null,
    time: new Date().toISOString(),
    details: { runs: rows },
  };
  writeFileSync("bench/results/gpu-train.json", JSON.stringify(result, null, 2) + "\n");
  console.log(`gpu-train: ours ${result.ours} ms/step, PyTorch fp32 ${result.peer} ms/step, ratio ${result.ratio}`);
' -- "$@"
rm -f "$lines"
if [ -n "${OUT:-}" ]; then cp bench/results/gpu-train.json "$OUT/"; fi
