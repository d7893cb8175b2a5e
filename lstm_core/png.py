"""PNG files from `[height, width, 3]` uint8 images, with the standard library alone (no imaging
dependency): piano rolls and the inspection page's picture."""

from __future__ import annotations

import struct
import zlib

import numpy as np

from lstm_core.files import atomic_write


def write_png(path: str, image: np.ndarray) -> None:
    """Writes an RGB `[height, width, 3]` uint8 image as a PNG file, atomically."""
    height, width, _ = image.shape
    rows = np.concatenate([np.zeros((height, 1), np.uint8), image.reshape(height, -1)], axis=1)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    atomic_write(path, b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                 + chunk(b"IDAT", zlib.compress(rows.tobytes())) + chunk(b"IEND", b""))
