"""Model access: one seam (`Backend.complete`), a validating client, a cache, local models."""
