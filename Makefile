# Two commands for a newcomer: `make run` and `make test`. Both bootstrap .venv from uv.lock.
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: run test lint format sample bench bench-scale clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.synced: uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --python "$$(command -v $(PYTHON))"
	touch $@

run: $(VENV)/.synced
	$(VENV)/bin/yecai nightly --config config/example/company.toml
	$(VENV)/bin/yecai reconcile config/example/dropfolder --out out/example

test: $(VENV)/.synced
	$(VENV)/bin/pytest

lint: $(VENV)/.synced
	$(VENV)/bin/ruff check .

format: $(VENV)/.synced
	$(VENV)/bin/ruff format .

sample: $(VENV)/.synced
	$(VENV)/bin/python -m benchmarks.sample_company

clean:
	rm -rf $(VENV) $(TOOLS) yecai.db yecai.db-wal yecai.db-shm

bench: $(VENV)/.synced
	$(VENV)/bin/python -m benchmarks.bench_matching --chains 2000
	$(VENV)/bin/python -m benchmarks.bench_ingest --rows 1000000

bench-scale: $(VENV)/.synced   # 1,000,000 transactions against ~1,250,000 open items, then a 50,000 delta
	$(VENV)/bin/python -m benchmarks.bench_scale
