#!/usr/bin/python3
"""Generate the VAE parity fixture (and, with --crop, the ADM center-crop fixture) for the Java code.

    /usr/bin/python3 tools/reference/make_vae_fixtures.py --out core/src/test/resources/fixtures

Deterministic (fixed seeds, one CPU thread). See tools/reference/README.md, section "VAE fixtures".
"""
import argparse
import hashlib
import json
import os
import sys

import numpy as np
import torch

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vae_reference as ref  # noqa: E402
from safetensors_io import load_file, save_file  # noqa: E402

torch.set_num_threads(1)

# Same architecture as KL-f8 with three levels instead of four and tiny widths; 2 resnets per level as in SD.
TINY = dict(in_channels=3, out_channels=3, latent_channels=4, block_out_channels=[4, 8, 8], layers_per_block=2,
            norm_num_groups=2, scaling_factor=0.18215)


@torch.no_grad()
def randomize(model):
    """Every parameter random, norms included: weights N(0, 1/fan_in), biases N(0, 0.05^2), GroupNorm
    weights N(1, 0.2^2). Each layer's output stays O(1) so every piece visibly matters."""
    for name, p in model.named_parameters():
        if p.dim() == 1 and ("norm" in name) and name.endswith("weight"):
            p.normal_(1.0, 0.2)
        elif name.endswith("bias"):
            p.normal_(0.0, 0.05)
        else:
            p.normal_(0.0, 1.0 / np.sqrt(int(np.prod(p.shape[1:]))))


def save_checked(tensors, path, metadata):
    save_file(tensors, path, metadata)
    back, meta = load_file(path)
    assert meta == metadata and set(back) == set(tensors), path
    for k, v in tensors.items():
        a = v.detach().numpy() if hasattr(v, "detach") else np.asarray(v)
        assert back[k].tobytes() == np.ascontiguousarray(a).tobytes(), k
        assert np.isfinite(a).all(), k


def vae_tiny(out_dir):
    torch.manual_seed(5)
    model = ref.AutoencoderKL(TINY).eval()
    randomize(model)
    # Parameter count check against the layout (a typo in a module would change it).
    x = torch.rand(2, 3, 16, 16) * 2 - 1
    with torch.no_grad():
        mean, std = model.encode(x)
        z = torch.randn(2, 4, 4, 4)
        decoded = model.decode(z)
        # Zeroing the mid attention's output projection must change the posterior (the attention matters).
        w = model.encoder.mid_block.attentions[0].to_out[0]
        saved = (w.weight.clone(), w.bias.clone())
        w.weight.zero_()
        w.bias.zero_()
        m2, _ = model.encode(x)
        w.weight.copy_(saved[0])
        w.bias.copy_(saved[1])
        assert (m2 - mean).abs().max() > 0.02 * mean.abs().max(), "mid attention has no effect"
    assert mean.shape == (2, 4, 4, 4) and std.shape == (2, 4, 4, 4) and decoded.shape == (2, 3, 16, 16)
    tensors = {k: v.detach().clone() for k, v in model.state_dict().items()}
    tensors.update({"io.x": x, "io.mean": mean, "io.std": std, "io.z": z, "io.decoded": decoded})
    path = os.path.join(out_dir, "vae_tiny.safetensors")
    save_checked(tensors, path, {"vae_config": json.dumps(TINY, sort_keys=True)})
    return path


def center_crop_arr(pil_image, image_size):
    """ADM's center crop, as the DiT release's train.py applies it (docs/recipe.md, "Data")."""
    from PIL import Image
    while min(*pil_image.size) >= 2 * image_size:
        pil_image = pil_image.resize(tuple(x // 2 for x in pil_image.size), resample=Image.BOX)
    scale = image_size / min(*pil_image.size)
    pil_image = pil_image.resize(tuple(round(x * scale) for x in pil_image.size), resample=Image.BICUBIC)
    arr = np.array(pil_image)
    crop_y = (arr.shape[0] - image_size) // 2
    crop_x = (arr.shape[1] - image_size) // 2
    return arr[crop_y: crop_y + image_size, crop_x: crop_x + image_size]


# (height, width, crop size): halving with odd sides, several halvings, downscale, upscale (too small), square,
# a size that lands exactly on 2x (stops halving), a half-to-even rounding of the long side.
CROP_CASES = [(40, 57, 16), (70, 90, 16), (13, 9, 16), (64, 64, 16), (31, 100, 16), (33, 47, 16), (16, 16, 16),
              (50, 45, 20), (130, 150, 32)]


def adm_crop(out_dir):
    """Random-noise RGB images (worst case for rounding) through PIL's center_crop_arr."""
    from PIL import Image
    rng = np.random.default_rng(11)
    tensors = {}
    for i, (h, w, size) in enumerate(CROP_CASES):
        img = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
        out = center_crop_arr(Image.fromarray(img, "RGB"), size)
        assert out.shape == (size, size, 3), out.shape
        tensors["case%d.in" % i] = img
        tensors["case%d.out" % i] = np.ascontiguousarray(out)
    path = os.path.join(out_dir, "adm_crop.safetensors")
    import PIL
    save_checked(tensors, path, {"cases": json.dumps(CROP_CASES), "pillow": PIL.__version__})
    return path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True, help="core's fixture folder (vae_tiny.safetensors)")
    ap.add_argument("--crop-out", help="data-prep's fixture folder (adm_crop.safetensors, needs python3-pil)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    paths = [vae_tiny(args.out)]
    if args.crop_out:
        os.makedirs(args.crop_out, exist_ok=True)
        paths.append(adm_crop(args.crop_out))
    for path in paths:
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        print("%s %d bytes sha256 %s" % (path, os.path.getsize(path), digest))


if __name__ == "__main__":
    main()
