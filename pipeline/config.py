"""Run settings from flags and environment, resolved once in the CLI and passed down.

No module reads the environment on its own, so tests can build a `Settings` directly.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from platformdirs import user_cache_dir
from pydantic import BaseModel, ConfigDict, Field, SecretStr

DEFAULT_LOCAL_MODEL = "qwen2.5-coder-1.5b"
PACKAGE_PROMPTS = Path(__file__).resolve().parent.parent / "prompts"

StructuredMode = Literal["auto", "json_schema", "json_object"]
Grouping = Literal["meaning", "words"]


def default_cache_dir() -> Path:
    """Response cache; `PIPELINE_CACHE_DIR` overrides the user cache dir."""
    env = os.environ.get("PIPELINE_CACHE_DIR")
    return Path(env) if env else Path(user_cache_dir("pipeline")) / "responses"


def default_models_dir() -> Path:
    """Local model weights; `PIPELINE_MODELS_DIR` overrides the user cache dir."""
    env = os.environ.get("PIPELINE_MODELS_DIR")
    return Path(env) if env else Path(user_cache_dir("pipeline")) / "models"


def default_grouping() -> Grouping:
    """How claims are paired across outlets: `meaning` (sentence encoder plus shared words, the
    default) or `words` (shared words only: no encoder to pull). `PIPELINE_GROUPING` overrides."""
    return "words" if os.environ.get("PIPELINE_GROUPING") == "words" else "meaning"


class Settings(BaseModel):
    """Everything a run needs to know. `api_key` is a SecretStr so it never prints."""

    model_config = ConfigDict(frozen=True, protected_namespaces=())

    model: str | None = None
    base_url: str | None = None
    api_key: SecretStr | None = None
    model_path: Path | None = None
    prompts_dir: Path = PACKAGE_PROMPTS
    cache_dir: Path = Field(default_factory=default_cache_dir)
    models_dir: Path = Field(default_factory=default_models_dir)
    use_cache: bool = True
    refresh: bool = False
    timeout: float = 600.0
    max_retries: int = 4
    structured: StructuredMode = "auto"
    quiet: bool = False
    grouping: Grouping = Field(default_factory=default_grouping)
    # Sampling overrides for repeated eval runs (`python -m evals --repeat`); defaults = as the
    # prompts say, seed 0.
    seed: int = 0
    temperature: float | None = None

    @property
    def embedded(self) -> bool:
        """True when no endpoint is configured and the local llama.cpp server is used."""
        return self.base_url is None

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Flags win over env (`PIPELINE_MODEL`, `PIPELINE_BASE_URL`, `OPENAI_API_KEY`)."""
        values: dict[str, object] = {
            "model": os.environ.get("PIPELINE_MODEL") or None,
            "base_url": os.environ.get("PIPELINE_BASE_URL") or None,
        }
        key = os.environ.get("OPENAI_API_KEY")
        if key:
            values["api_key"] = SecretStr(key)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.model_validate(values)
