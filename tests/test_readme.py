"""The README runs top to bottom: no two of its commands train one model name on different data
or write one file twice, and git ignores every file its commands write into the project."""

import re
import shlex
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OUTPUT_FLAGS = ("--output_file", "--audio", "--piano_roll", "--png", "--vocabulary_file")


def readme_commands() -> list[list[str]]:
    """Every `python ...` command of README.md, from its code blocks and inline code, split
    into arguments (a ``> FILE`` redirection kept as two)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```[^\n]*\n(.*?)^```", text, flags=re.S | re.M)
    prose = re.sub(r"^```[^\n]*\n.*?^```", "", text, flags=re.S | re.M)
    pieces = []
    for block in blocks:
        pieces += block.replace("\\\n", " ").splitlines()
    pieces += re.findall(r"`([^`]+)`", prose)
    commands = []
    for piece in pieces:
        for command in piece.split("&&"):
            if command.strip().startswith(("python ", "tail ")):
                commands.append(shlex.split(command.replace("\n", " "), comments=True))
    return commands


def flag(words: list[str], name: str, default=None):
    return words[words.index(name) + 1] if name in words else default


def written_files(words: list[str]) -> list[str]:
    return [flag(words, name) for name in OUTPUT_FLAGS + (">",) if name in words]


def test_the_readme_names_every_model_and_output_once():
    commands = readme_commands()
    trained: dict[str, str | None] = {}
    for words in (w for w in commands if w[1] == "train.py"):
        model, data = flag(words, "--model_name", "lyrics"), flag(words, "--training_file")
        assert trained.setdefault(model, data) == data, \
            f"model {model} is trained on {trained[model]} and on {data}"
    samples = [path for words in commands if words[1] == "sample.py"
               for path in written_files(words)]
    assert len(samples) >= 4 and len(samples) == len(set(samples)), samples


def test_git_ignores_what_the_readme_commands_write():
    inside = subprocess.run(["git", "rev-parse", "--is-inside-work-tree"], cwd=ROOT,
                            capture_output=True, text=True)
    if inside.returncode != 0:
        pytest.skip("the project is not a git checkout")
    written = {path for words in readme_commands() for path in written_files(words)}
    assert {"cells.html", "lyrics.vocab"} <= written
    ignored = subprocess.run(["git", "check-ignore", "--no-index", *sorted(written)], cwd=ROOT,
                             capture_output=True, text=True).stdout.split()
    assert sorted(written - set(ignored)) == []
