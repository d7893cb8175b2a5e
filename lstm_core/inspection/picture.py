"""A picture of the inspection page: a screenshot by headless Chromium when one is installed
(``chromium``, ``chromium-browser``, ``google-chrome``), else a plain drawing of the same coloured
cells and gate stripes with the characters left out (no font library needed)."""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import tempfile
from typing import TYPE_CHECKING, Sequence

import numpy as np

from lstm_core.files import atomic_write
from lstm_core.inspection.page import unit_colours
from lstm_core.png import write_png

if TYPE_CHECKING:
    from lstm_core.inspection.inspection import Inspection


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


def chromium_screenshot(html_path: str, png_path: str, width: int, height: int,
                        browser: str | None = None, timeout: float = 90.0) -> bool:
    """Screenshots `html_path` with headless Chromium; returns whether it wrote `png_path`."""
    browser = browser or find_chromium()
    if browser is None:
        return False
    with tempfile.TemporaryDirectory() as profile:
        # Into the temporary folder, then written as every output is (lstm_core.files).
        screenshot = os.path.join(profile, "screenshot.png")
        command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                   "--disable-background-networking", "--disable-component-update",
                   "--disable-sync", "--hide-scrollbars", f"--user-data-dir={profile}",
                   f"--screenshot={screenshot}", f"--window-size={width},{height}",
                   "file://" + os.path.abspath(html_path)]
        try:
            subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           timeout=timeout, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return False
        if not os.path.exists(screenshot) or os.path.getsize(screenshot) == 0:
            return False
        with open(screenshot, "rb") as f:
            atomic_write(png_path, f.read())
    return True


def draw_cells(tokens: Sequence[str], is_text: bool, backgrounds: list, stripes: list,
               columns: int = 100, cell: int = 10, height: int = 14) -> np.ndarray:
    """The page's coloured text as a picture without glyphs: one cell per character (or event),
    wrapped at newlines and at `columns`, with the four gate stripes under each."""
    positions, row, column = [], 0, 0
    for token in tokens:
        if column >= columns:
            row, column = row + 1, 0
        positions.append((row, column))
        column += 1
        if is_text and token == "\n":
            row, column = row + 1, 0
    rows = (positions[-1][0] + 1) if positions else 1
    line = height + 4 * 2 + 4
    margin = 8
    image = np.full([margin * 2 + rows * line, margin * 2 + columns * cell, 3], 255, np.uint8)
    for (r, c), background, stripe in zip(positions, backgrounds, stripes):
        y, x = margin + r * line, margin + c * cell
        image[y:y + height, x:x + cell - 1] = background
        for k, colour in enumerate(stripe):
            image[y + height + 2 * k:y + height + 2 * k + 2, x:x + cell - 1] = colour
    return image


def picture_height(found: Inspection, width: int) -> int:
    """Pixels the page needs at `width`: the header, the coloured input (a text line wraps
    into rows of about 10 px a character; music events sit in one flow of cells, each as wide
    as its name plus its margins), and the ranked list."""
    characters_per_row = max(1, (width - 60) // 10)
    if found.is_text:
        line_lengths = [len(line) for line in "".join(found.tokens).split("\n")]
    else:
        line_lengths = [sum(len(token) + 1 for token in found.tokens)]
    rows = sum(max(1, math.ceil(length / characters_per_row)) for length in line_lengths)
    return min(8000, 240 + rows * 30 + len(found.ranked) * 22 + 90)


PICTURES = {"chromium": "a screenshot by headless Chromium",
            "drawing": "no Chromium found, so a plain drawing of the coloured cells and gate "
                       "stripes, without the characters"}
"""What each kind of picture `write_picture` returns is, for the user."""


def write_picture(html_path: str, png_path: str, found: Inspection, width: int = 1200) -> str:
    """The page at `html_path` as a PNG: Chromium's screenshot, or the glyph-less drawing.
    Returns which (`PICTURES` says what each is)."""
    if chromium_screenshot(html_path, png_path, width, picture_height(found, width)):
        return "chromium"
    backgrounds, stripes = unit_colours(found.values, *found.selected)
    write_png(png_path, draw_cells(found.tokens, found.is_text, backgrounds, stripes))
    return "drawing"
