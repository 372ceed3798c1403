#!/usr/bin/python3
"""Generate the DiT numerical-parity fixtures for the Java implementation.

    /usr/bin/python3 tools/reference/make_fixtures.py --out core/src/test/resources/fixtures

Deterministic (fixed seeds, one CPU thread): regenerating gives identical bytes.
See tools/reference/README.md for the file list and keys.
"""
import argparse
import hashlib
import json
import os
import sys

import numpy as np
import torch

sys.dont_write_bytecode = True  # leave no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dit_reference as ref  # noqa: E402
from safetensors_io import load_file, save_file  # noqa: E402

torch.set_num_threads(1)  # byte-identical results run to run

TINY = dict(input_size=8, patch_size=2, in_channels=4, hidden_size=64, depth=2, num_heads=4,
            num_classes=10, learn_sigma=True)
CFG_SCALE = 4.0


def save_checked(tensors, path, metadata):
    """Write, read back with the independent reader, and compare every tensor bit for bit."""
    save_file(tensors, path, metadata)
    back, meta = load_file(path)
    assert meta == metadata and set(back) == set(tensors), path
    for k, v in tensors.items():
        a = v.detach().numpy() if hasattr(v, "detach") else np.asarray(v)
        assert back[k].dtype == a.dtype and back[k].shape == a.shape, k
        assert back[k].tobytes() == np.ascontiguousarray(a).tobytes(), k
        if a.dtype.kind == "f":
            assert np.isfinite(a).all(), k


def config_json(cfg):
    return json.dumps(cfg, sort_keys=True)


def build(cfg):
    kw = {k: v for k, v in cfg.items() if k != "cfg_scale"}
    return ref.DiT(**kw)


@torch.no_grad()
def randomize(model):
    """Overwrite every trainable parameter (zero-init ones and the embedding table included;
    pos_embed keeps the spec's fixed sin-cos). Weights ~ N(0, 1/fan_in) so each layer's output
    is O(1) and every piece visibly matters; biases ~ N(0, 0.05²); label table ~ N(0, 0.5²)."""
    for name, p in model.named_parameters():
        if name == "pos_embed":
            continue
        if name.endswith("bias"):
            p.normal_(0.0, 0.05)
        elif name == "y_embedder.embedding_table.weight":
            p.normal_(0.0, 0.5)
        else:
            fan_in = int(np.prod(p.shape[1:]))
            p.normal_(0.0, 1.0 / np.sqrt(fan_in))


def state_tensors(model, prefix=""):
    return {prefix + k: v.detach().clone() for k, v in model.state_dict().items()}


def check_every_piece_matters(model, x, t, y, out):
    """Zeroing any one block's attention or MLP output projection must change the output."""
    for i, blk in enumerate(model.blocks):
        for mod in [blk.attn.proj, blk.mlp.fc2] + ([blk.cross_attn.proj] if hasattr(blk, "cross_attn") else []):
            saved = (mod.weight.data.clone(), mod.bias.data.clone())
            mod.weight.data.zero_()
            mod.bias.data.zero_()
            with torch.no_grad():
                rel = ((model(x, t, y) - out).norm() / out.norm()).item()
            mod.weight.data.copy_(saved[0])
            mod.bias.data.copy_(saved[1])
            assert rel > 0.02, "block %d piece %s barely matters (rel %.4f)" % (i, mod, rel)


