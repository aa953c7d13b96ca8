"""Background jobs: plain functions that take ids and let failures raise."""
