"""Errors a user can act on. The CLI prints `str(error)` as one line and exits non-zero."""

from __future__ import annotations


class PipelineError(Exception):
    """Base of every error the CLI turns into a one-line message."""


class InputError(PipelineError):
    """The articles given cannot be used (missing folder, no readable article, ...)."""


class PromptError(PipelineError):
    """A prompt file is missing, malformed, or names an unknown schema."""


class EndpointError(PipelineError):
    """The model endpoint could not be reached or kept failing after retries."""


class ModelOutputError(PipelineError):
    """The model kept returning output that does not fit the schema after re-asks."""

    def __init__(self, message: str, *, attempts: int = 0, last_output: str = "") -> None:
        super().__init__(message)
        self.attempts = attempts
        self.last_output = last_output


class ModelFileError(PipelineError):
    """A local model is unknown, cannot be pulled, or fails its sha256 check."""
