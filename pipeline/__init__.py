"""pipeline: several news articles about one story in, a neutral, sourced briefing out."""

__version__ = "0.1.0"
