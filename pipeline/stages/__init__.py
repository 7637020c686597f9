"""The three stages. Each is a pure function of (input, prompt file, LLM client)."""
