#!/usr/bin/env python3
#===- Inputs/ckpt_tool.py - poke at safetensors files for CLI tests -------===#
#
# This script edits and inspects checkpoints for the lit tests, byte-exactly:
#   ckpt_tool.py flip FILE OFFSET        XOR the byte at OFFSET (negative:
#                                        from the end) with 0x01
#   ckpt_tool.py meta FILE KEY VALUE     replace a metadata value in place
#                                        (same length, so the layout stays)
#   ckpt_tool.py strip FILE              drop tele.crc32c.* (an older tele's
#                                        file), re-padding the header
#   ckpt_tool.py shapes FILE PATTERN     print "name shape" of the tensors
#                                        whose name contains PATTERN
#
#===----------------------------------------------------------------------===#
import json
import struct
import sys


def load(path):
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    return data, n, json.loads(data[8:8 + n])


def main(cmd, path, *args):
    data, n, header = load(path)
    if cmd == "flip":
        at = int(args[0]) % len(data)
        data = data[:at] + bytes([data[at] ^ 1]) + data[at + 1:]
    elif cmd == "meta":
        key, value = args
        old = json.dumps({key: header["__metadata__"][key]}, separators=(",", ":"))[1:-1]
        new = json.dumps({key: value}, separators=(",", ":"))[1:-1]
        assert len(old) == len(new) and data.count(old.encode()) == 1, (old, new)
        data = data.replace(old.encode(), new.encode())
    elif cmd == "strip":
        meta = header["__metadata__"]
        header["__metadata__"] = {k: v for k, v in meta.items() if not k.startswith("tele.crc32c.")}
        text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
        text += b" " * ((8 - len(text) % 8) % 8)
        data = struct.pack("<Q", len(text)) + text + data[8 + n:]
    elif cmd == "shapes":
        for name in sorted(header):
            if name != "__metadata__" and args[0] in name:
                print(name, "x".join(str(d) for d in header[name]["shape"]))
        return
    open(path, "wb").write(data)


if __name__ == "__main__":
    main(*sys.argv[1:])
