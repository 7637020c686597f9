"""Which llama.cpp build and which machine produce the embedded model's answers.

A native llama.cpp build picks its kernels for the CPU it was compiled on, and a 1.5B model at
temperature 0 turns their different rounding into different tokens. The portable build
(`scripts/install-llama-cpp.sh`) fixes the instruction set instead, so one prompt gives one
answer on every x86-64 CPU with AVX2. This module tells the two apart from what the loaded
library reports about itself, not from how it was installed: pip's wheel cache can hand back a
native wheel under the same version.
"""

from __future__ import annotations

import functools
import platform
import re
from pathlib import Path

# The instruction-set features the portable build is compiled with, as llama.cpp names them in
# its system info; every other x86 feature must be off.
PORTABLE_X86 = frozenset({"SSE3", "SSSE3", "AVX", "AVX2", "F16C", "FMA", "BMI2"})
# Features whose presence marks a build tuned beyond the portable set.
_X86_FEATURES = frozenset(
    {
        "SSE3",
        "SSSE3",
        "AVX",
        "AVX_VNNI",
        "AVX2",
        "F16C",
        "FMA",
        "BMI2",
        "AVX512",
        "AVX512_VBMI",
        "AVX512_VNNI",
        "AVX512_BF16",
        "AMX_INT8",
    }
)
# CPU flags (/proc/cpuinfo) worth naming next to results: they decide what a native build uses.
_CPU_FLAGS = (
    "avx",
    "avx2",
    "fma",
    "f16c",
    "bmi2",
    "avx_vnni",
    "avx512f",
    "avx512_vnni",
    "avx512_bf16",
    "avx512_fp16",
    "amx_int8",
)


def parse_features(system_info: str) -> tuple[str, ...]:
    """The x86 features a llama.cpp system-info line reports as on (`AVX2 = 1 | …`)."""
    on = set(re.findall(r"\b([A-Z0-9_]+)\s*=\s*1\b", system_info))
    return tuple(sorted(on & _X86_FEATURES))


def classify(features: tuple[str, ...]) -> str:
    """`portable` when exactly the fixed set is on, else `native` (or `unknown` with none)."""
    if not features:
        return "unknown"
    return "portable" if set(features) == PORTABLE_X86 else "native"


@functools.lru_cache(maxsize=1)
def llama_build() -> str:
    """One line naming the installed llama-cpp-python, its instruction set and its kind.

    Imports llama_cpp (loads the library, a fraction of a second) only when asked, so runs
    answered from the cache and runs against remote endpoints never pay for it.
    """
    try:
        import llama_cpp
    except ImportError:
        return "llama-cpp-python not installed"
    version = getattr(llama_cpp, "__version__", "?")
    try:
        info = llama_cpp.llama_print_system_info().decode("utf-8", "replace")
    except Exception as exc:  # a broken native library: say so rather than fail the run
        return f"llama-cpp-python {version} (system info unavailable: {type(exc).__name__})"
    features = parse_features(info)
    kind = classify(features)
    return f"llama-cpp-python {version} {kind} [{' '.join(features) or 'no x86 features'}]"


@functools.lru_cache(maxsize=1)
def machine() -> str:
    """The CPU model and its relevant instruction-set flags, e.g. for a run report or a note."""
    name, flags = platform.processor() or platform.machine(), set[str]()
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        text = ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "model name" and value.strip():
            name = value.strip()
        elif key == "flags" and not flags:
            flags = set(value.split())
    shown = [f for f in _CPU_FLAGS if f in flags]
    return f"{name} [{' '.join(shown)}]" if shown else name


def embedded_producer() -> str:
    """What produced an embedded-model answer: the build and the machine it ran on."""
    return f"{llama_build()} on {machine()}"
