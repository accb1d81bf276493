"""
Speed of a Dynamos training step next to the Eq. 8 baseline, DER++, ER and SGD.

All models are built the way ``mammoth/main.py`` builds them, on Seq-MNIST shapes (batch 10,
replay batch 10, 1x28x28 inputs, 10 classes), on the same backbone family (``gated-resnet``
for Dynamos, its un-gated twin for the others), with a fixed number of torch threads. In one
process, the models take turns (``--rounds`` rounds of ``--steps`` steps each, after a
warm-up that fills the buffers), and each step is timed around ``meta_observe`` with the batches
already in memory. Also measured: evaluation throughput (thresholded agents), the peak
resident memory of a process that trains each model (a fresh subprocess per model, as RSS is
a per-process high-water mark), and the wall time of a capped real run of ``mammoth/main.py``.

    .venv/bin/python benchmarks/bench_step.py [--threads 2] [--base_path DIR] [--out results/benchmarks]

writes ``results/benchmarks/benchmark.json`` and ``results/benchmarks/benchmark.md``. The data folder
(``--base_path``, MNIST in ``DIR/MNIST/raw/``) defaults to ``$DYNAMOS_DATA``, else ``<repo>/data``.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from dynamos_plugin.mammoth_glue import MAMMOTH, REPO, default_data_path

TARGET = 1.25  # a Dynamos step may cost at most this many DER++ steps

COMMON = ['--dataset', 'seq-mnist', '--batch_size', '10', '--seed', '0', '--non_verbose', '1']
MODELS = {
    'dynamos': ['--model', 'dynamos', '--buffer_size', '500', '--warmup', '0'],
    'msa': ['--model', 'msa', '--buffer_size', '500'],
    'derpp': ['--model', 'derpp', '--buffer_size', '500', '--backbone', 'ungated-resnet', '--minibatch_size', '10',
              '--lr', '0.03', '--alpha', '1.0', '--beta', '0.5'],
    'er': ['--model', 'er', '--buffer_size', '500', '--backbone', 'ungated-resnet', '--minibatch_size', '10', '--lr', '0.1'],
    'sgd': ['--model', 'sgd', '--backbone', 'ungated-resnet', '--lr', '0.07'],
}


def build(name: str, base_path: str):
    """A model and its dataset, as mammoth/main.py builds them, with task 1 begun."""
    import main
    args = main.parse_args(MODELS[name] + COMMON + ['--base_path', base_path])
    model, dataset, args = main.initialize(args)
    model.net.to(model.device)
    loader, test_loader = dataset.get_data_loaders()
    model.meta_begin_task(dataset)
    model.net.train()
    return model, loader, test_loader


def batches(loader, n):
    out = []
    for data in loader:
        out.append(tuple(t for t in data[:3]))
        if len(out) == n:
            break
    return out


def time_steps(model, data) -> list:
    times = []
    for x, y, x0 in data:
        start = time.perf_counter()
        model.meta_observe(x, y, x0, epoch=0)
        times.append(time.perf_counter() - start)
    return times


def eval_throughput(model, test_loader, n_images=2560) -> float:
    import torch
    images = torch.cat([x for x, *_ in test_loader])[:n_images]
    model.net.eval()
    with torch.no_grad():
        model(images[:256])
        start = time.perf_counter()
        for i in range(0, len(images), 256):
            model(images[i:i + 256])
        elapsed = time.perf_counter() - start
    model.net.train()
    return len(images) / elapsed


def rss_mb() -> float:
    """Current resident memory of this process (Linux /proc)."""
    for line in Path('/proc/self/status').read_text().splitlines():
        if line.startswith('VmRSS:'):
            return int(line.split()[1]) / 1024
    return float('nan')


def memory_mb(name: str, base_path: str, threads: int, steps: int) -> dict:
    """Memory of a fresh process that builds the model and trains it for ``steps`` steps (MB).

    ``peak_rss``: the process's high-water mark (imports, data and training together);
    ``training_growth``: resident memory after the steps minus before them (buffer, activations, optimizer).
    """
    code = (f'import sys; sys.path.insert(0, {str(REPO / "benchmarks")!r}); import bench_step as b; '
            f'b.setup({threads}); m, l, _ = b.build({name!r}, {base_path!r}); d = b.batches(l, {steps}); '
            f'before = b.rss_mb(); b.time_steps(m, d); after = b.rss_mb(); '
            'import resource; print("MEM", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, after - before)')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, cwd=MAMMOTH)
    line = [l for l in out.stdout.splitlines() if l.startswith('MEM')]
    if not line:
        raise RuntimeError(f'memory probe for {name} failed:\n{out.stderr[-2000:]}')
    peak, growth = map(float, line[0].split()[1:])
    return {'peak_rss': peak, 'training_growth': growth}


def capped_run(model_args, base_path, threads) -> float:
    """Wall time (s) of `mammoth/main.py ... --debug_mode 1`: start-up, a few steps per task, short evaluations."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, str(MAMMOTH / 'main.py'), *model_args, *COMMON, '--base_path', base_path,
                           '--debug_mode', '1', '--results_path', '/tmp/dynamos-bench'], env=env, capture_output=True,
                          text=True, cwd=REPO)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    return time.perf_counter() - start


def setup(threads: int) -> None:
    import torch
    os.environ['OMP_NUM_THREADS'] = str(threads)
    if str(MAMMOTH) not in sys.path:
        sys.path.insert(0, str(MAMMOTH))
    os.chdir(MAMMOTH)
    from utils.plugins import load_plugins
    load_plugins()
    torch.set_num_threads(threads)


