#!/usr/bin/env bash
# The GPU check of dit-spark (docs/gpu.md): on a machine with one NVIDIA GPU and its driver, no Java and no
# network, one call of at most 8 minutes checks device placement, NCCL at world size 1 (fp32, fp16, bf16
# allreduce), a DiT-XL/2 training step at batch 32 with TF32 on and off (images/s, MFU, GPU memory) and a guided
# sampling step, and prints one table (dev.ditspark.core.bench.GpuCheck).
#
#   tools/gpu-check.sh --build [--out DIR] [--libtorch DIR] [--tar]
#       here (JDK 17 and the Maven repository): packs DIR (default target/gpu-check) with a jlink'd JRE, the
#       jars (with the CPU libtorch as a fallback) and this script; --libtorch copies a CUDA libtorch 2.7.1
#       directory into it (libtorch/lib/libtorch_cuda.so: the unzipped
#       libtorch-cxx11-abi-shared-with-deps-2.7.1+cu128.zip of k8s/Dockerfile, ~4 GB); --tar also writes DIR.tar.gz.
#   DIR/gpu-check.sh [--libtorch DIR] [-- GpuCheck options]
#       there: runs the check. The CUDA libtorch is the first of: --libtorch, $LIBTORCH, DIR/libtorch, the
#       libtorch of an installed PyTorch 2.7.1 (python3 -c 'import torch'). Options after -- go to GpuCheck:
#       --batch 32 --steps 10 --fp32-steps 3 --model DiT-XL/2 --peak-tflops-tf32 X --peak-tflops-fp32 Y.
#
# Exit status: GpuCheck's (0 all passed, 1 a check failed, 2 bad options, 3 no usable GPU), 124 past 8 minutes,
# 2 for a bad call of this script.
set -euo pipefail

LIBTORCH_VERSION=2.7.1
LIMIT_SECONDS=480
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

die() { echo "gpu-check.sh: $*" >&2; exit 2; }

build() {
  local repo out="" libtorch="" tar=0
  repo="$(cd "${here}/.." && pwd)"
  out="${repo}/target/gpu-check"
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --out) out="$2"; shift 2 ;;
      --libtorch) libtorch="$2"; shift 2 ;;
      --tar) tar=1; shift ;;
      *) die "--build: unknown option $1 (--out DIR, --libtorch DIR, --tar)" ;;
    esac
  done
  [[ -f "${repo}/pom.xml" && -d "${repo}/core" ]] || die "--build runs from the repository (tools/gpu-check.sh)"
  command -v jlink >/dev/null || die "--build needs a JDK 17 (jlink) on PATH"
  if [[ -n "${libtorch}" && ! -f "${libtorch}/lib/libtorch_cuda.so" ]]; then
    die "--libtorch ${libtorch}: no lib/libtorch_cuda.so there (a CUDA libtorch ${LIBTORCH_VERSION} directory)"
  fi
  rm -rf "${out}"
  mkdir -p "${out}/jars"
  echo "gpu-check.sh: building the core jar and collecting its runtime libraries" >&2
  (cd "${repo}" && mvn -B -ntp -o -q -pl core -DskipTests package \
     dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="${out}/jars")
  cp "$(ls "${repo}"/core/target/dit-core-*.jar | grep -v -e sources -e tests | head -n 1)" "${out}/jars/"
  echo "gpu-check.sh: linking a Java runtime (jlink)" >&2
  jlink --add-modules java.base,java.desktop,java.instrument,java.logging,java.management,java.naming,java.net.http,java.scripting,java.security.jgss,java.sql,java.xml,jdk.crypto.ec,jdk.management,jdk.unsupported,jdk.zipfs \
    --strip-debug --no-man-pages --no-header-files --compress=2 --output "${out}/jre"
  cp "${BASH_SOURCE[0]}" "${out}/gpu-check.sh"
  chmod 0755 "${out}/gpu-check.sh"
  if [[ -n "${libtorch}" ]]; then
    echo "gpu-check.sh: copying the CUDA libtorch from ${libtorch}" >&2
    mkdir -p "${out}/libtorch"
    cp -a "${libtorch}/lib" "${out}/libtorch/"
    [[ -f "${libtorch}/build-version" ]] && cp "${libtorch}/build-version" "${out}/libtorch/"
  fi
  git -C "${repo}" rev-parse HEAD > "${out}/COMMIT" 2>/dev/null || true
  if [[ "${tar}" == 1 ]]; then
    tar -C "$(dirname "${out}")" -czf "${out}.tar.gz" "$(basename "${out}")"
    echo "gpu-check.sh: wrote ${out}.tar.gz ($(du -h "${out}.tar.gz" | cut -f1))" >&2
  fi
  echo "gpu-check.sh: bundle ready at ${out} ($(du -sh "${out}" | cut -f1)); on the GPU machine: ${out##*/}/gpu-check.sh" >&2
}

# The directory holding lib/libtorch_cuda.so, from the options, the environment, the bundle or Python.
find_libtorch() {
  local given="$1" candidate
  for candidate in "${given}" "${LIBTORCH:-}" "${here}/libtorch"; do
    if [[ -n "${candidate}" && -f "${candidate}/lib/libtorch_cuda.so" ]]; then
      echo "${candidate}"
      return
    fi
  done
  if command -v python3 >/dev/null; then
    candidate="$(python3 -c 'import os, torch; print(torch.__version__, os.path.dirname(torch.__file__))' 2>/dev/null || true)"
    if [[ "${candidate}" == "${LIBTORCH_VERSION}+cu"* && -f "${candidate#* }/lib/libtorch_cuda.so" ]]; then
      echo "${candidate#* }"
      return
    fi
  fi
}

