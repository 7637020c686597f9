"""Prompt files: front matter + a Jinja body with `## system` and `## user` parts.

Prompts are files so users can swap a whole set with `--prompts DIR` without touching code.
`pipeline prompts check` renders each one with sample inputs of its stage (`check_prompt_set`).
The body is split into its parts *before* rendering, so text inside an article can never open
a new message, and it is rendered in a sandbox with StrictUndefined so a typo in a variable
name fails loudly instead of sending an empty prompt.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import yaml
from jinja2 import StrictUndefined, TemplateError, meta, nodes
from jinja2.sandbox import SandboxedEnvironment
from pydantic import BaseModel, ValidationError

from pipeline.errors import PromptError
from pipeline.schema import OUTPUT_SCHEMAS

STAGE_PROMPTS = ("extract_claims", "merge_claims", "write_briefing")
_PART = re.compile(r"^## (system|user)\s*$", re.MULTILINE)
# Front matter ends at the first line that is exactly "---", not at a "---" inside a value.
_FRONT = re.compile(r"---[ \t]*\r?\n(.*?)^---[ \t]*$(.*)", re.MULTILINE | re.DOTALL)
_ENV = SandboxedEnvironment(undefined=StrictUndefined, keep_trailing_newline=False)


class PromptMeta(BaseModel):
    name: str
    version: int | str = 1
    schema_name: str
    temperature: float = 0.0
    max_tokens: int = 512
    description: str = ""


class Prompt(BaseModel):
    meta: PromptMeta
    system: str
    user: str
    path: str
    sha256: str

    @property
    def short_hash(self) -> str:
        return self.sha256[:12]

    def render(self, **variables: Any) -> list[dict[str, str]]:
        """Chat messages for these variables; a missing variable is a PromptError."""
        try:
            system = _ENV.from_string(self.system).render(**variables).strip()
            user = _ENV.from_string(self.user).render(**variables).strip()
        except TemplateError as exc:
            raise PromptError(f"prompt {self.path}: {exc}") from None
        return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def parse_prompt(text: str, path: str = "<string>") -> Prompt:
    """Parse a prompt file's text; every problem is a one-line PromptError."""
    if not text.startswith("---"):
        raise PromptError(f"prompt {path}: missing front matter (start the file with ---)")
    match = _FRONT.match(text)
    if match is None:
        raise PromptError(f"prompt {path}: front matter is not closed with ---")
    front, body = match.groups()
    try:
        raw = yaml.safe_load(front) or {}
    except yaml.YAMLError as exc:
        raise PromptError(f"prompt {path}: bad front matter: {exc}".splitlines()[0]) from None
    if not isinstance(raw, dict):
        raise PromptError(f"prompt {path}: front matter must be a mapping")
    if "schema" in raw:
        raw["schema_name"] = raw.pop("schema")
    try:
        meta = PromptMeta.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]).replace("schema_name", "schema")
        raise PromptError(f"prompt {path}: front matter field '{field}': {first['msg']}") from None
    if meta.schema_name not in OUTPUT_SCHEMAS:
        known = ", ".join(OUTPUT_SCHEMAS)
        raise PromptError(f"prompt {path}: unknown schema '{meta.schema_name}' (known: {known})")
    parts = _PART.split(body)
    # parts = [preamble, "system", text, "user", text]
    sections = dict(zip(parts[1::2], parts[2::2], strict=True))
    if "user" not in sections:
        raise PromptError(f"prompt {path}: no '## user' part")
    for name, template in sections.items():
        try:
            _ENV.parse(template)
        except TemplateError as exc:
            raise PromptError(f"prompt {path}: {name} part: {exc}") from None
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return Prompt(
        meta=meta,
        system=sections.get("system", "").strip(),
        user=sections["user"].strip(),
        path=path,
        sha256=digest,
    )


def load_prompt(directory: Path, name: str) -> Prompt:
    path = directory / f"{name}.md"
    try:
        text = path.read_text(encoding="utf-8-sig")  # editors may save a byte-order mark
    except FileNotFoundError:
        raise PromptError(f"prompt set {directory} has no {name}.md") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PromptError(f"cannot read prompt {path}: {exc}") from None
    return parse_prompt(text, str(path))


def load_prompt_set(directory: Path) -> dict[str, Prompt]:
    """The three stage prompts of a set, checked against the stage's expected schema."""
    if not directory.is_dir():
        raise PromptError(f"no such prompt folder: {directory}")
    expected = {
        "extract_claims": "ExtractOutput",
        "merge_claims": "MergeOutput",
        "write_briefing": "BriefOutput",
    }
    prompts = {name: load_prompt(directory, name) for name in STAGE_PROMPTS}
    for name, prompt in prompts.items():
        if prompt.meta.schema_name != expected[name]:
            raise PromptError(
                f"prompt {prompt.path}: schema must be {expected[name]} for this stage, "
                f"not {prompt.meta.schema_name}"
            )
    return prompts


