# Set-up and the two README jobs. `make demo` trains the main example, `make test` runs the tests.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test test-all lint bench clean

$(STAMP): pyproject.toml constraints.txt
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt torch==2.13.0
	$(BIN)/pip install -q -c constraints.txt -e ".[plot,data,interop,states,art,chem,scale,track,test,dev,anneal,serve,fast]"
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/qgm train examples/bas3x3_qcbm.yaml --out runs/bas3x3_qcbm --overwrite

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m pytest -p no:cacheprovider

test-all: $(STAMP)
	$(BIN)/python -m pytest -p no:cacheprovider -m ""

bench: $(STAMP)
	$(BIN)/pip install -q -c constraints.txt -e ".[bench]"
	$(BIN)/python benchmarks/run.py --write BENCHMARKS.md

clean:
	rm -rf $(VENV) runs
