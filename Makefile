# Two entry points, both from a fresh clone:
#   make demo   install nfvo into .venv and run `nfvo demo` on the embedded default
#   make test   install nfvo with its test extras and run lint + the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: demo test install lint bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

install: $(BIN)/.installed

demo: install
	$(BIN)/nfvo demo

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

test: lint
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python -m pip install -q -e '.[bench]'
	$(BIN)/python benchmarks/catalog_parse.py
	$(BIN)/python benchmarks/vim_register.py
	$(BIN)/python benchmarks/sim_vim.py
	$(BIN)/python benchmarks/placement.py
	$(BIN)/python benchmarks/lcm_instantiate.py
	$(BIN)/python benchmarks/lcm_races.py
	$(BIN)/python benchmarks/list.py --pg
	$(BIN)/python benchmarks/auth.py
	$(BIN)/python benchmarks/whatif.py
	$(BIN)/python benchmarks/monitoring.py
	$(BIN)/python benchmarks/rca.py
	$(BIN)/python benchmarks/quotas.py
	$(BIN)/python benchmarks/gui_render.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
