"""The documents say what is: the flag reference matches the code, the two top pages stay short,
and no page, help text or docstring narrates the project's history; as DEVELOPERS.md says, only
the apps print; and BUILD.md counts the tests that start a process right."""

import ast
import dataclasses
import pathlib
import re

from lstm_core import flag_reference
from lstm_core.sampling_options import SampleOptions
from lstm_core.training_options import TrainOptions

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_flag_reference_is_generated_from_the_code():
    with open(flag_reference.PAGE, encoding="utf-8") as f:
        assert f.read() == flag_reference.page(), (
            "docs/flags.md is stale; run: python -m lstm_core.flag_reference")


def test_every_command_with_flags_is_in_the_reference():
    listed = {" ".join(arguments) for _, arguments in flag_reference.COMMANDS}
    for path in sorted((ROOT / "lstm_core").rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        if "flags.DEFINE" in source and "__main__" in source:
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            module = module.removesuffix(".__main__")
            assert f"-m {module}" in listed, f"{path} defines flags but is not in docs/flags.md"


def test_top_pages_are_short():
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) <= 150
    assert len((ROOT / "BUILD.md").read_text(encoding="utf-8").splitlines()) <= 200


# Words that narrate how the project came to be rather than what it is: commit ids (a word of 7 to
# 40 hex digits with both a digit and a letter), earlier runs or versions, numbered rounds of work,
# "prior", "used to be", "original". The corpus file original_metheny.mid keeps its name.
HISTORY = re.compile(r"\b(commit [0-9a-f]{7}|(?=[0-9a-f]*[a-f])(?=[0-9a-f]*[0-9])[0-9a-f]{7,40}|"
                     r"earlier (runs?|versions?|commits?)|this stop|"
                     r"(first|second|third|fourth|this|next|last|previous) round|prior|used to be|"
                     r"original(?!_metheny))\b", re.IGNORECASE)


def test_history_pattern_catches_narration_and_spares_plain_words():
    for narration in ("(commit 1c16ebe)", "before 51913c0:", "earlier runs gave 1.33x",
                      "Third round (this stop)", "the prior generators", "the original model"):
        assert HISTORY.search(narration), narration
    for plain in ("original_metheny.mid", "round by round", "rounded to twelfths",
                  "a round trip", "background", "2026-11-21", "1234567 tokens", "deadbeef"):
        assert not HISTORY.search(plain), plain


def test_no_history_narration():
    pages = [ROOT / "README.md", ROOT / "BUILD.md", *sorted((ROOT / "docs").glob("*.md"))]
    code = [ROOT / "train.py", ROOT / "sample.py", *sorted((ROOT / "lstm_core").rglob("*.py")),
            *sorted((ROOT / "benchmarks").glob("*.py"))]
    for path in pages + code:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            found = HISTORY.search(line)
            assert not found, f"{path.relative_to(ROOT)}:{number} narrates history: {line.strip()}"


def test_the_flag_reference_lists_only_the_projects_own_flags():
    sources = "".join(path.read_text(encoding="utf-8") for path in
                      [ROOT / "train.py", ROOT / "sample.py", *(ROOT / "lstm_core").rglob("*.py")])
    defined = set(re.findall(r"flags\.DEFINE_\w+\(\s*\"(\w+)\"", sources))
    defined |= set(re.findall(r"\(\"(\w+)\", \"\w+\"\)", sources))  # aliases: (alias, name)
    for options in (TrainOptions, SampleOptions):  # the apps' flags: fields and their aliases
        for field in dataclasses.fields(options):
            defined |= {field.name, *field.metadata["aliases"]}
    listed = set(re.findall(r"^\| `--(\w+)` \|", pathlib.Path(flag_reference.PAGE).read_text(
        encoding="utf-8"), flags=re.M))
    assert {"training_file", "output_dir", "verbose"} <= listed
    assert sorted(listed - defined) == []
    assert not {"hbm_oom_exit", "delta_threshold", "tt_check_filter"} & listed  # TensorFlow's
    assert flag_reference.defined_in_project(str(ROOT / "lstm_core" / "export.py"))
    assert flag_reference.defined_in_project("train.py")
    assert flag_reference.defined_in_project("lstm_core.cli")
    for foreign in ("absl.app", "tensorflow.python.tpu.client.client", "/usr/lib/python3/x.py"):
        assert not flag_reference.defined_in_project(foreign), foreign


