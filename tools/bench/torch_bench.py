#!/usr/bin/env python3
"""PyTorch side of the side-by-side benchmark (tools/bench/run.py runs it against `dit bench`).

The same cases as `dit bench step|fwdbwd|sample|memory`, on the reference DiT and diffusion of
tools/reference/dit_reference.py (written from the paper and the official code's recipe, fp32, eager), printing
the same parseable lines:

    result case=step model=demo.yaml batch=8 threads=1 steps=10 wall_s=0.123456 cpu_s=0.234567

wall_s is the median wall time per timed step, cpu_s the mean process CPU time (all threads) per timed step.

  step    the official training step: hybrid loss (mse + vb, learned sigma) -> opt.zero_grad(); loss.backward();
          AdamW(lr 1e-4, weight_decay 0).step(); EMA update (decay 0.9999), loss.item() each step (the official
          loop logs it); batch drawn from a fixed set of random N(0,1) latents
  fwdbwd  forward + backward alone, loss mean(out^2), random inputs each step
  sample  DDPM steps (respaced chain, e.g. 250) with classifier-free guidance, no autograd: per step one
          forward_with_cfg on the doubled batch and one p_sample
  memory  peak resident memory (VmHWM of /proc/self/status) of forward + backward, one fresh process per batch,
          and the slope between batches (activation bytes per sample)

Runs offline on CPU with torch >= 2 (tested with 2.13). Examples:
    python3 tools/bench/torch_bench.py step --config conf/demo.yaml --batch 8 --threads 1
    python3 tools/bench/torch_bench.py fwdbwd --model DiT-S/2 --batch 8 --threads 2
    python3 tools/bench/torch_bench.py memory --model DiT-XL/2 --batch 2,4 --threads 1
"""
import argparse
import copy
import os
import statistics
import subprocess
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
import dit_reference as ref  # noqa: E402


def model_spec(args):
    """(label, DiT kwargs, train section) from --config (the run config's model) or --model (a published name)."""
    if args.config:
        import yaml
        with open(args.config) as f:
            conf = yaml.safe_load(f)
        m = conf.get("model", {})
        train = conf.get("train", {}) or {}
        label = os.path.basename(args.config)
        if "name" in m:
            kw = named_kwargs(m["name"], m.get("image_size", 256))
        else:
            kw = dict(input_size=m["input_size"], patch_size=m["patch_size"], hidden_size=m["hidden_size"],
                      depth=m["depth"], num_heads=m["num_heads"])
        kw.update(in_channels=m.get("in_channels", 4), num_classes=m.get("num_classes", 1000),
                  learn_sigma=m.get("learn_sigma", True), class_dropout_prob=m.get("class_dropout_prob", 0.1),
                  conditioning=m.get("conditioning", "adaln-zero"))
        return label, kw, train
    kw = named_kwargs(args.model, args.image_size)
    kw.update(in_channels=4, num_classes=1000, learn_sigma=True)
    return args.model, kw, {}


def named_kwargs(name, image_size):
    size, p = name[len("DiT-"):].split("/")
    depth, d, heads = ref.DIT_CONFIGS[size]
    return dict(input_size=image_size // 8, patch_size=int(p), hidden_size=d, depth=depth, num_heads=heads)


def build(kw):
    torch.manual_seed(0)
    return ref.DiT(**kw)


def line(case, labels, wall, cpu):
    return "result case=%s %s steps=%d wall_s=%.6f cpu_s=%.6f" % (
        case, " ".join(labels), len(wall), statistics.median(wall), sum(cpu) / len(cpu))


class Clock:
    """Per-step wall (perf_counter) and process CPU (process_time, all threads) since the previous mark."""

    def __init__(self, skip):
        self.skip, self.seen, self.wall, self.cpu = skip, 0, [], []
        self.start()

    def start(self):
        self.t, self.c = time.perf_counter(), time.process_time()

    def mark(self):
        t, c = time.perf_counter(), time.process_time()
        if self.seen >= self.skip:
            self.wall.append(t - self.t)
            self.cpu.append(c - self.c)
        self.seen += 1
        self.t, self.c = t, c


@torch.no_grad()
def update_ema(ema_model, model, decay):
    """EMA of the weights, as the official training script keeps it: ema = decay*ema + (1-decay)*param."""
    ema = dict(ema_model.named_parameters())
    for name, p in model.named_parameters():
        ema[name].mul_(decay).add_(p.data, alpha=1 - decay)


def case_step(args, label, kw, train):
    model = build(kw)
    ema = copy.deepcopy(model)
    for p in ema.parameters():
        p.requires_grad_(False)
    model.train()
    ema.eval()
    lr = float(train.get("lr", 1e-4)) if args.config else 1e-4
    decay = float(train.get("ema_decay", 0.9999)) if args.config else 0.9999
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0)
    diffusion = ref.make_spaced("1000")
    c, s = kw["in_channels"], kw["input_size"]
    data = torch.randn(args.batch, c, s, s)  # the Java side also trains on `batch` random latents
    labels = torch.arange(args.batch) % kw["num_classes"]
    clock = Clock(args.warmup)
    for _ in range(args.warmup + args.iterations):
        x, y = data, labels
        t = torch.randint(0, diffusion.num_timesteps, (x.shape[0],))
        losses = diffusion.training_losses(lambda xt, tt: model(xt, tt, y), x, t, torch.randn_like(x))
        loss = losses["loss"].mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        update_ema(ema, model, decay)
        loss.item()
        clock.mark()
    return clock


