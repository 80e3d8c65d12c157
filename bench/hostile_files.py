"""Hostile files against the readers of uploads: the A1111 settings reader on long lines, and PNG/JPEG uploads
stuffed with blocks. Prints one table; each figure is the best of --runs.

"A1111 pattern" parses the last line with A1111's own key-value pattern, which this app used until round 3
(time grows with the square of the line: it is skipped past --before-max bytes); "this reader" is the whole
reader as gallery:params-from-png runs it (transform.reuse.reuse_settings).

Run from the repository root:
    python -m bench.hostile_files [--runs 3] [--before-max 16384] [--largest 1048576]
"""

import argparse
import io
import re
import time
import zlib

from PIL import Image

from tests.png_files import chunk, png_with_chunks
from transform.reuse import reuse_settings
from transform.uploads import UploadRejected, clean_upload

A1111_PAIR = re.compile(r'\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|\([^)]*\)|[^,]*)(?:,|$)')
PAIRS = "Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 512x512, "
LINES = {"one long word": "a", "unclosed brackets": "Key: (x, ", "real pairs": PAIRS}
SIZES = [2 * 1024, 16 * 1024, 64 * 1024, 1024 * 1024]
UPLOAD_LIMITS = {"max_bytes": 20 * 1024 * 1024, "max_pixels": 40_000_000, "min_side": 64}


def best(function, runs):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def settings_rows(runs, before_max, largest):
    for name, unit in LINES.items():
        for size in (size for size in SIZES if size <= largest):
            line = (PAIRS + unit * size)[:size]
            after = best(lambda line=line: reuse_settings("a dog\n" + line), runs)
            before = best(lambda line=line: A1111_PAIR.findall(line), runs) if size <= before_max else None
            yield f"settings line, {name}", size, before, after, ""


def upload_rows(runs):
    jpeg = io.BytesIO()
    Image.new("RGB", (64, 64), "white").save(jpeg, "JPEG")
    jpeg = jpeg.getvalue()
    files = {
        "PNG, 1,000,000 empty tEXt chunks": png_with_chunks([chunk(b"tEXt", b"k\0a")] * 1_000_000),
        "PNG, 70 zTXt chunks inflating to 1 MB each": png_with_chunks(
            [chunk(b"zTXt", b"k%d\0\0" % i + zlib.compress(b" " * 1_000_000, 9)) for i in range(70)]
        ),
        "JPEG, 1,000,000 comment segments": jpeg[:2] + b"\xff\xfe\x00\x03a" * 1_000_000 + jpeg[2:],
        "JPEG, 5 MB of fill bytes": jpeg[:2] + b"\xff" * 5_000_000 + jpeg[2:],
    }
    for name, data in files.items():

        def upload(data=data):
            try:
                clean_upload(io.BytesIO(data), "x", **UPLOAD_LIMITS)
                return "accepted"
            except UploadRejected as refusal:
                return f"refused: {refusal.code}"

        outcome = upload()
        yield name, len(data), None, best(upload, runs), outcome


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--before-max", type=int, default=16 * 1024, help="largest line timed with A1111's pattern")
    parser.add_argument("--largest", type=int, default=SIZES[-1], help="largest line timed at all")
    options = parser.parse_args(argv)
    print("| input | bytes | A1111 pattern, ms | this reader, ms | outcome |")
    print("| --- | ---: | ---: | ---: | --- |")
    for name, size, before, after, outcome in [
        *settings_rows(options.runs, options.before_max, options.largest),
        *upload_rows(options.runs),
    ]:
        shown = "not run" if before is None else f"{before * 1000:,.1f}"
        print(f"| {name} | {size:,} | {shown} | {after * 1000:,.1f} | {outcome} |", flush=True)


if __name__ == "__main__":
    main()
