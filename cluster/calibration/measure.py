#!/usr/bin/env python3
"""Calibration measurements for clustersim's compute model (package cluster).

Run on one GPU (it needs PyTorch with CUDA); writes one JSON file of timings:

    python3 cluster/calibration/measure.py --out h100-sxm.json

What it measures, at the shapes the built-in models use (tensor-parallel shards
of Llama 3 8B/70B/405B, GPT-3 175B and the Megatron SC21 Table 1 GPT models):
  * bf16 GEMMs: forward (M,K)x(K,N), data-gradient (M,N)x(N,K) and
    weight-gradient (K,M)x(M,N) products of every linear layer, plus squares;
  * fp8 (e4m3) GEMMs through torch._scaled_mm on a subset;
  * attention (scaled_dot_product_attention, causal and not, GQA and MHA),
    forward and forward+backward, for the flash and cuDNN backends;
  * memory-bound kernels (copy, add, RMSNorm, SwiGLU) and kernel launch cost;
  * one transformer layer's forward and backward in eager PyTorch at the
    shard shapes, collectives stood in for (section "layer"), with a kernel
    profile: a check of the compute model as a whole (sim/step/testdata);
  * with --soak S, S seconds of one product back to back (heat soak) and the
    same beside a concurrent copy.
Sections can be chosen with --sections (e.g. --sections layer).
Each timing is the median of CUDA-event-timed repetitions after warm-up, on
random normal data. The script is short by design (about three minutes on an
H100 for the kernel sections, seconds for the layer) so that it fits one
lease of the workplace's device machine. Runs so far (files in
cluster/testdata and sim/step/testdata): 2026-11-26 on one NVIDIA H100 80GB
HBM3 SXM, driver 580.159.04, PyTorch 2.11.0+cu130, cuDNN 9.19.
"""
import argparse
import datetime
import json
import math
import statistics
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

DEV = "cuda"
BUDGET_S = 240.0
T0 = time.time()


def timed(fn, target_s=0.03, min_reps=3, max_reps=50):
    """Median seconds of fn() over repetitions timed with CUDA events."""
    fn()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    fn()
    end.record()
    torch.cuda.synchronize()
    first = start.elapsed_time(end) / 1e3
    reps = int(min(max_reps, max(min_reps, target_s / max(first, 1e-6))))
    for _ in range(2):
        fn()
    times = []
    for _ in range(reps):
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / 1e3)
    return statistics.median(times)


def over_budget():
    return time.time() - T0 > BUDGET_S


