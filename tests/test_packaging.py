"""The declared dependency floors and constraints/lowest.txt (what CI installs to test them)
must agree, or CI would test other versions than the ones pyproject.toml promises to work."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _floors(requirements: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for req in requirements:
        m = re.match(r"\s*([A-Za-z0-9_.\-]+)(\[[^\]]*\])?\s*>=\s*([0-9][^,;\s]*)", req)
        if m:
            out[m.group(1).lower().replace("_", "-")] = m.group(3)
    return out


def _pins(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            out[name.strip().lower().replace("_", "-")] = version.strip()
    return out


def _same_release(floor: str, pin: str) -> bool:
    """`>=8.3` is met exactly by `==8.3.0`: compare release numbers padded with zeros."""
    a = [int(x) for x in floor.split(".")]
    b = [int(x) for x in pin.split(".")]
    width = max(len(a), len(b))
    return a + [0] * (width - len(a)) == b + [0] * (width - len(b))


def test_every_runtime_floor_is_pinned_to_itself_in_lowest_constraints() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    floors = _floors(project["dependencies"])
    pins = _pins(ROOT / "constraints" / "lowest.txt")
    assert floors, "no floors found in pyproject.toml"
    missing = sorted(set(floors) - set(pins))
    assert not missing, f"not in constraints/lowest.txt: {missing}"
    wrong = {n: (floors[n], pins[n]) for n in floors if not _same_release(floors[n], pins[n])}
    assert not wrong, f"floor vs pinned lowest version differ: {wrong}"
