# Two commands on a fresh machine with only Python: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# The CPU build of torch 2.13.0; the project's range (pyproject.toml) keeps newer CUDA builds out.
TORCH  ?= torch==2.13.0

.PHONY: install test demo gpu-check release check-release clean sandbox-tools browser-tools

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "$(TORCH)"
	$(BIN)/python -m pip install -q -e ".[dev]"
	@$(MAKE) --no-print-directory sandbox-tools
	touch $(STAMP)

# bubblewrap gives hardened grading (`python -m autograder grade`) its sandbox: no network, no
# view of the repository. Installed with apt when we are root or have passwordless sudo; without
# it, grading falls back to resource limits and says so in every report (never silently).
sandbox-tools:
	@command -v bwrap >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO=none; fi; \
	  if [ "$$SUDO" != none ] && command -v apt-get >/dev/null 2>&1; then \
	    $$SUDO apt-get install -y -q bubblewrap >/dev/null 2>&1 \
	      || { $$SUDO apt-get update -q >/dev/null 2>&1 && $$SUDO apt-get install -y -q bubblewrap >/dev/null 2>&1; } \
	      || echo "note: bubblewrap could not be installed; hardened grading will use resource limits only"; \
	  else \
	    echo "note: bubblewrap (bwrap) is not installed; hardened grading will use resource limits only"; \
	  fi; }

# Headless Chromium for the browser test (tests/test_browser.py, driven by Playwright): Debian's
# chromium package when no Chromium or Chrome is installed and we are root (or have passwordless
# sudo). Where that is impossible the test is skipped and says why.
browser-tools:
	@[ -n "$$CHROME_BIN" ] || command -v chromium >/dev/null 2>&1 || command -v google-chrome >/dev/null 2>&1 \
	  || command -v google-chrome-stable >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO=none; fi; \
	  if [ "$$SUDO" != none ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's chromium for the browser test (apt-get)"; \
	    { $$SUDO apt-get update -q >/dev/null 2>&1 \
	      && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends chromium >/dev/null 2>&1; } \
	      || echo "note: chromium could not be installed; the browser test will be skipped"; \
	  else \
	    echo "note: no Chromium and no root to install it; the browser test will be skipped"; \
	  fi; }

install: $(STAMP)

# The suite's files spread over the cores (pytest-xdist; at most 4 workers, each file on one worker,
# so a module's fixtures are built once). One math thread per process: the workers, the sandbox's
# slots and the notebooks' kernels already fill the cores, and torch's default (a thread per core in
# every process) made them fight: on 2 cores the mutant corpus took twice the CPU time for 9% more wall.
test: $(STAMP) browser-tools
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(BIN)/python -m pytest -n auto --maxprocesses 4 --dist loadfile --durations=20

demo: $(STAMP)
	$(BIN)/python -m autograder demo

# On a machine with a GPU: the CUDA-marked tests, stage 07 trained in mixed precision to BLEU 90,
# stage 08's KV-cache benchmark on CUDA and hardened grading with the GPU in the sandbox, in about
# five minutes, with figures (benchmarks/gpu_check.py). Without CUDA it says so and exits 2.
gpu-check: $(STAMP)
	$(BIN)/python benchmarks/gpu_check.py

release: $(STAMP)
	$(BIN)/python -m autograder release

check-release: $(STAMP)
	$(BIN)/python -m autograder release --check

clean:
	rm -rf build gradebook.db .pytest_cache