# What each stage passes to its prompt (stages/extract.py, merge.py, brief.py), as sample values.
# `check_prompt_set` renders every prompt with each sample, so an undefined variable or a
# blocked attribute fails `pipeline prompts check` instead of a run after it spent model calls.
# tests/test_prompts.py checks that these names cover what the stages really pass.
_SENTENCES = [
    {"n": 1, "text": "Officials said 1,200 residents were moved to shelters on Tuesday."},
    {"n": 2, "text": "The mayor said: \u201cthe water reached the first floor\u201d."},
]
SAMPLE_INPUTS: dict[str, list[dict[str, Any]]] = {
    "extract_claims": [
        {
            "article_id": 1,
            "outlet": "The Daily Courier",
            "date": "2025-10-14",
            "sentences": _SENTENCES,
            "feedback": ["claim 1: the quote is not a sentence of the article"],
        },
        {"article_id": 2, "outlet": None, "date": None, "sentences": _SENTENCES, "feedback": []},
    ],
    "merge_claims": [
        {
            "groups": [
                {
                    "id": "g1",
                    "claims": [
                        {"id": "1.1", "text": "1,200 residents were moved to shelters."},
                        {"id": "2.3", "text": "About 1,500 people were moved to shelters."},
                    ],
                }
            ]
        }
    ],
    "write_briefing": [
        {
            "groups": [
                {"id": "g1", "label": "2 outlets", "statement": "Residents were evacuated."},
                {"id": "g2", "label": "the mayor", "statement": "The water reached homes."},
            ],
            "articles": [
                {"id": 1, "outlet": "The Daily Courier", "title": "Flood"},
                {"id": 2, "outlet": None, "title": None},
            ],
            "feedback": ["sentence 1 names a number that no cited claim holds"],
        },
        {"groups": [], "articles": [], "feedback": []},
    ],
}


def _unsafe_attributes(template: nodes.Template) -> list[str]:
    """Attributes the sandbox refuses (`"".__class__`), found even in branches not taken."""
    found = [n.attr for n in template.find_all(nodes.Getattr) if n.attr.startswith("_")]
    for item in template.find_all(nodes.Getitem):
        if isinstance(item.arg, nodes.Const) and str(item.arg.value).startswith("_"):
            found.append(str(item.arg.value))
    for filt in template.find_all(nodes.Filter):  # {{ x|attr("__class__") }}
        names = [a.value for a in filt.args if isinstance(a, nodes.Const)]
        if filt.name == "attr" and any(str(n).startswith("_") for n in names):
            found.extend(str(n) for n in names)
    return found


def check_prompt(prompt: Prompt, stage: str) -> None:
    """Raise PromptError unless `prompt` renders for `stage`: every variable it uses is one the
    stage passes, no part reaches an attribute the sandbox blocks, and each sample renders."""
    samples = SAMPLE_INPUTS[stage]
    known = set().union(*(sample.keys() for sample in samples))
    for part, template in (("system", prompt.system), ("user", prompt.user)):
        tree = _ENV.parse(template)
        unknown = sorted(meta.find_undeclared_variables(tree) - known)
        if unknown:
            raise PromptError(
                f"prompt {prompt.path}: {part} part uses undefined variable "
                f"{', '.join(repr(u) for u in unknown)} (this stage passes: "
                f"{', '.join(sorted(known))})"
            )
        unsafe = _unsafe_attributes(tree)
        if unsafe:
            raise PromptError(
                f"prompt {prompt.path}: {part} part reaches {unsafe[0]!r}, which the sandbox blocks"
            )
    for sample in samples:
        try:
            prompt.render(**sample)
        except PromptError as exc:
            raise PromptError(f"{exc} (rendered with sample inputs)") from None
        except Exception as exc:  # noqa: BLE001 - a template can raise anything at render
            raise PromptError(
                f"prompt {prompt.path}: rendering with sample inputs failed: "
                f"{type(exc).__name__}: {' '.join(str(exc).split())}"
            ) from None


def check_prompt_set(prompts: dict[str, Prompt]) -> None:
    """`check_prompt` for each stage's prompt of a set loaded by `load_prompt_set`."""
    for stage, prompt in prompts.items():
        check_prompt(prompt, stage)
