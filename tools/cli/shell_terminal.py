"""The shell's terminal side on prompt_toolkit (the ``mynacard[shell]`` extra): line editing, a history
that keeps every line masked (``shell_commands.history_text``), and a prompt that does not echo secrets.

Imported only by ``mynacard shell`` on a terminal, so the rest of the command line works without it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from prompt_toolkit import PromptSession
from prompt_toolkit.history import DummyHistory, FileHistory, History, InMemoryHistory

from mynacard.tools.cli.shell_commands import history_text


class MaskedHistory(History):
    """A history (a file or memory) that only ever sees lines with their secrets masked."""

    def __init__(self, inner: History) -> None:
        super().__init__()
        self._inner = inner

    def append_string(self, string: str) -> None:
        super().append_string(history_text(string))

    def load_history_strings(self) -> Iterable[str]:
        return self._inner.load_history_strings()

    def store_string(self, string: str) -> None:
        self._inner.store_string(history_text(string))


class TerminalConsole:
    """Reads command lines with editing and history, and secrets without echo or history."""

    def __init__(self, history_file: Path | None) -> None:
        inner: History = InMemoryHistory() if history_file is None else FileHistory(history_file)
        self._session: PromptSession[str] = PromptSession(history=MaskedHistory(inner))

    def read_command(self, prompt: str) -> str | None:
        """The next line; None at end of input (Ctrl-D); Ctrl-C drops the line being typed."""
        try:
            return self._session.prompt(prompt)
        except KeyboardInterrupt:
            return ""
        except EOFError:
            return None

    def read_secret(self, prompt: str) -> str | None:
        """A value typed without echo, kept in no history; None when cancelled."""
        secret_prompt: PromptSession[str] = PromptSession(history=DummyHistory())
        try:
            return secret_prompt.prompt(prompt, is_password=True)
        except (KeyboardInterrupt, EOFError):
            return None
