#!/usr/bin/env python3
"""Convert pytorch-fid's FID Inception weights (pt_inception-2015-12-05-6726825d.pth, the port of TensorFlow's
2015-12-05 Inception graph that FID is defined with) to the safetensors file `dit eval --inception` loads.

DJL cannot read torch.save files, so the .pth goes through this script once, on any machine with PyTorch:

    # the file pytorch-fid downloads (release v0.1.0 of mseitzer/pytorch-fid on GitHub):
    #   https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth
    python3 tools/convert_pt_inception.py pt_inception-2015-12-05-6726825d.pth pt_inception-2015-12-05.safetensors

What it does:
- checks the file's sha256 starts with the 8 hex digits in its name (torch.hub's convention: 6726825d);
  --no-hash-check skips that for a renamed copy;
- drops BatchNorm's num_batches_tracked counters (not weights);
- checks every key and shape against tools/reference/inception_reference.py (pytorch-fid's FIDInceptionV3 names:
  Conv2d_1a_3x3.conv.weight, Mixed_6d.branch7x7_2.bn.running_var, fc.weight, ...: 23,885,392 values) and names
  any missing, unexpected or mis-shaped key;
- writes float32 safetensors (tools/reference/safetensors_io.py, numpy only).

It cannot be run in the project's sandbox (no network to download the .pth); the Java loader's strict key check
(FidInception.load) and the random-weight parity test cover the same names and shapes.
"""
import argparse
import hashlib
import os
import re
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference"))
import inception_reference as ref  # noqa: E402
from safetensors_io import save_file  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("pth", help="pt_inception-2015-12-05-6726825d.pth")
    ap.add_argument("out", help="the .safetensors file to write")
    ap.add_argument("--no-hash-check", action="store_true", help="skip the sha256 prefix check")
    args = ap.parse_args(argv)

    if not args.no_hash_check:
        m = re.search(r"-([0-9a-f]{8})\.pth$", os.path.basename(args.pth))
        if m is None:
            sys.exit(f"{args.pth}: no hash prefix in the name (expected ...-6726825d.pth); use --no-hash-check")
        with open(args.pth, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        if not digest.startswith(m.group(1)):
            sys.exit(f"{args.pth}: sha256 {digest} does not start with {m.group(1)} (damaged download?)")

    state = torch.load(args.pth, map_location="cpu", weights_only=True)
    state = {k: v for k, v in state.items() if torch.is_tensor(v) and not k.endswith("num_batches_tracked")}
    want = ref.weight_keys(ref.FidInceptionV3())
    missing = sorted(set(want) - set(state))
    unexpected = sorted(set(state) - set(want))
    misshapen = [f"{k}: file {list(state[k].shape)} vs model {want[k]}" for k in sorted(set(want) & set(state))
                 if list(state[k].shape) != want[k]]
    if missing or unexpected or misshapen:
        sys.exit(f"{args.pth}: does not match the FID Inception: missing {missing}, unexpected {unexpected}, "
                 f"mis-shaped {misshapen}")
    tensors = {k: state[k].float().contiguous().numpy() for k in want}
    save_file(tensors, args.out, {"format": "pt", "source": os.path.basename(args.pth)})
    print(f"wrote {len(tensors)} tensors ({sum(t.size for t in tensors.values()):,} values) to {args.out}")


if __name__ == "__main__":
    main()
