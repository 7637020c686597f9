#!/usr/bin/env bash
# Installs llama-cpp-python[server] into a virtualenv as a PORTABLE build: a fixed x86-64
# instruction set (AVX2 + FMA + F16C + BMI2), no -march=native and no runtime CPU-variant
# dispatch, so the same prompt gives the same tokens on every x86-64 CPU that has AVX2.
#
# pip's wheel cache does not key on CMAKE_ARGS, so a wheel built natively earlier would be
# reused silently. This script never uses pip's cache for llama-cpp-python: it builds the wheel
# once into a folder named after the version and a hash of the flags, and installs that file.
#
# Usage: scripts/install-llama-cpp.sh [VENV]           (default VENV: .venv)
#        LLAMA_BUILD=native scripts/install-llama-cpp.sh  (a native build, for comparison only)
set -euo pipefail

venv="${1:-.venv}"
version="0.3.36"
portable_flags="-DGGML_NATIVE=OFF -DGGML_BACKEND_DL=OFF -DGGML_CPU_ALL_VARIANTS=OFF \
-DGGML_SSE42=ON -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_BMI2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
-DGGML_AVX_VNNI=OFF -DGGML_AVX512=OFF -DGGML_AVX512_VBMI=OFF -DGGML_AVX512_VNNI=OFF \
-DGGML_AVX512_BF16=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF \
-DGGML_LLAMAFILE=OFF -DGGML_BLAS=OFF -DGGML_CCACHE=OFF"
native_flags="-DGGML_NATIVE=ON -DGGML_CCACHE=OFF"

build="${LLAMA_BUILD:-portable}"
case "$build" in
  portable) flags="$portable_flags" ;;
  native) flags="$native_flags" ;;
  *) echo "install-llama-cpp: LLAMA_BUILD must be portable or native, not '$build'" >&2; exit 2 ;;
esac

tag="$(printf '%s %s %s' "$version" "$build" "$flags" | sha256sum | cut -c1-12)"
wheel_root="${PIPELINE_WHEEL_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pipeline/wheels}"
wheel_dir="$wheel_root/llama-cpp-python-$version-$build-$tag"

wheel="$(ls "$wheel_dir"/llama_cpp_python-"$version"-*.whl 2>/dev/null | head -n1 || true)"
if [[ -z "$wheel" ]]; then
  echo "install-llama-cpp: building llama-cpp-python $version ($build; about 8 min on 2 cores)" >&2
  tmp="$(mktemp -d "$wheel_root.tmp.XXXXXX" 2>/dev/null || { mkdir -p "$wheel_root"; mktemp -d "$wheel_root.tmp.XXXXXX"; })"
  CMAKE_ARGS="$flags" FORCE_CMAKE=1 "$venv/bin/pip" wheel -q --no-deps --no-cache-dir \
    --no-binary llama-cpp-python "llama-cpp-python==$version" -w "$tmp"
  mkdir -p "$wheel_dir"
  mv "$tmp"/llama_cpp_python-*.whl "$wheel_dir"/
  rmdir "$tmp"
  wheel="$(ls "$wheel_dir"/llama_cpp_python-"$version"-*.whl | head -n1)"
fi
printf '%s\n' "$build" "$flags" > "$wheel_dir/BUILD"

# --force-reinstall --no-deps replaces any llama-cpp-python already in the venv (a native one);
# the second call brings the server's dependencies from PyPI.
"$venv/bin/pip" install -q --no-cache-dir --force-reinstall --no-deps "$wheel"
"$venv/bin/pip" install -q "$wheel[server]"
echo "install-llama-cpp: installed $(basename "$wheel") ($build build, $wheel_dir)" >&2