PRINTERS = ("lstm_core/apps/", "lstm_core/progress.py", "lstm_core/cli.py")
"""Where printing is the job: the apps, the terminal's progress bar and reporter, and the apps'
shared runner (its one-line errors)."""


def library_prints(path: pathlib.Path) -> list[str]:
    """``file:line`` of each ``print(...)`` and each ``print`` default of an argument in `path`
    outside a ``main`` function and an ``if __name__ == "__main__":`` block (a ``python -m``
    command is an app)."""
    found = []

    def visit(node, in_app: bool) -> None:
        for child in ast.iter_child_nodes(node):
            app = in_app or (isinstance(child, ast.FunctionDef) and child.name == "main") or (
                isinstance(child, ast.If) and "__main__" in ast.unparse(child.test))
            defaults = (child.args.defaults + child.args.kw_defaults
                        if isinstance(child, ast.FunctionDef) else [])
            calls = isinstance(child, ast.Call) and isinstance(child.func, ast.Name) and \
                child.func.id == "print"
            if not app and (calls or any(isinstance(d, ast.Name) and d.id == "print"
                                         for d in defaults)):
                found.append(f"{path}:{child.lineno}")
            visit(child, app)

    visit(ast.parse(path.read_text(encoding="utf-8")), False)
    return found


def test_library_modules_report_through_callables_and_never_print(tmp_path):
    found = [line for path in sorted(ROOT.glob("lstm_core/**/*.py"))
             if not str(path.relative_to(ROOT)).startswith(PRINTERS)
             for line in library_prints(path)]
    assert not found, f"the library prints (take a `report` callable instead): {found}"
    printing = tmp_path / "printing.py"
    printing.write_text("def load(report=print):\n    print('x')\n\n\ndef main(argv):\n"
                        "    print('y')\n\n\nif __name__ == '__main__':\n    print('z')\n")
    assert library_prints(printing) == [f"{printing}:1", f"{printing}:2"]


def test_no_class_in_the_library_is_over_200_lines():
    long = []
    for path in sorted((ROOT / "lstm_core").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and node.end_lineno - node.lineno + 1 > 200:
                long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} "
                            f"({node.end_lineno - node.lineno + 1} lines)")
    assert not long, "split these classes along their concerns: " + ", ".join(long)


def process_starting_tests() -> list[str]:
    """The test functions of tests/ that start a Python process (they name `sys.executable`),
    directly or through a helper of their file."""
    def starts(node) -> bool:
        return any(isinstance(n, ast.Attribute) and n.attr == "executable"
                   and isinstance(n.value, ast.Name) and n.value.id == "sys"
                   for n in ast.walk(node))

    found = []
    for path in sorted((ROOT / "tests").glob("test_*.py")):
        body = ast.parse(path.read_text(encoding="utf-8")).body
        helpers = {node.name for node in body if isinstance(node, (ast.FunctionDef, ast.ClassDef))
                   and not node.name.startswith("test_") and starts(node)}
        for node in body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                called = {n.func.id if isinstance(n.func, ast.Name) else n.func.attr
                          for n in ast.walk(node) if isinstance(n, ast.Call)
                          and isinstance(n.func, (ast.Name, ast.Attribute))}
                if starts(node) or called & helpers:
                    found.append(f"{path.name}::{node.name}")
    return found


def test_the_tests_that_start_a_process_are_as_few_as_build_md_says():
    # Tests run in process (DEVELOPERS.md): a process only where it is what is tested.
    started = process_starting_tests()
    said = int(re.search(r"(\d+) test functions\.", (ROOT / "BUILD.md").read_text()).group(1))
    assert len(started) == said <= 20, "\n".join(started)
    assert "test_cli.py::test_ctrl_c_saves_a_checkpoint_and_the_same_command_resumes" in started
