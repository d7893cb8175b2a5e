"""The flag reference, ``docs/flags.md``, generated from the commands' own flag definitions.

    python -m lstm_core.flag_reference            # rewrites docs/flags.md
    python -m lstm_core.flag_reference --check    # exit status 1 when docs/flags.md is stale

Each command is asked for its flags with absl's ``--helpxml`` in a process of its own (the apps
and tools each define flags of the same names), and every flag defined in the project's own
files, with its default and help, becomes a row of that command's table: absl's flags and those
TensorFlow defines on import are left out. The page cannot drift from the code:
`tests/test_docs.py` fails when it differs from what this module writes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ElementTree

from lstm_core.files import atomic_write

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGE = os.path.join(ROOT, "docs", "flags.md")

# (how a user runs it, the arguments after `python`): every command of the project with flags.
COMMANDS = (
    ("python train.py", ["train.py"]),
    ("python sample.py", ["sample.py"]),
    ("python -m lstm_core.export", ["-m", "lstm_core.export"]),
    ("python -m lstm_core.inspection", ["-m", "lstm_core.inspection"]),
    ("python -m lstm_core.preprocessing", ["-m", "lstm_core.preprocessing"]),
    ("python -m lstm_core.datasets", ["-m", "lstm_core.datasets"]),
    ("python -m lstm_core.music.prepare", ["-m", "lstm_core.music.prepare"]),
    ("python -m lstm_core.music.roundtrip", ["-m", "lstm_core.music.roundtrip"]),
    ("python -m lstm_core.music.describe", ["-m", "lstm_core.music.describe"]),
    ("python -m lstm_core.music.jazz.measure", ["-m", "lstm_core.music.jazz.measure"]),
)

HEADER = """# Flags

Every flag of every command, with its default and what it does. This page is generated from
the code by `python -m lstm_core.flag_reference`, and `tests/test_docs.py` fails when it is out
of date. Each command also prints its own with `--help`.
"""


def defined_in_project(file: str) -> bool:
    """Whether absl's ``<file>`` of a flag is a file of this project: a path (the command's own
    script) or a module name (``lstm_core.cli``; ``absl.app`` or ``tensorflow.python...`` for
    flags that imported libraries define)."""
    if not file.endswith(".py"):
        file = os.path.join(*file.split(".")) + ".py"
    path = os.path.abspath(os.path.join(ROOT, file))
    return os.path.commonpath([path, ROOT]) == ROOT and os.path.isfile(path)


def command_flags(arguments: list[str]) -> list[dict]:
    """The flags a command defines in the project's files (not absl's or TensorFlow's), as dicts
    of name, default, meaning, type and, for enums, the allowed values; in the order absl lists
    them."""
    result = subprocess.run([sys.executable, *arguments, "--helpxml"], cwd=ROOT,
                            capture_output=True, text=True, env={**os.environ, "PYTHONPATH": ROOT})
    # absl exits with status 1 after printing --helpxml, so success is the XML itself.
    if "</AllFlags>" not in result.stdout:
        raise RuntimeError(f"python {' '.join(arguments)} --helpxml failed:\n{result.stderr}")
    found = []
    for flag in ElementTree.fromstring(result.stdout).iter("flag"):
        if not defined_in_project(flag.findtext("file", "")):
            continue
        found.append({"name": flag.findtext("name"), "default": flag.findtext("default", ""),
                      "meaning": flag.findtext("meaning", ""), "type": flag.findtext("type"),
                      "values": [v.text for v in flag.iter("enum_value")]})
    return found


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def table(flags: list[dict]) -> str:
    rows = ["| flag | default | what |", "| --- | --- | --- |"]
    for flag in flags:
        default = f"`{flag['default']}`" if flag["default"] not in ("", None) else "none"
        meaning = flag["meaning"]
        if flag["values"]:
            meaning += f" One of: {', '.join(flag['values'])}."
        rows.append(f"| `--{flag['name']}` | {_cell(default)} | {_cell(meaning)} |")
    return "\n".join(rows)


def page() -> str:
    sections = [HEADER]
    for shown, arguments in COMMANDS:
        sections.append(f"## `{shown}`\n\n{table(command_flags(arguments))}\n")
    return "\n".join(sections)


def main() -> int:
    text = page()
    if "--check" in sys.argv[1:]:
        with open(PAGE, encoding="utf-8") as f:
            stale = f.read() != text
        if stale:
            print(f"{PAGE} is out of date; run: python -m lstm_core.flag_reference",
                  file=sys.stderr)
        return int(stale)
    atomic_write(PAGE, text.encode("utf-8"))
    print(f"wrote {PAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
