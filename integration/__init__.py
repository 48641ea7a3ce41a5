"""Integration tests: corsgen output in real nginx and Apache containers."""
