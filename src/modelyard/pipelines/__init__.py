"""Training and inference pipelines: steps, live step log, runs."""