def case_fwdbwd(args, label, kw, train):
    model = build(kw)
    c, s = kw["in_channels"], kw["input_size"]
    clock = Clock(args.warmup)
    for _ in range(args.warmup + args.iterations):
        fwdbwd_step(model, kw, args.batch)
        clock.mark()
    return clock


def fwdbwd_step(model, kw, batch):
    c, s = kw["in_channels"], kw["input_size"]
    x = torch.randn(batch, c, s, s)
    t = torch.randint(0, 1000, (batch,))
    y = torch.randint(0, kw["num_classes"], (batch,))
    model.zero_grad(set_to_none=True)
    out = model(x, t, y)
    (out * out).mean().backward()


@torch.no_grad()
def case_sample(args, label, kw, train):
    model = build(kw)
    model.eval()
    diffusion = ref.make_spaced(args.steps)
    c, s, n = kw["in_channels"], kw["input_size"], args.batch
    z = torch.randn(n, c, s, s)
    y = torch.arange(n) % kw["num_classes"]
    guided = args.cfg_scale > 1
    if guided:
        z = torch.cat([z, z], 0)
        y = torch.cat([y, torch.full((n,), kw["num_classes"])], 0)  # the null class
    tmap = torch.tensor(diffusion.timestep_map, dtype=torch.int64)
    clock = Clock(args.warmup)
    x = z
    for i in reversed(range(diffusion.num_timesteps)):
        t = torch.full((x.shape[0],), i, dtype=torch.int64)
        if guided:
            out = model.forward_with_cfg(x, tmap[t], y, args.cfg_scale)
        else:
            out = model(x, tmap[t], y)
        x = diffusion.p_sample(out, x, t, torch.randn_like(x))
        clock.mark()
    if args.warmup >= diffusion.num_timesteps:
        sys.exit("--warmup %d leaves no timed step of %d" % (args.warmup, diffusion.num_timesteps))
    return clock


def vmhwm_kb():
    with open("/proc/self/status") as f:
        for l in f:
            if l.startswith("VmHWM:"):
                return int(l.split()[1])
    raise SystemExit("/proc/self/status has no VmHWM (not Linux?)")


def memory_child(args, kw):
    model = build(kw)
    after_init = vmhwm_kb()
    for _ in range(2):
        fwdbwd_step(model, kw, args.batch)
    print("torch-bench-memory %d %d" % (after_init, vmhwm_kb()), flush=True)


def case_memory(args, label, kw):
    peaks = []
    for b in args.batches:
        cmd = [sys.executable, os.path.abspath(__file__), "memory-child", "--batch", str(b),
               "--threads", str(args.threads)]
        cmd += ["--config", args.config] if args.config else ["--model", args.model, "--image-size", str(args.image_size)]
        p = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
        res = [l for l in p.stdout.splitlines() if l.startswith("torch-bench-memory ")]
        if p.returncode != 0 or not res:
            sys.exit("memory: the child for batch %d exited with %d without a result" % (b, p.returncode))
        init_kb, peak_kb = map(int, res[-1].split()[1:])
        peaks.append((b, init_kb * 1024, peak_kb * 1024))
    print("%s forward+backward, threads %d: peak resident memory (VmHWM) of a fresh process per batch" % (
        label, args.threads))
    print("%6s %14s %14s" % ("batch", "after init MB", "peak MB"))
    for b, i, p in peaks:
        print("%6d %14.1f %14.1f" % (b, i / 1e6, p / 1e6))
    for b, i, p in peaks:
        print("result case=memory model=%s batch=%d threads=%d init_mb=%.1f peak_mb=%.1f" % (
            label, b, args.threads, i / 1e6, p / 1e6))
    if len(peaks) > 1 and peaks[-1][0] != peaks[0][0]:
        slope = (peaks[-1][2] - peaks[0][2]) / (peaks[-1][0] - peaks[0][0])
        print("activations: %.1f MB per sample (slope between batch %d and %d)" % (slope / 1e6, peaks[0][0], peaks[-1][0]))
        print("result case=memory-per-sample model=%s threads=%d mb_per_sample=%.1f" % (label, args.threads, slope / 1e6))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("case", choices=["step", "fwdbwd", "sample", "memory", "memory-child"])
    ap.add_argument("--config", help="a run config (its model: section, and train.lr / train.ema_decay)")
    ap.add_argument("--model", default="DiT-S/2", help="a published DiT name (when no --config)")
    ap.add_argument("--image-size", type=int, default=256)
    ap.add_argument("--batch", default="8", help="images per step (memory: comma-separated, default 2,4)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--iterations", type=int, default=5, help="timed steps")
    ap.add_argument("--warmup", type=int, default=1, help="untimed steps first")
    ap.add_argument("--steps", default="250", help="sample: the respaced DDPM chain")
    ap.add_argument("--cfg-scale", type=float, default=4.0)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    label, kw, train = model_spec(args)
    if args.case == "memory":
        args.batches = [int(b) for b in (args.batch if args.batch != "8" else "2,4").split(",")]
        case_memory(args, label, kw)
        return
    args.batch = int(args.batch)
    if args.case == "memory-child":
        memory_child(args, kw)
        return
    clock = {"step": case_step, "fwdbwd": case_fwdbwd, "sample": case_sample}[args.case](args, label, kw, train)
    labels = ["model=" + label, "batch=%d" % args.batch, "threads=%d" % args.threads]
    if args.case == "sample":
        labels += ["ddpm=" + args.steps, "cfg=%s" % float(args.cfg_scale)]
    print(line(args.case, labels, clock.wall, clock.cpu), flush=True)


if __name__ == "__main__":
    main()
