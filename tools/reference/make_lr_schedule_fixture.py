#!/usr/bin/env python3
"""Fixture for LrScheduleTest: the learning rate torch's schedulers give each optimizer step.

- cosine: torch.optim.lr_scheduler.CosineAnnealingLR(T_max=max_steps, eta_min=0), the rate of step t (0-based)
  being the optimizer's lr after t scheduler.step() calls;
- cosine with a linear warm-up of W steps: LambdaLR with factor min(1, (t + 1) / W) * (1 + cos(pi t / T)) / 2.
Any torch >= 1.13 (Debian's python3-torch or the pip wheel):

    python3 tools/reference/make_lr_schedule_fixture.py > core/src/test/resources/fixtures/lr_schedule.json
"""
import json
import math

import torch


def trajectory(make_scheduler, lr, steps):
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.AdamW([p], lr=lr)
    sched = make_scheduler(opt)
    rates = []
    for _ in range(steps):
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return rates


def main():
    lr, max_steps, warmup = 1e-3, 50, 8
    cosine = trajectory(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=max_steps, eta_min=0.0),
                        lr, max_steps)
    warm = trajectory(lambda o: torch.optim.lr_scheduler.LambdaLR(
        o, lambda t: min(1.0, (t + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * t / max_steps))), lr, max_steps)
    print(json.dumps({"torch": torch.__version__, "lr": lr, "max_steps": max_steps, "warmup": warmup,
                      "cosine": cosine, "cosine_warmup": warm}))


if __name__ == "__main__":
    main()
