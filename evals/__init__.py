"""Eval harness: scores pipeline briefings against hand-labelled facts (imports pipeline, never
the other way round)."""