def model_fixture(path, cfg, seed):
    torch.manual_seed(seed)
    model = build(cfg)
    randomize(model)
    model.eval()
    c, h, nc = cfg["in_channels"], cfg["input_size"], cfg["num_classes"]
    n, m = 4, 2
    io = {}
    # eval-mode forward; t includes 0 and 999, y includes the null label
    x = torch.randn(n, c, h, h)
    t = torch.tensor([0, 999, 500, 37], dtype=torch.int64)
    y = torch.tensor([1, nc, 0, nc - 1], dtype=torch.int64)
    with torch.no_grad():
        out = model(x, t, y)
    io.update({"io.x": x, "io.t": t, "io.y": y, "io.out": out})
    check_every_piece_matters(model, x, t, y, out)
    # train mode with forced drops only (a force mask replaces the random draw)
    force = torch.tensor([1, 0, 0, 1], dtype=torch.int64)
    model.train()
    with torch.no_grad():
        out_fd = model(x, t, y, force_drop_ids=force)
    model.eval()
    io.update({"io.force_drop": force, "io.out_force_drop": out_fd})
    # classifier-free guidance: batch [z; z], labels [y; null]
    z = torch.randn(m, c, h, h)
    cfg_x = torch.cat([z, z])
    cfg_t = torch.tensor([250, 999, 250, 999], dtype=torch.int64)
    cfg_y = torch.cat([torch.tensor([3, 0], dtype=torch.int64), torch.full((m,), nc, dtype=torch.int64)])
    with torch.no_grad():
        cfg_out = model.forward_with_cfg(cfg_x, cfg_t, cfg_y, cfg["cfg_scale"])
        cfg_all = model.forward_with_cfg(cfg_x, cfg_t, cfg_y, cfg["cfg_scale"], all_channels=True)
    if c < 3:  # reference slicing [:, :3] also guides variance channels; offer the eps-only result
        with torch.no_grad():
            io["io.cfg_eps_only_out"] = model.forward_with_cfg(cfg_x, cfg_t, cfg_y, cfg["cfg_scale"],
                                                               guided_channels=c)
    io.update({"io.cfg_x": cfg_x, "io.cfg_t": cfg_t, "io.cfg_y": cfg_y,
               "io.cfg_out": cfg_out, "io.cfg_all_out": cfg_all})
    # gradients of loss = sum(out * grad_w), eval-mode forward on io.x/io.t/io.y
    grad_w = torch.randn_like(out)
    model.zero_grad()
    (model(x, t, y) * grad_w).sum().backward()
    grads = {"grad." + k: p.grad.detach().clone() for k, p in model.named_parameters() if p.requires_grad}
    assert len(grads) == sum(1 for k, _ in model.named_parameters() if k != "pos_embed")
    io["io.grad_w"] = grad_w
    # sanity: pos_embed is the spec's fixed sin-cos
    pe = ref.sincos_pos_embed_2d(cfg["hidden_size"], h // cfg["patch_size"])
    assert torch.equal(model.pos_embed[0], torch.from_numpy(pe).float())
    tensors = {**state_tensors(model), **io, **grads}
    save_checked(tensors, path, {"config": config_json(cfg)})
    return model


def param_counts_fixture(path):
    """§1 table: every config at 256 px, counted on the meta device, asserted against the spec."""
    result, per_piece = {}, {}
    for size in ("S", "B", "L", "XL"):
        for p in (2, 4, 8):
            name = "DiT-%s/%d" % (size, p)
            total, pieces = ref.count_params(ref.build_named(name))
            assert total == ref.SPEC_PARAM_COUNTS[name], (name, total)
            result[name], per_piece[name] = total, pieces
    result["pieces"] = per_piece  # per top-level state_dict prefix (pos_embed included)
    with open(path, "w") as f:
        json.dump(result, f, indent=1, sort_keys=False)
        f.write("\n")


def diffusion_fixture(path, loop_model, seed):
    torch.manual_seed(seed)
    base = ref.GaussianDiffusion(ref.linear_betas(1000))
    ts = {}
    for k in ("betas", "alphas_cumprod", "alphas_cumprod_prev", "posterior_variance",
              "posterior_log_variance_clipped", "posterior_mean_coef1", "posterior_mean_coef2"):
        ts["sched." + k] = getattr(base, k)
    # respacing: kept timesteps and the respaced chain's betas
    for spec in ("250", "ddim50", "10", "ddim10"):
        sp = ref.make_spaced(spec)
        ts["respace.%s.timesteps" % spec] = np.array(sp.timestep_map, dtype=np.int64)
        ts["respace.%s.betas" % spec] = sp.betas
    assert list(ts["respace.250.timesteps"][:3]) == [0, 4, 8] and ts["respace.250.timesteps"][-1] == 999
    # training loss from a given model output (no network)
    n, c, hw = 6, 4, 4
    x0 = torch.randint(0, 256, (n, c, hw, hw)).float() / 127.5 - 1.0  # image-like levels in [-1, 1]
    x0[0, 0, 0, :2] = torch.tensor([-1.0, 1.0])  # make sure both edge bins occur at t = 0
    t = torch.tensor([0, 1, 999, 500, 0, 123], dtype=torch.int64)
    noise = torch.randn(n, c, hw, hw)
    mo = torch.cat([torch.randn(n, c, hw, hw), torch.rand(n, c, hw, hw) * 2.2 - 1.1], dim=1)
    losses = base.training_losses(lambda xt, tt: mo, x0, t, noise)
    ts.update({"loss.x0": x0, "loss.t": t, "loss.noise": noise, "loss.model_output": mo,
               "loss.x_t": losses["x_t"], "loss.mse": losses["mse"], "loss.vb": losses["vb"],
               "loss.loss": losses["loss"]})
    # one step of the full 1000-step chain
    n = 4
    x_t = torch.randn(n, c, hw, hw)
    t = torch.tensor([0, 1, 500, 999], dtype=torch.int64)
    mo = torch.cat([torch.randn(n, c, hw, hw), torch.rand(n, c, hw, hw) * 2 - 1], dim=1)
    z = torch.randn(n, c, hw, hw)
    pmv = base.p_mean_variance(mo, x_t, t)
    ts.update({"step.x_t": x_t, "step.t": t, "step.model_output": mo, "step.noise": z,
               "step.mean": pmv["mean"], "step.log_variance": pmv["log_variance"],
               "step.pred_xstart": pmv["pred_xstart"],
               "step.ddpm_sample": base.p_sample(mo, x_t, t, z),
               "step.ddim_sample": base.ddim_sample(mo, x_t, t, z, eta=0.0),
               "step.ddim_sample_eta05": base.ddim_sample(mo, x_t, t, z, eta=0.5)})
    # 10-step guided loops with the tiny DiT of fixture 1
    m, cfg = 2, loop_model[1]
    model = loop_model[0]
    model.eval()
    x_T = torch.randn(m, 4, 8, 8)
    y = torch.tensor([7, 2], dtype=torch.int64)
    noises = torch.randn(10, 2 * m, 4, 8, 8)
    y_full = torch.cat([y, torch.full((m,), cfg["num_classes"], dtype=torch.int64)])

    def guided(x, tt):
        return model.forward_with_cfg(x, tt, y_full, CFG_SCALE)

    with torch.no_grad():
        z2 = torch.cat([x_T, x_T])
        ddpm = ref.sample_loop(ref.make_spaced("10"), guided, z2, noises)[:m]
        ddim = ref.sample_loop(ref.make_spaced("ddim10"), guided, z2, noises, ddim=True)[:m]
    ts.update({"loop.x_T": x_T, "loop.y": y, "loop.noises": noises,
               "loop.ddpm10_out": ddpm, "loop.ddim10_out": ddim})
    ts.update(state_tensors(model, "model."))
    save_checked(ts, path, {"loop_model_config": config_json(cfg), "loop_cfg_scale": str(CFG_SCALE)})


def _check_adamw(ts, settings):
    """Independent float64 AdamW (decoupled decay θ ← θ(1 − lr·wd) first, bias-corrected moments)."""
    for s, hp in enumerate(settings):
        (b1, b2), lr, eps, wd = hp["betas"], hp["lr"], hp["eps"], hp["weight_decay"]
        for j in range(2):
            th = ts["s%d.p%d.init" % (s, j)].double().numpy()
            m = v = 0.0
            for k in range(1, 4):
                g = ts["s%d.step%d.p%d.grad" % (s, k, j)].double().numpy()
                th = th * (1 - lr * wd)
                m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
                th = th - lr * (m / (1 - b1 ** k)) / (np.sqrt(v / (1 - b2 ** k)) + eps)
                got = ts["s%d.step%d.p%d.param" % (s, k, j)].double().numpy()
                assert np.allclose(got, th, rtol=0, atol=1e-6), (s, j, k)


def adamw_fixture(path, seed):
    torch.manual_seed(seed)
    settings = [dict(lr=1e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0),
                dict(lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)]
    ts = {}
    for s, hp in enumerate(settings):
        params = [torch.nn.Parameter(torch.randn(3, 4)), torch.nn.Parameter(torch.randn(5))]
        for j, p in enumerate(params):
            ts["s%d.p%d.init" % (s, j)] = p.detach().clone()
        opt = torch.optim.AdamW(params, foreach=False, **hp)
        for step in range(1, 4):
            for j, p in enumerate(params):
                p.grad = torch.randn_like(p) * (0.1 * step)
                ts["s%d.step%d.p%d.grad" % (s, step, j)] = p.grad.clone()
            opt.step()
            for j, p in enumerate(params):
                st = opt.state[p]
                ts["s%d.step%d.p%d.param" % (s, step, j)] = p.detach().clone()
                ts["s%d.step%d.p%d.exp_avg" % (s, step, j)] = st["exp_avg"].clone()
                ts["s%d.step%d.p%d.exp_avg_sq" % (s, step, j)] = st["exp_avg_sq"].clone()
    _check_adamw(ts, settings)
    meta = {"settings": json.dumps([dict(hp, betas=list(hp["betas"])) for hp in settings]),
            "optimizer": "torch.optim.AdamW (torch %s), amsgrad False, maximize False" % torch.__version__}
    save_checked(ts, path, meta)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    out = ap.parse_args().out
    os.makedirs(out, exist_ok=True)
    P = lambda f: os.path.join(out, f)  # noqa: E731

    models = [  # (file, config, seed)
        ("dit_tiny_adaln_zero.safetensors", dict(TINY, conditioning="adaln-zero"), 1),
        ("dit_tiny_adaln_zero_p4_nosigma.safetensors",
         dict(input_size=16, patch_size=4, in_channels=3, hidden_size=48, depth=2, num_heads=3,
              num_classes=5, learn_sigma=False, conditioning="adaln-zero"), 2),
        ("dit_pixel_28.safetensors",
         dict(input_size=28, patch_size=4, in_channels=1, hidden_size=32, depth=1, num_heads=2,
              num_classes=10, learn_sigma=True, conditioning="adaln-zero"), 3),
        ("dit_tiny_adaln.safetensors", dict(TINY, conditioning="adaln"), 4),
        ("dit_tiny_in_context.safetensors", dict(TINY, conditioning="in-context"), 5),
        ("dit_tiny_cross_attn.safetensors", dict(TINY, conditioning="cross-attn"), 6),
    ]
    written = []
    tiny = None
    for fname, cfg, seed in models:
        cfg = dict(cfg, cfg_scale=CFG_SCALE)
        model = model_fixture(P(fname), cfg, seed)
        if fname == "dit_tiny_adaln_zero.safetensors":
            tiny = (model, cfg)
        written.append(fname)
    param_counts_fixture(P("param_counts.json"))
    diffusion_fixture(P("diffusion.safetensors"), tiny, 100)
    adamw_fixture(P("adamw.safetensors"), 200)
    written += ["param_counts.json", "diffusion.safetensors", "adamw.safetensors"]

    for fname in written:  # every .safetensors was already read back and compared (save_checked)
        digest = hashlib.sha256(open(P(fname), "rb").read()).hexdigest()
        print("%-46s %9d bytes  sha256 %s" % (fname, os.path.getsize(P(fname)), digest[:16]))


if __name__ == "__main__":
    main()
