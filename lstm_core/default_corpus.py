"""The embedded default text corpus: the lyrics of the Bach chorales bundled with music21.

Built into ``data/`` the first time it is needed (about two minutes of parsing 433 scores with
music21 on one core, with a progress bar on a terminal), never committed. Each chorale's lyrics
are taken once, from its first part that has any (the other voices sing the same words), every
verse, cut into lines at punctuation so that the text reads like a song.
"""

from __future__ import annotations

import os
import re

from lstm_core.files import atomic_write
from lstm_core.progress import Report, TaskProgress, silent_progress, silent_report

DEFAULT_TEXT_FILE = os.path.join("data", "bach_chorale_lyrics.txt")


def chorale_lyrics(score) -> str:
    """The lyrics of one score, every verse, one phrase per line; empty when it has none."""
    from music21 import text

    for part in score.parts:
        lyrics = text.assembleAllLyrics(part).strip()
        if lyrics:
            phrases = re.sub(r"([,;:.!?])\s+", r"\1\n", lyrics)
            return "\n".join(line.strip() for line in phrases.splitlines() if line.strip())
    return ""


def build_default_text(path: str = DEFAULT_TEXT_FILE,
                       report: Report = silent_report, progress: TaskProgress = silent_progress
                       ) -> str:
    """Writes the chorale lyrics to `path` unless it exists, saying so through `report` and
    counting the scores read through `progress`; returns `path`."""
    if os.path.exists(path):
        return path
    from music21 import corpus

    report(f"building the default corpus {path} from the lyrics of music21's Bach chorales "
           "(first use only, about two minutes)")
    songs: dict[str, None] = {}
    sources = corpus.getComposer("bach")
    progress(0, len(sources), "scores read")
    for done, source in enumerate(sources, start=1):
        lyrics = chorale_lyrics(corpus.parse(source))
        if lyrics:
            songs.setdefault(lyrics)
        progress(done, len(sources), "scores read")
    atomic_write(path, ("\n\n".join(songs) + "\n").encode("utf-8"))
    report(f"wrote {path}: {len(songs)} chorales")
    return path
