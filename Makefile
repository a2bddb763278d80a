# Two commands do all set-up:  `make run` (the bot, or the terminal chat without a token)
# and `make test` (every check CI runs). Both create .venv and install pinned packages first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run chat test lint bench mutation clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

run: $(VENV)/.installed
	@if [ -n "$$TELEGRAM_BOT_TOKEN" ] || grep -qs '^TELEGRAM_BOT_TOKEN=.' .env; then \
		$(BIN)/hipbot run; \
	else \
		echo "No TELEGRAM_BOT_TOKEN: starting the same conversation in this terminal (hipbot chat)."; \
		echo "For Telegram, get a token from @BotFather and put TELEGRAM_BOT_TOKEN=... in .env."; \
		$(BIN)/hipbot chat; \
	fi

chat: $(VENV)/.installed
	$(BIN)/hipbot chat

test: $(VENV)/.installed
	$(BIN)/hipbot validate flows/
	$(BIN)/hipbot lint flows/
	$(BIN)/hipbot test flows/
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy bot
	$(BIN)/python -m pytest -q

bench: $(VENV)/.installed
	$(BIN)/python -m bench engine

# Mutation testing of the engine, the loader and the reminder rules with the fast unit
# tests (the files: [tool.mutmut] in pyproject.toml); not part of `make test` or CI. Results are kept in
# mutants/ and reused (only changed code is tested again); `rm -rf mutants` starts afresh.
MUTATION_JOBS ?= 2
mutation: $(VENV)/.mutmut
	$(BIN)/mutmut run --max-children $(MUTATION_JOBS)
	$(BIN)/python scripts/mutation-score

$(VENV)/.mutmut: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev,mutation]'
	touch $@

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache mutants