def hardware(threads) -> dict:
    import torch
    cpu = next((l.split(':', 1)[1].strip() for l in Path('/proc/cpuinfo').read_text().splitlines()
                if l.startswith('model name')), platform.processor())
    commit = subprocess.run(['git', 'rev-parse', 'HEAD'], cwd=REPO, capture_output=True, text=True).stdout.strip()
    return {'cpu': cpu, 'cores': os.cpu_count(), 'torch': torch.__version__, 'threads': threads, 'commit': commit,
            'load_average_at_start': os.getloadavg()[0]}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--steps', type=int, default=50, help='timed steps per model per round')
    p.add_argument('--rounds', type=int, default=4)
    p.add_argument('--warmup-steps', type=int, default=30)
    p.add_argument('--base_path', default=str(Path(default_data_path()).resolve()),
                   help='data folder holding MNIST/raw/ (default: $DYNAMOS_DATA, else <repo>/data)')
    p.add_argument('--out', type=Path, default=REPO / 'results' / 'benchmarks')
    p.add_argument('--skip-subprocess', action='store_true', help='skip the memory probes and capped runs')
    a = p.parse_args(argv)
    out = a.out.resolve()
    base_path = str(Path(a.base_path).resolve())
    setup(a.threads)
    hw = hardware(a.threads)

    n = a.warmup_steps + a.steps * a.rounds
    models, data, throughput = {}, {}, {}
    for name in MODELS:
        model, loader, test_loader = build(name, base_path)
        data[name] = batches(loader, n)
        time_steps(model, data[name][:a.warmup_steps])  # fills the buffer, warms the allocator
        models[name] = model
        throughput[name] = eval_throughput(model, test_loader)
    step_times = {name: [] for name in MODELS}
    for r in range(a.rounds):  # interleaved, so drift in machine load hits every model alike
        for name, model in models.items():
            lo = a.warmup_steps + r * a.steps
            step_times[name] += time_steps(model, data[name][lo:lo + a.steps])

    median_ms = {k: 1000 * statistics.median(v) for k, v in step_times.items()}
    result = {'hardware': hw, 'steps_timed': a.steps * a.rounds, 'median_step_ms': median_ms,
              'p10_p90_step_ms': {k: [1000 * statistics.quantiles(v, n=10)[0], 1000 * statistics.quantiles(v, n=10)[-1]]
                                  for k, v in step_times.items()},
              'ratio_to_derpp': {k: v / median_ms['derpp'] for k, v in median_ms.items()},
              'eval_images_per_s': throughput, 'target': f'dynamos <= {TARGET}x derpp'}
    result['target_met'] = result['ratio_to_derpp']['dynamos'] <= TARGET
    if not a.skip_subprocess:
        result['memory_mb'] = {k: memory_mb(k, base_path, a.threads, 100) for k in MODELS}
        result['capped_run_s'] = {k: capped_run(MODELS[k], base_path, a.threads) for k in ('dynamos', 'derpp')}
    out.mkdir(parents=True, exist_ok=True)
    (out / 'benchmark.json').write_text(json.dumps(result, indent=1) + '\n')

    lines = ['# Training-step benchmark', '',
             f'{hw["cpu"]}, {hw["cores"]} cores, torch {hw["torch"]}, {hw["threads"]} thread(s), commit `{hw["commit"][:10]}`, '
             f'load average {hw["load_average_at_start"]:.2f} at the start. Seq-MNIST shapes: batch 10, replay batch 10. '
             f'Median of {a.steps * a.rounds} steps per model after {a.warmup_steps} warm-up steps '
             f'(`.venv/bin/python benchmarks/bench_step.py --threads {a.threads}`).', '',
             '| method | backbone | ms / step (median) | p10-p90 | x DER++ | eval images/s | peak RSS (MB) | RSS growth in 100 steps (MB) |',
             '|---|---|---|---|---|---|---|---|']
    for k in MODELS:
        p10, p90 = result['p10_p90_step_ms'][k]
        mem = result.get('memory_mb', {}).get(k)
        rss = f'{mem["peak_rss"]:.0f} | {mem["training_growth"]:.1f}' if mem else '- | -'
        lines.append(f'| {k} | {"gated-resnet" if k == "dynamos" else "ungated-resnet"} | {median_ms[k]:.2f} | '
                     f'{p10:.2f}-{p90:.2f} | {result["ratio_to_derpp"][k]:.2f} | {throughput[k]:.0f} | {rss} |')
    lines += ['', f'Target: a Dynamos step costs at most {TARGET}x a DER++ step: '
              f'**{"met" if result["target_met"] else "not met"}** ({result["ratio_to_derpp"]["dynamos"]:.2f}x).']
    if 'capped_run_s' in result:
        lines += ['', 'Capped real runs (`mammoth/main.py ... --debug_mode 1`: start-up, a few steps per task, short '
                  'evaluations): ' + ', '.join(f'{k} {v:.1f} s' for k, v in result['capped_run_s'].items()) + '.']
    lines += ['', 'Memory is measured in a fresh process per model that builds it and trains it for 100 steps: the peak '
              'RSS (dominated by importing torch and Mammoth and loading MNIST) and the growth of resident memory over '
              'the 100 steps. The step times are all taken in one process, the models taking turns.']
    (out / 'benchmark.md').write_text('\n'.join(lines) + '\n')
    print('\n'.join(lines))
    return 0


if __name__ == '__main__':
    sys.exit(main())
