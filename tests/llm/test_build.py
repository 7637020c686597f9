"""pipeline.llm.build: telling a portable llama.cpp build from a native one by what the loaded
library reports, and naming the machine."""

from __future__ import annotations

import pytest

from pipeline.llm import build

PORTABLE_INFO = (
    "CPU : SSE3 = 1 | SSSE3 = 1 | AVX = 1 | AVX2 = 1 | F16C = 1 | FMA = 1 | BMI2 = 1 | "
    "OPENMP = 1 | REPACK = 1 | "
)
# What a native build on an AVX-512 machine (this session's AMD EPYC) reports.
NATIVE_INFO = (
    "CPU : SSE3 = 1 | SSSE3 = 1 | AVX = 1 | AVX_VNNI = 1 | AVX2 = 1 | F16C = 1 | FMA = 1 | "
    "BMI2 = 1 | AVX512 = 1 | AVX512_VBMI = 1 | AVX512_VNNI = 1 | AVX512_BF16 = 1 | "
    "OPENMP = 1 | REPACK = 1 | "
)


def test_portable_build_is_recognised() -> None:
    features = build.parse_features(PORTABLE_INFO)
    assert set(features) == build.PORTABLE_X86
    assert build.classify(features) == "portable"


def test_native_build_is_not_portable() -> None:
    features = build.parse_features(NATIVE_INFO)
    assert "AVX512" in features and "AVX_VNNI" in features
    assert build.classify(features) == "native"


def test_features_reported_off_do_not_count() -> None:
    info = PORTABLE_INFO.replace("AVX2 = 1", "AVX2 = 0")
    assert "AVX2" not in build.parse_features(info)
    assert build.classify(build.parse_features(info)) == "native"


def test_nothing_reported_is_unknown() -> None:
    assert build.classify(build.parse_features("CPU : OPENMP = 1 |")) == "unknown"


def test_installed_build_names_its_kind() -> None:
    pytest.importorskip("llama_cpp")
    line = build.llama_build()
    assert line.startswith("llama-cpp-python ")
    assert any(kind in line for kind in ("portable", "native", "unknown"))


def test_machine_names_a_cpu() -> None:
    assert build.machine().strip()
