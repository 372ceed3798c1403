"""Minimal, dependency-free safetensors writer and reader (numpy only).

Format: 8-byte little-endian u64 header length N, then N bytes of JSON header
{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}}
padded with spaces to a multiple of 8, then the raw little-endian tensor data.
Offsets are relative to the start of the data section. Tensors are laid out
contiguously in sorted-name order so that output is byte-for-byte deterministic.
"""
import json
import struct

import numpy as np

_DTYPES = {
    "F64": np.dtype("<f8"),
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"),
    "I32": np.dtype("<i4"),
    "U8": np.dtype("u1"),
}
_NAMES = {v: k for k, v in _DTYPES.items()}


def _to_numpy(t):
    if hasattr(t, "detach"):  # torch tensor
        t = t.detach().cpu().contiguous().numpy()
    a = np.ascontiguousarray(t)
    dt = a.dtype.newbyteorder("<")
    if dt not in _NAMES:
        raise TypeError("unsupported dtype %s" % a.dtype)
    return a.astype(dt, copy=False)


def save_file(tensors, path, metadata=None):
    """tensors: dict name -> torch.Tensor or np.ndarray; metadata: dict str -> str."""
    arrays = {name: _to_numpy(t) for name, t in tensors.items()}
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    offset = 0
    for name in sorted(arrays):
        a = arrays[name]
        header[name] = {"dtype": _NAMES[a.dtype], "shape": list(a.shape),
                        "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
    hjson = json.dumps(header, separators=(",", ":"), sort_keys=True).encode("utf-8")
    hjson += b" " * (-len(hjson) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for name in sorted(arrays):
            f.write(arrays[name].tobytes(order="C"))


def load_file(path):
    """Returns (dict name -> np.ndarray, metadata dict)."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {})
    data = raw[8 + n:]
    out = {}
    end_max = 0
    for name, info in header.items():
        b, e = info["data_offsets"]
        dt = _DTYPES[info["dtype"]]
        a = np.frombuffer(data[b:e], dtype=dt).reshape(info["shape"])
        assert a.nbytes == e - b, name
        out[name] = a.copy()
        end_max = max(end_max, e)
    assert end_max == len(data), "trailing bytes in %s" % path
    return out, meta
