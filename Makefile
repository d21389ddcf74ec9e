# The two commands of the README's Quick start: `make demo` and `make test`.
.PHONY: demo test lint bootstrap bench bench-tui fuzz

bootstrap:
	@scripts/bootstrap.sh

demo: bootstrap
	.venv/bin/handshake-viz

test: bootstrap
	.venv/bin/python -m pytest

# Lint, format, types and the layers contract (pyproject.toml has each tool's settings).
lint: bootstrap
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy
	.venv/bin/lint-imports

# Replay against tshark; BENCH_ARGS="--baseline DIR" times another commit's checkout too.
bench: bootstrap
	.venv/bin/python bench/engine_bench.py $(BENCH_ARGS)

# The TUI at 100,000 and 1,000,000 packets, headless and in tmux, beside termshark on the same
# files (installed here if missing: the tests do not need it).
bench-tui: bootstrap
	@command -v termshark >/dev/null || { SUDO=""; [ "$$(id -u)" -eq 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq termshark >/dev/null; }
	.venv/bin/python bench/tui_bench.py

# The fuzzer's long campaign: hundreds of thousands of mutated captures, the command, tshark.
fuzz: bootstrap
	.venv/bin/python -m bench.fuzz_campaign
