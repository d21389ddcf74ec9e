# The two commands of the README's Quick start: `make demo` and `make test`.
.PHONY: demo test bootstrap bench

bootstrap:
	@scripts/bootstrap.sh

demo: bootstrap
	.venv/bin/handshake-viz

test: bootstrap
	.venv/bin/python -m pytest

bench: bootstrap
	.venv/bin/python bench/engine_bench.py
