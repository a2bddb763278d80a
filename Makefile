# Two commands do all set-up:  `make run` (the bot, or the terminal chat without a token)
# and `make test` (every check CI runs). Both create .venv and install pinned packages first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run chat test lint bench clean

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

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
