#!/usr/bin/env python3
#===- runtime/tests/safetensors_interop.py - HF safetensors round trip -----===#
#
# This script checks that a checkpoint written by tele loads with Hugging
# Face's `safetensors` library and that a file written by that library loads
# in tele. It reads IN with safetensors.deserialize (which validates the header
# and offsets), then re-serializes the same tensors and metadata with
# safetensors into OUT for the C++ test to read back and compare.
#
# Usage: safetensors_interop.py IN OUT
# Exit 77 (the "skipped" code) when `safetensors` is not installed. numpy is
# not needed: only the raw-bytes API is used.
#
#===----------------------------------------------------------------------===#
import ctypes
import json
import struct
import sys

try:
    import safetensors
except ImportError:
    print("safetensors not installed; skipping")
    sys.exit(77)

# safetensors' serialize() spells dtypes the numpy way.
DTYPES = {"F32": "float32", "F64": "float64", "BF16": "bfloat16",
          "F16": "float16", "I32": "int32", "I64": "int64", "U8": "uint8"}


def main(src, dst):
    with open(src, "rb") as f:
        data = f.read()
    tensors = safetensors.deserialize(data)
    # deserialize() does not return metadata; read it from the header.
    (n,) = struct.unpack("<Q", data[:8])
    metadata = json.loads(data[8:8 + n]).get("__metadata__")

    keep = []  # buffers must outlive serialize()
    specs = {}
    for name, t in tensors:
        raw = bytes(t["data"])
        if hasattr(safetensors, "TensorSpec"):  # safetensors >= 0.8
            buf = ctypes.create_string_buffer(raw, max(len(raw), 1))
            keep.append(buf)
            specs[name] = safetensors.TensorSpec(
                dtype=DTYPES[t["dtype"]], shape=list(t["shape"]),
                data_ptr=ctypes.addressof(buf), data_len=len(raw))
        else:
            specs[name] = {"dtype": DTYPES[t["dtype"]],
                           "shape": list(t["shape"]), "data": raw}
    out = safetensors.serialize(specs, metadata=metadata)
    with open(dst, "wb") as f:
        f.write(out)
    print(f"safetensors {safetensors.__version__}: read {len(tensors)} "
          f"tensors and {len(metadata or {})} metadata keys, wrote {dst}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
