"""The public corpora the documents train on, and where each comes from.

    python -m lstm_core.datasets                            # lists them, with their sources
    python -m lstm_core.datasets --fetch tinyshakespeare    # downloads tinyshakespeare.txt

Nothing here runs unless asked: training and sampling never go online. A download is checked
against the file's SHA-256 before it is written (atomically, to the dataset's file name in the
current folder unless ``--output_file`` says otherwise), so a broken transfer or a changed
source leaves nothing behind; an existing file is kept unless ``--overwrite``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import urllib.error
import urllib.request
from typing import Sequence

from lstm_core.errors import UsageError
from lstm_core.files import atomic_write, check_output

DOWNLOAD_SECONDS = 60  # a connection silent this long has failed


@dataclasses.dataclass(frozen=True)
class Dataset:
    file: str
    """The name the documents' commands give it."""
    url: str
    sha256: str
    about: str
    """What it is, whose it is, and its licence."""


DATASETS = {
    "tinyshakespeare": Dataset(
        "tinyshakespeare.txt",
        "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/"
        "input.txt",
        "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
        "1.1 MB of Shakespeare's plays (public domain), as Andrej Karpathy's char-rnn "
        "(data/tinyshakespeare/input.txt) gathered them"),
    "metheny": Dataset(
        "original_metheny.mid",
        "https://raw.githubusercontent.com/jisungk/deepjazz/master/midi/original_metheny.mid",
        "0da8322ceab36b036682b5ece0c315193f7b701a3340a0ca5a523b107c6f428d",
        "a 92 KB MIDI transcription of a Pat Metheny solo with its accompaniment, from Ji-Sung "
        "Kim's deepjazz (midi/original_metheny.mid); the music is Pat Metheny's: use it to "
        "learn from, do not republish it"),
}


def by_file(file: str) -> Dataset | None:
    """The dataset the documents name by `file` (its base name), if any."""
    return next((d for d in DATASETS.values() if d.file == os.path.basename(file)), None)


def fetch(name: str, output_file: str | None = None, url: str | None = None,
          overwrite: bool = False) -> str:
    """Downloads the dataset `name` from `url` (default: its public source) to `output_file`
    (default: its file name here) and returns the path written.

    Raises a `UsageError` for an unknown name, an existing `output_file` (without `overwrite`),
    a download that fails, or one whose SHA-256 differs from the dataset's (then nothing is
    written).
    """
    if name not in DATASETS:
        raise UsageError(f"--fetch {name}: no such dataset; give one of {', '.join(DATASETS)}")
    dataset = DATASETS[name]
    path, source = output_file or dataset.file, url or dataset.url
    check_output("output_file", path, overwrite)
    try:
        with urllib.request.urlopen(source, timeout=DOWNLOAD_SECONDS) as response:
            data = response.read()
    except (urllib.error.URLError, OSError, ValueError) as e:
        reason = getattr(e, "reason", None) or e
        raise UsageError(f"--fetch {name}: cannot download {source} ({reason}); download "
                         f"{dataset.url} another way and save it as {path}") from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != dataset.sha256:
        raise UsageError(f"--fetch {name}: {source} gave {len(data):,} bytes that are not "
                         f"{dataset.file} (SHA-256 {digest[:12]}…, expected "
                         f"{dataset.sha256[:12]}…); nothing was written")
    atomic_write(path, data)
    return path


def listing() -> str:
    """One line per dataset: its name, its file, what it is and where it comes from."""
    return "\n".join(f"{name}: {d.file}, {d.about}; {d.url}" for name, d in DATASETS.items())


def main(argv: Sequence[str]) -> None:
    if FLAGS.fetch is None:
        print(listing())
        print("fetch one with: python -m lstm_core.datasets --fetch NAME")
        return
    path = fetch(FLAGS.fetch, FLAGS.output_file, FLAGS.url, FLAGS.overwrite)
    print(f"wrote {path}: {DATASETS[FLAGS.fetch].about}")


if __name__ == "__main__":
    from absl import flags

    from lstm_core.cli import run

    flags.DEFINE_enum("fetch", None, list(DATASETS), "The dataset to download (default: list "
                      "them all with their sources, offline).")
    flags.DEFINE_string("output_file", None, "Where to write it (default: its file name, in "
                        "the current folder).")
    flags.DEFINE_bool("overwrite", False, "Replace an existing --output_file (once the new "
                      "download is complete and checked).")
    flags.DEFINE_string("url", None, "Download from this address instead of the dataset's "
                        "public source (a mirror, or a file:// copy); the file's SHA-256 is "
                        "checked either way.")
    FLAGS = flags.FLAGS
    run(main)