# (name, hidden, K_in, N_out) of each TP-sharded linear layer.
def linears():
    out = []

    def llama(name, h, f, heads, kv, vocab, tp):
        d = h // heads
        out.extend([
            (name, "qkv", h, (h + 2 * kv * d) // tp),
            (name, "o", h // tp, h),
            (name, "up", h, 2 * f // tp),
            (name, "down", f // tp, h),
            (name, "head", h, vocab // tp),
        ])

    def gpt(name, h, tp, vocab=51200):
        out.extend([
            (name, "qkv", h, 3 * h // tp),
            (name, "o", h // tp, h),
            (name, "fc1", h, 4 * h // tp),
            (name, "fc2", 4 * h // tp, h),
            (name, "head", h, vocab // tp),
        ])

    llama("llama3-405b-tp8", 16384, 53248, 128, 8, 128256, 8)
    llama("llama3-70b-tp8", 8192, 28672, 64, 8, 128256, 8)
    llama("llama3-70b-tp4", 8192, 28672, 64, 8, 128256, 4)
    llama("llama3-8b-tp1", 4096, 14336, 32, 8, 128256, 1)
    gpt("gpt3-175b-tp8", 12288, 8)
    for h, tp in [(2304, 1), (3072, 2), (4096, 4), (6144, 8), (8192, 8), (10240, 8),
                  (16384, 8), (20480, 8), (25600, 8)]:
        gpt(f"gpt-h{h}-tp{tp}", h, tp)
    return out


def gemm_flops(m, n, k):
    return 2.0 * m * n * k


def bench_gemms(results):
    rows = []
    seen = set()
    cases = []
    for model, layer, k, n in linears():
        tokens = [4096, 8192, 16384] if model.startswith("llama") or model.startswith("gpt3") else [2048, 8192, 32768]
        for m in tokens:
            cases.append((model, layer, "fwd", m, n, k))
            cases.append((model, layer, "dgrad", m, k, n))
            cases.append((model, layer, "wgrad", k, n, m))
    for s in [256, 512, 1024, 2048, 4096, 8192, 16384]:
        cases.append(("square", "square", "fwd", s, s, s))
    for model, layer, kind, m, n, k in cases:
        key = (m, n, k)
        if key in seen:
            continue
        seen.add(key)
        if over_budget():
            break
        a = torch.randn(m, k, device=DEV, dtype=torch.bfloat16)
        b = torch.randn(k, n, device=DEV, dtype=torch.bfloat16)
        t = timed(lambda: torch.matmul(a, b))
        rows.append({"model": model, "layer": layer, "kind": kind, "m": m, "n": n, "k": k,
                     "seconds": t, "tflops": gemm_flops(m, n, k) / t / 1e12})
        del a, b
    results["gemm_bf16"] = rows


def bench_fp8(results):
    rows = []
    if not hasattr(torch, "_scaled_mm"):
        results["gemm_fp8_error"] = "torch._scaled_mm missing"
        return
    shapes = [(s, s, s) for s in [1024, 2048, 4096, 8192, 16384]]
    shapes += [(8192, 2304, 16384), (8192, 16384, 2048), (8192, 13312, 16384), (8192, 16384, 6656),
               (8192, 1280, 8192), (8192, 8192, 1024), (8192, 7168, 8192), (8192, 8192, 3584),
               (8192, 6144, 4096), (8192, 28672, 4096), (8192, 4096, 14336)]
    one = torch.tensor(1.0, device=DEV)
    for m, n, k in shapes:
        if over_budget():
            break
        try:
            a = torch.randn(m, k, device=DEV).to(torch.float8_e4m3fn)
            b = torch.randn(n, k, device=DEV).to(torch.float8_e4m3fn).t()
            t = timed(lambda: torch._scaled_mm(a, b, scale_a=one, scale_b=one, out_dtype=torch.bfloat16))
            rows.append({"m": m, "n": n, "k": k, "seconds": t, "tflops": gemm_flops(m, n, k) / t / 1e12})
        except Exception as e:  # noqa: BLE001
            results["gemm_fp8_error"] = repr(e)
            break
    results["gemm_fp8"] = rows


def attn_flops_fwd(b, hq, sq, sk, d, causal):
    f = 4.0 * b * hq * sq * sk * d
    return f / 2 if causal else f


def bench_attention(results):
    from torch.nn.attention import SDPBackend, sdpa_kernel

    backends = {"flash": SDPBackend.FLASH_ATTENTION, "cudnn": SDPBackend.CUDNN_ATTENTION}
    # (label, batch, q heads, kv heads, q len, kv len, causal)
    cases = []
    for s in [2048, 4096, 8192, 16384, 32768]:
        cases.append(("llama3-405b-tp8", 1, 16, 1, s, s, True))
    for s in [2048, 8192, 32768]:
        cases.append(("llama3-70b-tp8", 1, 8, 1, s, s, True))
        cases.append(("llama3-8b-tp1", 1, 32, 8, s, s, True))
    # context parallel: a local 8K query block against longer gathered keys
    for sk in [16384, 65536, 131072]:
        cases.append(("llama3-405b-cp", 1, 16, 1, 8192, sk, False))
    for b, h in [(16, 24), (8, 6), (4, 8), (1, 12), (1, 16)]:
        cases.append((f"gpt-mha-b{b}-h{h}", b, h, h, 2048, 2048, True))
    rows = []
    d = 128
    for label, b, hq, hkv, sq, sk, causal in cases:
        for bname, backend in backends.items():
            if over_budget():
                break
            try:
                q = torch.randn(b, hq, sq, d, device=DEV, dtype=torch.bfloat16, requires_grad=True)
                k = torch.randn(b, hkv, sk, d, device=DEV, dtype=torch.bfloat16)
                v = torch.randn(b, hkv, sk, d, device=DEV, dtype=torch.bfloat16)
                if hkv != hq:
                    k = k.repeat_interleave(hq // hkv, dim=1)
                    v = v.repeat_interleave(hq // hkv, dim=1)
                k.requires_grad_(True)
                v.requires_grad_(True)
                with sdpa_kernel([backend]):
                    fwd = lambda: F.scaled_dot_product_attention(q, k, v, is_causal=causal)
                    tf = timed(fwd)
                    o = fwd()
                    g = torch.randn_like(o)

                    def fwdbwd():
                        out = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
                        torch.autograd.grad(out, (q, k, v), g)

                    tfb = timed(fwdbwd)
                ff = attn_flops_fwd(b, hq, sq, sk, d, causal)
                rows.append({"case": label, "backend": bname, "b": b, "hq": hq, "hkv": hkv, "sq": sq, "sk": sk,
                             "d": d, "causal": causal, "fwd_s": tf, "fwdbwd_s": tfb,
                             "fwd_tflops": ff / tf / 1e12, "bwd_tflops": 2 * ff / max(tfb - tf, 1e-9) / 1e12})
                del q, k, v, o, g
            except Exception as e:  # noqa: BLE001
                rows.append({"case": label, "backend": bname, "sq": sq, "sk": sk, "error": repr(e)[:200]})
    results["attention"] = rows


def bench_memory(results):
    rows = []
    for rows_, cols in [(8192, 2048), (8192, 16384), (16384, 16384)]:
        x = torch.randn(rows_, cols, device=DEV, dtype=torch.bfloat16)
        y = torch.randn_like(x)
        w = torch.randn(cols, device=DEV, dtype=torch.bfloat16)
        nbytes = x.numel() * 2
        ops = {
            "copy": (lambda: x.clone(), 2 * nbytes),
            "add": (lambda: x + y, 3 * nbytes),
            "rmsnorm": (lambda: F.rms_norm(x, (cols,), w), 2 * nbytes),
            "swiglu": (lambda: F.silu(x) * y, 3 * nbytes),
        }
        for name, (fn, moved) in ops.items():
            t = timed(fn)
            rows.append({"op": name, "rows": rows_, "cols": cols, "bytes": moved, "seconds": t,
                         "gb_per_s": moved / t / 1e9})
    small = torch.randn(16, device=DEV)
    results["launch_s"] = timed(lambda: small.add_(1.0), target_s=0.01, min_reps=50, max_reps=200)
    results["memory_bound"] = rows


def bench_unfused(results):
    """Attention without a fused kernel (Megatron 2021 style): two batched GEMMs
    around a softmax that materialises the b*a*s*s scores, timed as a whole and
    by part, to check a decomposition into GEMMs plus memory-bound passes."""
    from torch.nn.attention import SDPBackend, sdpa_kernel

    rows = []
    d = 128
    for b, h, s in [(16, 24, 2048), (8, 6, 2048), (4, 8, 2048), (1, 12, 2048), (2, 16, 2048)]:
        if over_budget():
            break
        q = torch.randn(b, h, s, d, device=DEV, dtype=torch.bfloat16, requires_grad=True)
        k = torch.randn_like(q, requires_grad=True)
        v = torch.randn_like(q, requires_grad=True)
        with sdpa_kernel([SDPBackend.MATH]):
            fwd = lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True)
            tf = timed(fwd)
            o = fwd()
            g = torch.randn_like(o)

            def fwdbwd():
                out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
                torch.autograd.grad(out, (q, k, v), g)

            tfb = timed(fwdbwd)
        qb, kb = q.detach().reshape(b * h, s, d), k.detach().reshape(b * h, s, d)
        t_bmm = timed(lambda: torch.bmm(qb, kb.transpose(1, 2)))
        sc = torch.randn(b * h, s, s, device=DEV, dtype=torch.bfloat16)
        t_softmax = timed(lambda: torch.softmax(sc, dim=-1))
        rows.append({"b": b, "h": h, "s": s, "d": d, "fwd_s": tf, "fwdbwd_s": tfb, "bmm_qk_s": t_bmm,
                     "bmm_qk_tflops": 2.0 * b * h * s * s * d / t_bmm / 1e12,
                     "softmax_s": t_softmax, "softmax_gb_per_s": 2 * sc.numel() * 2 / t_softmax / 1e9})
        del q, k, v, o, g, sc
    results["attention_unfused"] = rows


def bench_misc(results):
    """Kernels between the GEMMs: cross-entropy over the vocabulary shard, GELU,
    LayerNorm forward and backward, rotary embedding."""
    rows = []
    for tokens, vocab in [(8192, 16032), (8192, 128256), (16384, 6400)]:
        x = torch.randn(tokens, vocab, device=DEV, dtype=torch.bfloat16, requires_grad=True)
        y = torch.randint(0, vocab, (tokens,), device=DEV)
        t = timed(lambda: torch.autograd.grad(F.cross_entropy(x.float(), y), x))
        rows.append({"op": "cross_entropy_fwdbwd", "rows": tokens, "cols": vocab, "bytes": 2 * x.numel() * 2,
                     "seconds": t})
        del x
    for rows_, cols in [(8192, 16384), (32768, 9216)]:
        x = torch.randn(rows_, cols, device=DEV, dtype=torch.bfloat16, requires_grad=True)
        t = timed(lambda: F.gelu(x))
        rows.append({"op": "gelu_fwd", "rows": rows_, "cols": cols, "bytes": 2 * x.numel() * 2, "seconds": t})
        w = torch.ones(cols, device=DEV, dtype=torch.bfloat16, requires_grad=True)
        g = torch.randn_like(x)
        t = timed(lambda: torch.autograd.grad(F.layer_norm(x, (cols,), w), (x, w), g))
        rows.append({"op": "layernorm_fwdbwd", "rows": rows_, "cols": cols, "bytes": 5 * x.numel() * 2,
                     "seconds": t})
        del x, g
    for r in rows:
        r["gb_per_s"] = r["bytes"] / r["seconds"] / 1e9
    results["misc"] = rows


class _FakeGather(torch.autograd.Function):
    """Stands in for the sequence-parallel all-gather without communicating:
    the local rows land in their slice of a preallocated full buffer (the
    other slices hold whatever they held), and the backward returns the local
    slice of the gradient, as a reduce-scatter would, without the sum."""

    @staticmethod
    def forward(ctx, x, buf):
        out = torch.empty_like(buf)  # a fresh buffer, as the collective writes one
        out[: x.shape[0]].copy_(x)
        return out

    @staticmethod
    def backward(ctx, g):
        return g[: g.shape[0] // ctx_tp[0]].clone(), None


class _FakeScatter(torch.autograd.Function):
    """Stands in for the sequence-parallel reduce-scatter: the forward keeps
    the local rows, the backward puts the gradient in its slice of a full
    buffer."""

    @staticmethod
    def forward(ctx, x, buf):
        ctx.shape = buf.shape
        return x[: x.shape[0] // ctx_tp[0]].clone()

    @staticmethod
    def backward(ctx, g):
        out = g.new_empty(ctx.shape)
        out[: g.shape[0]].copy_(g)
        return out, None


ctx_tp = [8]


def bench_layer(results):
    """One transformer layer's forward and backward on one GPU at the
    tensor-parallel shard shapes (sequence parallel, micro batch 1), in plain
    eager PyTorch with autograd: the GEMMs, cuDNN attention, RMSNorm, RoPE,
    SwiGLU, residuals and the layout copies between them, with the
    collectives replaced by free stand-ins, so the time is the compute a
    framework really spends per layer. A CUDA profile splits it into kernel
    time by kind and the gaps between kernels."""
    from torch.nn.attention import SDPBackend, sdpa_kernel

    cases = [
        # label, hidden, ffn, heads, kv heads, tp, tokens (local rows), keys (sequence)
        ("llama3-405b-tp8", 16384, 53248, 128, 8, 8, 8192, 8192),
        ("llama3-405b-tp8-cp16-128k", 16384, 53248, 128, 8, 8, 8192, 131072),
        ("llama3-70b-tp8", 8192, 28672, 64, 8, 8, 8192, 8192),
        ("llama3-8b-tp2", 4096, 14336, 32, 8, 2, 8192, 8192),
    ]
    rows = []
    for label, h, f, heads, kvh, tp, T, S in cases:
        if over_budget():
            break
        ctx_tp[0] = tp
        d = h // heads
        hq, hk = heads // tp, max(kvh // tp, 1)
        fs = f // tp
        bf = dict(device=DEV, dtype=torch.bfloat16)
        w_qkv = (torch.randn(h, (hq + 2 * hk) * d, **bf) * 0.01).requires_grad_()
        w_o = (torch.randn(hq * d, h, **bf) * 0.01).requires_grad_()
        w_up = (torch.randn(h, 2 * fs, **bf) * 0.01).requires_grad_()
        w_down = (torch.randn(fs, h, **bf) * 0.01).requires_grad_()
        n1 = torch.ones(h, **bf).requires_grad_()
        n2 = torch.ones(h, **bf).requires_grad_()
        params = [w_qkv, w_o, w_up, w_down, n1, n2]
        x = torch.randn(T // tp, h, **bf).requires_grad_()
        gbuf = torch.empty(T, h, **bf)
        sbuf = torch.empty(T, h, **bf)
        pos = torch.arange(T, device=DEV, dtype=torch.float32)
        inv = 1.0 / (500000 ** (torch.arange(0, d, 2, device=DEV, dtype=torch.float32) / d))
        ang = torch.outer(pos, inv)
        cos = torch.cat([ang.cos(), ang.cos()], -1).to(torch.bfloat16)[:, None, :]
        sin = torch.cat([ang.sin(), ang.sin()], -1).to(torch.bfloat16)[:, None, :]
        # context parallelism: the local rows attend to gathered keys; a
        # load-balanced causal chunk does the work of S/2 keys unmasked
        kv_extra = max(S // T // 2, 1)

        def rope(t):
            t1, t2 = t[..., : d // 2], t[..., d // 2:]
            return t * cos + torch.cat([-t2, t1], -1) * sin

        def layer(x):
            a = F.rms_norm(x, (h,), n1)
            a = _FakeGather.apply(a, gbuf)
            qkv = a @ w_qkv
            q, k, v = qkv.split([hq * d, hk * d, hk * d], -1)
            q = rope(q.view(T, hq, d))
            k = rope(k.view(T, hk, d))
            v = v.view(T, hk, d)
            if kv_extra > 1:
                k = k.repeat(kv_extra, 1, 1)
                v = v.repeat(kv_extra, 1, 1)
            q, k, v = (t.transpose(0, 1).unsqueeze(0) for t in (q, k, v))
            if hk != hq:
                k = k.repeat_interleave(hq // hk, dim=1)
                v = v.repeat_interleave(hq // hk, dim=1)
            with sdpa_kernel([SDPBackend.CUDNN_ATTENTION]):
                o = F.scaled_dot_product_attention(q, k, v, is_causal=S == T)
            o = o.squeeze(0).transpose(0, 1).reshape(T, hq * d)
            y = _FakeScatter.apply(o @ w_o, sbuf) + x
            b = F.rms_norm(y, (h,), n2)
            b = _FakeGather.apply(b, gbuf)
            g, u = (b @ w_up).split([fs, fs], -1)
            z = _FakeScatter.apply((F.silu(g) * u) @ w_down, sbuf)
            return z + y

        grad = torch.randn(T // tp, h, **bf)

        def step():
            out = layer(x)
            out.backward(grad)

        try:
            t = timed(step, target_s=0.5, min_reps=5, max_reps=30)
            for p_ in params:
                p_.grad = None
            torch.cuda.synchronize()
            # fp32 gradient accumulation as a separate kernel per weight
            main = [torch.zeros(p_.shape, device=DEV, dtype=torch.float32) for p_ in params[:4]]
            bgrads = [torch.randn(p_.shape, **bf) for p_ in params[:4]]
            t_acc = timed(lambda: [m.add_(g_.float()) for m, g_ in zip(main, bgrads)], target_s=0.1)
            prof_rows = {}
            from torch.profiler import ProfilerActivity, profile
            with profile(activities=[ProfilerActivity.CUDA]) as prof:
                for _ in range(3):
                    step()
                torch.cuda.synchronize()
            kernel_us = 0.0
            for e in prof.key_averages():
                us = getattr(e, "device_time_total", None) or getattr(e, "cuda_time_total", 0)
                if us <= 0:
                    continue
                kernel_us += us
                prof_rows[e.key[:80]] = prof_rows.get(e.key[:80], 0) + us / 3
            top = sorted(prof_rows.items(), key=lambda kv: -kv[1])[:25]
            rows.append({"case": label, "hidden": h, "ffn": f, "heads": heads, "kv_heads": kvh, "tp": tp,
                         "tokens": T, "keys": S, "fwdbwd_s": t, "kernel_s": kernel_us / 3 / 1e6,
                         "fp32_grad_accumulate_s": t_acc, "top_kernels_us": top})
        except Exception as e:  # noqa: BLE001
            rows.append({"case": label, "error": repr(e)[:300]})
        for p_ in params:
            p_.grad = None
        del w_qkv, w_o, w_up, w_down, x, gbuf, sbuf, params
        torch.cuda.empty_cache()
    results["layer"] = rows


def smi():
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=clocks.sm,temperature.gpu,power.draw",
                              "--format=csv,noheader,nounits"], capture_output=True, text=True, timeout=10).stdout
        clk, temp, power = [float(x) for x in out.strip().split(",")]
        return {"sm_mhz": clk, "temp_c": temp, "power_w": power}
    except Exception as e:  # noqa: BLE001
        return {"error": repr(e)[:100]}


def bench_soak(results, seconds):
    """Heat soak: one production-shaped product (Llama 3 405B MLP up, tp 8,
    8192 tokens) back to back for `seconds`, throughput and clocks sampled
    every few seconds, as a training step keeps the GPU busy for minutes;
    then the same with a concurrent device-to-device copy on a second stream
    (the HBM and SM traffic of a collective running beside the products)."""
    m, n, k = 8192, 13312, 16384
    a = torch.randn(m, k, device=DEV, dtype=torch.bfloat16)
    b = torch.randn(k, n, device=DEV, dtype=torch.bfloat16)
    c = torch.empty(m, n, device=DEV, dtype=torch.bfloat16)
    flops = gemm_flops(m, n, k)
    samples = []
    t_end = time.time() + seconds
    while time.time() < t_end:
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        reps = 200
        start.record()
        for _ in range(reps):
            torch.matmul(a, b, out=c)
        end.record()
        end.synchronize()
        dt = start.elapsed_time(end) / 1e3
        rec = {"t": round(time.time() - (t_end - seconds), 1), "tflops": flops * reps / dt / 1e12}
        rec.update(smi())
        samples.append(rec)
    results["soak"] = samples
    # interference: a copy of 1 GiB on another stream, looping, while the products run
    src = torch.empty(2**29, device=DEV, dtype=torch.bfloat16)
    dst = torch.empty_like(src)
    side = torch.cuda.Stream()
    inter = []
    for _ in range(3):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        with torch.cuda.stream(side):
            for _ in range(60):
                dst.copy_(src)
        start.record()
        for _ in range(100):
            torch.matmul(a, b, out=c)
        end.record()
        end.synchronize()
        torch.cuda.synchronize()
        inter.append(flops * 100 / (start.elapsed_time(end) / 1e3) / 1e12)
    results["soak_with_copy_tflops"] = inter


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--soak", type=float, default=0, help="seconds of heat-soaked GEMM after the sweep (0: none)")
    ap.add_argument("--sections", default="memory,attention,gemm,fp8,unfused,misc,layer",
                    help="comma-separated sections to run")
    args = ap.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False
    props = torch.cuda.get_device_properties(0)
    results = {
        "date": datetime.date.today().isoformat(),
        "device": props.name,
        "sms": props.multi_processor_count,
        "memory_gib": props.total_memory / 2**30,
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version(),
    }
    try:
        results["nvidia_smi"] = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,driver_version,clocks.max.sm,power.limit", "--format=csv,noheader"],
            capture_output=True, text=True, timeout=20).stdout.strip()
    except Exception as e:  # noqa: BLE001
        results["nvidia_smi"] = repr(e)
    wanted = set(args.sections.split(","))
    for name, fn in [("memory", bench_memory), ("attention", bench_attention), ("gemm", bench_gemms), ("fp8", bench_fp8),
                     ("unfused", bench_unfused), ("misc", bench_misc), ("layer", bench_layer)] + (
                        [("soak", lambda r: bench_soak(r, args.soak))] if args.soak > 0 else []):
        if name not in wanted and name != "soak":
            continue
        t = time.time()
        try:
            fn(results)
        except Exception as e:  # noqa: BLE001 -- keep what was measured so far
            results[name + "_error"] = repr(e)[:300]
        print(f"{name}: {time.time() - t:.1f}s", file=sys.stderr, flush=True)
        results["elapsed_s"] = time.time() - T0
        with open(args.out, "w") as f:
            json.dump(results, f, indent=1)
    g = results.get("gemm_bf16", [])
    if g:
        print(f"{len(g)} bf16 GEMMs, best {max(r['tflops'] for r in g):.0f} TFLOPS; "
              f"{len(results.get('attention', []))} attention rows; elapsed {results['elapsed_s']:.0f}s")
    for r in results.get("layer", []):
        if "error" in r:
            print(r["case"], "error", r["error"])
            continue
        print(f"{r['case']}: layer fwd+bwd {r['fwdbwd_s'] * 1e3:.2f} ms, kernels {r['kernel_s'] * 1e3:.2f} ms, "
              f"fp32 accumulate {r['fp32_grad_accumulate_s'] * 1e3:.2f} ms")
        for k, us in r["top_kernels_us"][:12]:
            print(f"   {us / 1e3:8.3f} ms  {k}")


if __name__ == "__main__":
    main()
