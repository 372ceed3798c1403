#!/usr/bin/python3
"""The fixture of a DiT trained without label dropout (class_dropout_prob = 0): no null-class row.

    python3 tools/reference/make_no_null_fixture.py --out core/src/test/resources/fixtures

Writes dit_tiny_no_null.safetensors: the reference model's state_dict (y_embedder.embedding_table.weight has
num_classes rows, as the DiT release's LabelEmbedder builds it when dropout_prob = 0) with every weight random,
and one eval-mode forward (io.x, io.t, io.y -> io.out; no null label, there is none). Deterministic (fixed seed,
one thread). The Java side (DiTNoNullClassTest) loads these weights into a DiT with class_dropout_prob 0 and
compares the forward.
"""
import argparse
import os
import sys

import torch

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_fixtures as mf  # noqa: E402

torch.set_num_threads(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    out = ap.parse_args().out
    os.makedirs(out, exist_ok=True)
    cfg = dict(mf.TINY, conditioning="adaln-zero", class_dropout_prob=0.0, cfg_scale=1.0)
    torch.manual_seed(7)
    model = mf.build(cfg)
    assert model.y_embedder.embedding_table.weight.shape[0] == cfg["num_classes"]
    mf.randomize(model)
    model.eval()
    c, h, nc = cfg["in_channels"], cfg["input_size"], cfg["num_classes"]
    x = torch.randn(4, c, h, h)
    t = torch.tensor([0, 999, 500, 37], dtype=torch.int64)
    y = torch.tensor([1, nc - 1, 0, 5], dtype=torch.int64)
    with torch.no_grad():
        y_out = model(x, t, y)
    tensors = {**mf.state_tensors(model), "io.x": x, "io.t": t, "io.y": y, "io.out": y_out}
    path = os.path.join(out, "dit_tiny_no_null.safetensors")
    mf.save_checked(tensors, path, {"config": mf.config_json(cfg)})
    print(path, os.path.getsize(path), "bytes")


if __name__ == "__main__":
    main()
