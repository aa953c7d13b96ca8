"""Load benchmark of the portal at a realistic size (see bench/README.md)."""
