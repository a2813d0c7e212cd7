"""Click only: one module per command, plus the shared options and parameter types."""
