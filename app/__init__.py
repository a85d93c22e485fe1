"""Entry points: the CLI, the worker, the dev stack, settings and logging."""
