"""The embedded default text corpus: the lyrics of the Bach chorales bundled with music21.

Built into ``data/`` the first time it is needed (433 scores parsed by music21 in one worker
process per core, about 40 seconds on two cores, with a progress bar on a terminal), never
committed. Each chorale's lyrics
are taken once, from its first part that has any (the other voices sing the same words), every
verse, cut into lines at punctuation so that the text reads like a song.
"""

from __future__ import annotations

import concurrent.futures
import functools
import multiprocessing
import os
import re
import signal

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


def lyrics_of(source: str) -> str:
    """`chorale_lyrics` of the score file `source`, parsed by music21 (in a worker process)."""
    from music21 import corpus

    return chorale_lyrics(corpus.parse(source))


def build_default_text(path: str = DEFAULT_TEXT_FILE,
                       report: Report = silent_report, progress: TaskProgress = silent_progress
                       ) -> str:
    """Writes the chorale lyrics to `path` unless it exists, saying so through `report` and
    counting the scores read through `progress`; returns `path`."""
    if os.path.exists(path):
        return path
    from music21 import corpus

    report(f"building the default corpus {path} from the lyrics of music21's Bach chorales "
           "(first use only, under a minute on two cores)")
    songs: dict[str, None] = {}
    sources = [str(source) for source in corpus.getComposer("bach")]
    progress(0, len(sources), "scores read")
    # "spawn": the parent may run TensorFlow threads, which a fork would copy mid-flight. Ctrl-C
    # is the parent's to handle: a worker finishes its score and the rest are cancelled.
    workers = os.cpu_count() or 1
    pool = concurrent.futures.ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("spawn"),
        initializer=functools.partial(signal.signal, signal.SIGINT, signal.SIG_IGN)
    ) if workers > 1 else None
    try:
        read = pool.map(lyrics_of, sources, chunksize=8) if pool else map(lyrics_of, sources)
        for done, lyrics in enumerate(read, start=1):  # in the corpus's order, as read serially
            if lyrics:
                songs.setdefault(lyrics)
            progress(done, len(sources), "scores read")
    finally:
        if pool:
            pool.shutdown(cancel_futures=True)
    atomic_write(path, ("\n\n".join(songs) + "\n").encode("utf-8"))
    report(f"wrote {path}: {len(songs)} chorales")
    return path
