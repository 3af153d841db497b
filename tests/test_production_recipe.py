"""The production recipe: gunicorn.conf.py as gunicorn reads it; one set of commands in the docs."""

import re
from pathlib import Path

from gunicorn.app.base import Application

ROOT = Path(__file__).resolve().parent.parent


class _ConfigOnly(Application):
    """A gunicorn application that only loads a config file, the way `gunicorn -c FILE` does."""

    def __init__(self, config_file: Path):
        self._config_file = str(config_file)
        super().__init__()

    def load_config(self) -> None:
        self.load_config_from_file(self._config_file)

    def load(self):  # pragma: no cover - never served
        raise NotImplementedError


def _readme_production_commands() -> set[str]:
    """The commands of the README's production block, without the virtualenv prefix."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Production", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    commands = set()
    for line in block.splitlines():
        command = line.split("#", 1)[0].strip()
        commands.add(re.sub(r"^\.venv/bin/", "", command))
    return commands


def _operations_process_commands() -> list[str]:
    """The command column of the Processes table in docs/operations.md."""
    operations = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    table = operations.split("## Processes", 1)[1].split("\n\n", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("|")][2:]
    return [re.search(r"`([^`]+)`", row.split("|")[2]).group(1) for row in rows]


def test_gunicorn_control_socket_stays_inside_the_deployment():
    cfg = _ConfigOnly(ROOT / "gunicorn.conf.py").cfg
    assert cfg.control_socket_disable or Path(cfg.control_socket).resolve().parent == ROOT


def test_operations_doc_starts_every_process_exactly_as_the_readme_does():
    readme = _readme_production_commands()
    commands = _operations_process_commands()
    assert any(command.startswith("gunicorn ") for command in commands)
    assert [command for command in commands if command not in readme] == []