# JavaCPP's CUDA bindings (NCCL, cudart) load libcudart.so.12 and libnccl.so.2 by those names; libtorch and pip
# wheels ship them under hashed names: link them under the plain names in a directory put on LD_LIBRARY_PATH.
link_cuda_libraries() {
  local into="$1" libtorch="$2" dir name pattern found
  mkdir -p "${into}"
  local dirs=("${libtorch}/lib" /usr/local/cuda/lib64 /usr/lib/x86_64-linux-gnu)
  if command -v python3 >/dev/null; then
    while IFS= read -r dir; do dirs+=("${dir}"); done < <(python3 -c 'import glob, site
for s in site.getsitepackages(): print("\n".join(glob.glob(s + "/nvidia/*/lib")))' 2>/dev/null || true)
  fi
  for name in libcudart.so.12 libnccl.so.2; do
    pattern="${name%%.so*}"
    found=""
    for dir in "${dirs[@]}"; do
      [[ -d "${dir}" ]] || continue
      found="$(ls "${dir}/${name}" "${dir}/${pattern}"-*.so."${name##*.so.}"* 2>/dev/null | head -n 1 || true)"
      [[ -n "${found}" ]] && break
    done
    if [[ -n "${found}" ]]; then
      ln -sf "${found}" "${into}/${name}"
      echo "gpu-check.sh: ${name} is ${found}" >&2
    else
      echo "gpu-check.sh: ${name} not found (the NCCL row will say so)" >&2
    fi
  done
}

check() {
  local libtorch_given="" args=()
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --libtorch) libtorch_given="$2"; shift 2 ;;
      --) shift; args=("$@"); break ;;
      -h|--help) sed -n '2,22p' "${BASH_SOURCE[0]}"; exit 0 ;;
      *) die "unknown option $1 (--build, --libtorch DIR, -- GpuCheck options)" ;;
    esac
  done
  if [[ -n "${libtorch_given}" && ! -f "${libtorch_given}/lib/libtorch_cuda.so" ]]; then
    die "--libtorch ${libtorch_given}: no lib/libtorch_cuda.so there (a CUDA libtorch ${LIBTORCH_VERSION} directory)"
  fi
  local java="${here}/jre/bin/java"
  if [[ ! -x "${java}" || ! -d "${here}/jars" ]]; then
    die "no bundle next to this script (${here}/jre, ${here}/jars): build one with tools/gpu-check.sh --build, then run" \
      "the gpu-check.sh inside it"
  fi
  local libtorch
  work="$(mktemp -d)" # global: the EXIT trap removes it
  sampler=""
  trap 'if [[ -n "${sampler}" ]]; then kill "${sampler}" 2>/dev/null || true; fi; rm -rf "${work}"' EXIT
  libtorch="$(find_libtorch "${libtorch_given}")"
  local env=(DJL_CACHE_DIR="${work}/djl" OPT_OUT_TRACKING=true
    GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=4294967296)
  if [[ -n "${libtorch}" ]]; then
    local flavor=cu128
    if [[ -f "${libtorch}/build-version" ]]; then
      flavor="$(sed -n 's/.*+\(cu[0-9]*\).*/\1/p' "${libtorch}/build-version")"
      flavor="${flavor:-cu128}"
    fi
    echo "gpu-check.sh: CUDA libtorch ${LIBTORCH_VERSION} (${flavor}) from ${libtorch}" >&2
    link_cuda_libraries "${work}/cuda" "${libtorch}"
    env+=(PYTORCH_LIBRARY_PATH="${libtorch}/lib" PYTORCH_VERSION="${LIBTORCH_VERSION}" PYTORCH_FLAVOR="${flavor}"
      LD_LIBRARY_PATH="${work}/cuda:${libtorch}/lib${LD_LIBRARY_PATH:+:${LD_LIBRARY_PATH}}")
  else
    echo "gpu-check.sh: no CUDA libtorch ${LIBTORCH_VERSION} found (--libtorch DIR, \$LIBTORCH, ${here}/libtorch or" \
      "PyTorch ${LIBTORCH_VERSION}); using the bundled CPU libtorch" >&2
  fi
  # GPU memory as the driver sees it, sampled while the check runs (the peak is printed after the table).
  if command -v nvidia-smi >/dev/null; then
    nvidia-smi --query-gpu=name,memory.used,memory.total --format=csv,noheader,nounits -lms 200 \
      > "${work}/smi.csv" 2>/dev/null &
    sampler=$!
  else
    echo "gpu-check.sh: nvidia-smi not found (no NVIDIA driver?)" >&2
  fi
  local status=0
  env "${env[@]}" timeout --kill-after=10 "${LIMIT_SECONDS}" "${java}" -Xmx24g -Dai.djl.offline=true \
    -Dslf4j.internal.verbosity=ERROR \
    -Dorg.bytedeco.javacpp.cachedir="${work}/javacpp" -cp "${here}/jars/*" dev.ditspark.core.bench.GpuCheck \
    "${args[@]}" || status=$?
  if [[ -n "${sampler}" ]]; then
    kill "${sampler}" 2>/dev/null || true
    wait "${sampler}" 2>/dev/null || true
    sampler=""
    awk -F', *' '$2 + 0 > peak { peak = $2 + 0; total = $3; name = $1 }
      END { if (peak) printf "peak GPU memory (nvidia-smi, every 200 ms): %d of %d MiB on %s\n", peak, total, name }' \
      "${work}/smi.csv"
  fi
  if [[ "${status}" == 124 || "${status}" == 137 ]]; then
    echo "gpu-check.sh: stopped after ${LIMIT_SECONDS} s" >&2
  fi
  return "${status}"
}

if [[ "${1:-}" == "--build" ]]; then
  shift
  build "$@"
else
  check "$@"
fi
