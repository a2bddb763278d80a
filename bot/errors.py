"""One exception root for hipbot, with specific subclasses."""

from __future__ import annotations


class HipbotError(Exception):
    """Root of every error hipbot raises on purpose."""


class FlowError(HipbotError):
    """A problem in a flow file, located by a breadcrumb path.

    ``str(error)`` reads like ``flows/hip.yaml > steps.pain > buttons[2].go: unknown step
    'pain_scor' (did you mean 'pain_score'?)``.
    """

    def __init__(self, file: str, path: str, message: str) -> None:
        self.file = file
        self.path = path
        self.message = message
        where = f"{file} > {path}" if path else file
        super().__init__(f"{where}: {message}")


class FlowErrors(HipbotError):
    """Every problem found in a set of flow files, reported together."""

    def __init__(self, errors: list[FlowError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(error) for error in errors))


class ConfigError(HipbotError):
    """A setting is missing or wrong; the message names it and what is accepted."""


class StorageError(HipbotError):
    """The database could not do what was asked."""
