#!/usr/bin/env bash
# Spark's GPU discovery script (spark.executor.resource.gpu.discoveryScript): prints the GPUs this executor
# may use as one JSON object, {"name":"gpu","addresses":["0","1",...]}. Inside a Kubernetes pod the NVIDIA
# device plugin exposes only the GPUs granted to it, numbered from 0. No GPU (or no driver) is an error:
# the executor must not start as a CPU worker in a GPU job.
set -euo pipefail

if ! indices="$(nvidia-smi --query-gpu=index --format=csv,noheader 2>&1)"; then
  echo "gpu-discovery.sh: nvidia-smi failed: ${indices}" >&2
  exit 1
fi

addresses=""
while read -r index; do
  [[ -z "${index}" ]] && continue
  if [[ ! "${index}" =~ ^[0-9]+$ ]]; then
    echo "gpu-discovery.sh: unexpected nvidia-smi output: ${index}" >&2
    exit 1
  fi
  addresses+="${addresses:+,}\"${index}\""
done <<< "${indices}"

if [[ -z "${addresses}" ]]; then
  echo "gpu-discovery.sh: nvidia-smi lists no GPU" >&2
  exit 1
fi
echo "{\"name\":\"gpu\",\"addresses\":[${addresses}]}"
