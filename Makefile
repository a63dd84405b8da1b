# The two commands a newcomer runs: `make run` and `make test`. Both create .venv first.
VENV    ?= .venv
PYTHON  ?= python3
BIN      = $(VENV)/bin
STAMP    = $(VENV)/.installed-stamp

.PHONY: run test bench lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/pipyd conf/pipyd.yaml

test: $(STAMP)
	sh scripts/ensure-test-deps.sh chromium:chromium curl:curl openssl:openssl h2load:nghttp2-client
	$(BIN)/python -m pytest tests

bench: $(STAMP)
	@sh scripts/ensure-test-deps.sh chromium:chromium wrk:wrk nginx:nginx-light redis-server:redis-server
	$(BIN)/python -m tests.bench

lint: $(STAMP)
	$(BIN)/python -m compileall -q pipyd filters tests

clean:
	rm -rf $(VENV) build *.egg-info
