#!/usr/bin/env python3
"""make_seeds.py - candidate seed inputs for the tele fuzz targets.

This file writes seed candidates, one folder per target, from the inputs the
repository already has (plans, the lit tests' plan files, the .mlir lit tests
split at their `// -----` markers, without comment lines) and from small
safetensors and token files built here byte by byte (valid ones of each
dtype and token width, and a few broken ones). The checked-in corpus
test/Fuzz/corpus/<target>/ is these candidates after libFuzzer's merge step,
which keeps only inputs that add coverage:

  python3 test/Fuzz/make_seeds.py /tmp/seeds
  build-san/bin/tele-<target>-fuzzer -merge=1 test/Fuzz/corpus/<target> /tmp/seeds/<target>
"""
import glob
import hashlib
import json
import os
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def write(out, target, data):
    """Writes one seed, named by its content like libFuzzer's own files."""
    folder = os.path.join(out, target)
    os.makedirs(folder, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(folder, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


def plan_seeds(out):
    patterns = ["plans/**/*.yaml", "test/Config/Inputs/*", "test/Integration/*/Inputs/*.yaml"]
    for pattern in patterns:
        for path in glob.glob(os.path.join(ROOT, pattern), recursive=True):
            with open(path, "rb") as f:
                write(out, "plan", f.read())


def ir_seeds(out):
    for path in glob.glob(os.path.join(ROOT, "test/**/*.mlir"), recursive=True):
        with open(path) as f:
            text = f.read()
        for chunk in text.split("// -----"):
            lines = [l for l in chunk.splitlines() if not l.lstrip().startswith("//")]
            body = "\n".join(lines).strip()
            if body:
                write(out, "ir", body + "\n")


def safetensors_file(entries, metadata=None, pad=True):
    """entries: (name, dtype, shape, bytes); laid out in order."""
    header, data = {}, b""
    for name, dtype, shape, payload in entries:
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [len(data), len(data) + len(payload)]}
        data += payload
    if metadata is not None:
        header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode()
    if pad:
        text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + data


def safetensors_seeds(out):
    f32 = struct.pack("<6f", 0.5, -1.0, 2.0, 0.0, 3.5, -0.25)
    write(out, "safetensors", safetensors_file(
        [("a", "F32", [2, 3], f32), ("b", "I64", [2], struct.pack("<2q", 7, -9))],
        {"step": "12", "format": "pt"}))
    write(out, "safetensors", safetensors_file(
        [("h", "F16", [2], struct.pack("<2H", 0x3C00, 0x7C00)),
         ("z", "BF16", [1, 2], struct.pack("<2H", 0x3F80, 0x7FC0)),
         ("d", "F64", [], struct.pack("<d", 1e-300)),
         ("i", "I32", [3], struct.pack("<3i", 1, -2, 3)),
         ("u", "U8", [4], bytes([0, 1, 254, 255]))]))
    write(out, "safetensors", safetensors_file([("empty", "F32", [0, 4], b"")]))
    write(out, "safetensors", safetensors_file([], {"only": "metadata"}))
    # Broken: overlap, hole, truncated data, bad dtype, header past the end.
    bad = safetensors_file([("a", "F32", [2], f32[:8]), ("b", "F32", [1], f32[:4])])
    write(out, "safetensors", bad[:-2])
    write(out, "safetensors", safetensors_file([("a", "Q8", [2], b"\0\0")]))
    write(out, "safetensors", struct.pack("<Q", 1 << 40) + b"{}")


def token_file(tokens, vocab, width):
    fmt = "<%d%s" % (len(tokens), "H" if width == 2 else "I")
    return (b"TELETOK1" + struct.pack("<IIQII", 1, width, len(tokens), vocab, 0)
            + struct.pack(fmt, *tokens))


def token_seeds(out):
    text = [ord(c) for c in "hello, token files\n"]
    write(out, "tokenfile", token_file(text, 260, 2))
    write(out, "tokenfile", token_file([1, 70000, 3, 69999, 0], 70001, 4))
    write(out, "tokenfile", token_file([5, 5], 6, 2))
    write(out, "tokenfile", token_file([7], 8, 2))
    write(out, "tokenfile", token_file(text, 100, 2))  # a token >= vocab
    write(out, "tokenfile", token_file(text, 260, 2)[:-1])  # truncated


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_seeds.py OUTPUT_DIR")
    out = sys.argv[1]
    plan_seeds(out)
    ir_seeds(out)
    safetensors_seeds(out)
    token_seeds(out)


if __name__ == "__main__":
    main()
