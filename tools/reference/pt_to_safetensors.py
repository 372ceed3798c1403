#!/usr/bin/env python3
"""Turn a released DiT PyTorch checkpoint (.pt) into safetensors that dit-spark loads.

DJL cannot read torch.save files, so the public weights (e.g. DiT-XL-2-256x256.pt, a plain state_dict) or a
checkpoint of the reference training script (a dict with "model", "ema", "opt", "args") go through this script
once, on any machine with PyTorch (Debian: apt-get install python3-torch):

    python3 tools/reference/pt_to_safetensors.py DiT-XL-2-256x256.pt DiT-XL-2-256x256.safetensors
    python3 tools/reference/pt_to_safetensors.py 0400000.pt ema.safetensors --key ema

Then: dit sample --weights DiT-XL-2-256x256.safetensors --model DiT-XL/2 --image-size 256 --vae ...
The key names are kept exactly (the reference state_dict names are what dit-spark reads).
"""
import argparse
import sys

import torch

from safetensors_io import save_file


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("pt", help="the .pt file")
    ap.add_argument("out", help="the .safetensors file to write")
    ap.add_argument("--key", default=None,
                    help='for training checkpoints: which entry holds the weights ("ema" or "model")')
    args = ap.parse_args(argv)
    obj = torch.load(args.pt, map_location="cpu", weights_only=True)
    if args.key is not None:
        if args.key not in obj:
            sys.exit(f"{args.pt}: no entry '{args.key}' (entries: {sorted(obj)})")
        obj = obj[args.key]
    elif "ema" in obj and isinstance(obj["ema"], dict):
        sys.exit(f"{args.pt} is a training checkpoint: pass --key ema (or --key model)")
    tensors = {k: v.float().contiguous() for k, v in obj.items() if torch.is_tensor(v)}
    save_file(tensors, args.out, metadata={"format": "pt", "source": args.pt})
    print(f"wrote {len(tensors)} tensors to {args.out}")


if __name__ == "__main__":
    main()
