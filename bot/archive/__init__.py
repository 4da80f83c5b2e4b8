"""The public archive: a static site of the solved threads a server publishes (no JavaScript needed)."""
