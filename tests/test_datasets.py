"""The public corpora the documents name: fetched only when asked, checked, written atomically;
and no command of the documents names a file whose source they do not say."""

import functools
import http.server
import re
import shlex
import threading
from pathlib import Path

import pytest

from lstm_core import datasets
from lstm_core.errors import UsageError

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# Flags whose value is a file or folder a command reads (not a model, not an output).
INPUT_FLAGS = ("--training_file", "--text_file", "--primer_midi", "--chords_from", "--input_file",
               "--midi", "--midi_dir")


@pytest.fixture
def server(tmp_path):
    """A loopback HTTP server of `tmp_path`'s files; yields its address."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    handler.log_message = lambda *args: None
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_fetch_downloads_and_checks_the_file(tmp_path, server, shared_data, monkeypatch):
    original = shared_data("text", "tinyshakespeare.txt").read_bytes()
    (tmp_path / "input.txt").write_bytes(original)
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.chdir(out)
    assert datasets.fetch("tinyshakespeare", url=f"{server}/input.txt") == "tinyshakespeare.txt"
    assert (out / "tinyshakespeare.txt").read_bytes() == original
    with pytest.raises(UsageError, match="tinyshakespeare.txt exists already"):
        datasets.fetch("tinyshakespeare", url=f"{server}/input.txt")
    (out / "tinyshakespeare.txt").write_text("damaged", encoding="utf-8")
    datasets.fetch("tinyshakespeare", url=f"{server}/input.txt", overwrite=True)
    assert (out / "tinyshakespeare.txt").read_bytes() == original
    copy = datasets.fetch("metheny", str(out / "solo.mid"),
                          url=shared_data("midi", "jazz", "original_metheny.mid").as_uri())
    assert Path(copy).read_bytes()[:4] == b"MThd"


def test_a_download_that_is_not_the_file_writes_nothing(tmp_path, server):
    (tmp_path / "input.txt").write_text("not Shakespeare\n", encoding="utf-8")
    target = tmp_path / "tiny.txt"
    with pytest.raises(UsageError, match=r"gave 16 bytes that are not tinyshakespeare.txt .* "
                                         "nothing was written"):
        datasets.fetch("tinyshakespeare", str(target), url=f"{server}/input.txt")
    with pytest.raises(UsageError, match="cannot download .*missing.txt.*save it as"):
        datasets.fetch("tinyshakespeare", str(target), url=f"{server}/missing.txt")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["input.txt"]  # no temporary left


def test_unknown_dataset_names_the_known_ones():
    with pytest.raises(UsageError, match="give one of tinyshakespeare, metheny"):
        datasets.fetch("bach")


def test_the_listing_says_where_each_comes_from():
    for name, dataset in datasets.DATASETS.items():
        assert f"{name}: {dataset.file}" in datasets.listing() and dataset.url.startswith("https")


def commands(page: Path) -> list[list[str]]:
    """Every ``python ...`` (and ``tail ...``) command of a page, from its code blocks and
    inline code, split into words, in the page's order."""
    text = page.read_text(encoding="utf-8")
    found = []
    for paragraph in re.split(r"\n\s*\n", text):
        pieces = [block.replace("\\\n", " ") for block in
                  re.findall(r"^```[^\n]*\n(.*?)^```", paragraph, flags=re.S | re.M)]
        prose = re.sub(r"^```[^\n]*\n.*?^```", "", paragraph, flags=re.S | re.M)
        pieces = [line for block in pieces for line in block.splitlines()]
        pieces += re.findall(r"`([^`]+)`", prose)
        for piece in pieces:
            for command in piece.split("&&"):
                if command.strip().startswith(("python ", "tail ")):
                    found.append(shlex.split(command.replace("\n", " "), comments=True))
    return found


def reads(words: list[str], flag: str) -> bool:
    """Whether `flag` of a command names a file it reads (`music.prepare` writes its
    --training_file)."""
    return flag in INPUT_FLAGS and not (flag == "--training_file" and
                                        "lstm_core.music.prepare" in words)


def read_files(words: list[str]) -> list[str]:
    return [words[i + 1] for i, word in enumerate(words[:-1]) if reads(words, word)]


def written_files(words: list[str]) -> list[str]:
    return [words[i + 1] for i, word in enumerate(words[:-1])
            if (word.startswith("--") or word == ">") and not reads(words, word)]


def unsourced(page: Path) -> list[str]:
    """The files that a page's commands read and that the page neither writes with an earlier
    command, nor names as a dataset of `lstm_core.datasets` (with the command that fetches it),
    nor calls the reader's own ("your ...") or says where it comes from, in a sentence that
    names it in backticks."""
    text = page.read_text(encoding="utf-8")
    sentences = re.split(r"(?<=[.:])\s", text.replace("\n", " "))
    written, missing = set(), []
    for words in commands(page):
        for file in read_files(words):
            if file.startswith("music21:") or file.isupper() or file in written:  # FILE: any
                continue
            dataset = datasets.by_file(file)
            if dataset:
                name = next(n for n, d in datasets.DATASETS.items() if d is dataset)
                if f"python -m lstm_core.datasets --fetch {name}" not in text:
                    missing.append(f"{file} (say: python -m lstm_core.datasets --fetch {name})")
            elif not any(f"`{file}`" in sentence and re.search(r"\b(yours?|comes from)\b",
                                                                sentence)
                         for sentence in sentences):
                missing.append(file)
        written.update(written_files(words))
    return missing


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_file_a_command_reads_has_its_source_said(page):
    assert unsourced(page) == []


def test_a_command_on_a_file_of_unknown_source_is_caught(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("Train:\n\n```\npython train.py --training_file mystery.txt\n```\n\n"
                    "Then `python train.py --training_file tinyshakespeare.txt`.\n\n"
                    "`mine.txt` is any text of yours: `python train.py --training_file mine.txt`"
                    "\n", encoding="utf-8")
    assert unsourced(page) == [
        "mystery.txt",
        "tinyshakespeare.txt (say: python -m lstm_core.datasets --fetch tinyshakespeare)"]


def test_git_ignores_the_fetched_files():
    import subprocess

    if subprocess.run(["git", "rev-parse"], cwd=ROOT, capture_output=True).returncode:
        pytest.skip("the project is not a git checkout")
    files = [d.file for d in datasets.DATASETS.values()]
    ignored = subprocess.run(["git", "check-ignore", "--no-index", *files], cwd=ROOT,
                             capture_output=True, text=True).stdout.split()
    assert ignored == files
