"""Fixtures for the eval tests; the graphs themselves live in evals_fixtures.py."""

from __future__ import annotations

import pytest
from evals_fixtures import lavrov_bad_graph, lavrov_good_graph

from pipeline.schema import ClaimGraph


@pytest.fixture
def lavrov_good() -> ClaimGraph:
    return lavrov_good_graph()


@pytest.fixture
def lavrov_bad() -> ClaimGraph:
    return lavrov_bad_graph()
