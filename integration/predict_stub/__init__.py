"""The predict stub: a small FastAPI upstream for the integration tests."""
