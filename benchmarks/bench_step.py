"""
Speed of a Dynamos training step against its floor, next to the Eq. 8 baseline, DER++, ER and SGD (issue 15).

The **floor** is the work a Dynamos step cannot avoid: two forward+backward passes of the un-gated backbone,
one on the stream batch and one on the replay batch (Seq-MNIST shapes: 10 and 10 images, 1x28x28, 10
classes), eager, NCHW, no optimizer. Every method's step is timed around ``meta_observe`` (batches already
in memory, buffers filled by a warm-up) and given as a multiple of that floor, under each speed option:

- ``nchw``: ``--memory_format contiguous``, the layout before the speed options (eager);
- ``default``: what a plain command gets (``--memory_format channels_last``, eager);
- ``compile``: ``--memory_format channels_last --compile 1`` (``torch.compile``; its compile time, taken
  by the warm-up steps, is reported apart).

All models and floors live in one process and take turns (``--rounds`` rounds of ``--steps`` steps), so
drift in the machine's load hits them alike. Also measured: evaluation throughput of Dynamos at several test
batch sizes (Mammoth evaluates at ``--batch_size``, 10 here), and, in a fresh process per method, peak
memory. ``--whole-run`` instead times the user's command end to end (``mammoth/main.py --model dynamos
--dataset seq-mnist --buffer_size 500 --seed 0``, one thread, start to final accuracy) under each option,
``compile`` with an empty compile cache.

    .venv/bin/python benchmarks/bench_step.py [--threads 1] [--whole-run] [--base_path DIR] [--out DIR]

writes ``benchmark.json`` (steps) or ``whole_run.json`` (``--whole-run``), and ``benchmark.md`` from both,
to ``results/benchmarks/``. The data folder (``--base_path``, MNIST in ``DIR/MNIST/raw/``) defaults to
``$DYNAMOS_DATA``, else ``<repo>/data``. Run it on an idle machine: the numbers are wall times.
"""

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from dynamos_plugin.glue.paths import MAMMOTH, REPO, default_data_path
from dynamos_plugin.glue.mammoth_log import ACCURACY_RE

TARGETS = {'default': 1.15, 'compile': 0.9}  # a Dynamos step, as a multiple of the floor
WHOLE_RUN_TARGET_S = 300

COMMON = ['--dataset', 'seq-mnist', '--batch_size', '10', '--seed', '0', '--non_verbose', '1']
MODELS = {
    'dynamos': ['--model', 'dynamos', '--buffer_size', '500', '--warmup', '0'],
    'msa': ['--model', 'msa', '--buffer_size', '500'],
    'derpp': ['--model', 'derpp', '--buffer_size', '500', '--backbone', 'ungated-resnet', '--minibatch_size', '10',
              '--lr', '0.03', '--alpha', '1.0', '--beta', '0.5'],
    'er': ['--model', 'er', '--buffer_size', '500', '--backbone', 'ungated-resnet', '--minibatch_size', '10', '--lr', '0.1'],
    'sgd': ['--model', 'sgd', '--backbone', 'ungated-resnet', '--lr', '0.07'],
}
VARIANTS = {'nchw': ['--memory_format', 'contiguous'], 'default': [], 'compile': ['--compile', '1']}
EVAL_BATCHES = (10, 50, 256)
USER_COMMAND = ['--model', 'dynamos', '--dataset', 'seq-mnist', '--buffer_size', '500', '--seed', '0']


def build(name: str, base_path: str, variant: str = 'default'):
    """A model and its dataset, as mammoth/main.py builds them, with task 1 begun."""
    import main
    args = main.parse_args(MODELS[name] + VARIANTS[variant] + COMMON + ['--base_path', base_path, '--num_workers', '0'])
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


class Floor:
    """Two forward+backward passes of the un-gated backbone: the stream batch, then a replay batch of the same size."""

    def __init__(self, variant: str):
        import torch
        from dynamos_plugin.backbone import GatedResNet, compile_backbone
        torch.manual_seed(0)
        self.net = GatedResNet(10, gated=False, memory_format='contiguous' if variant == 'nchw' else 'channels_last')
        if variant == 'compile':
            compile_backbone(self.net)
        self.net.train()

    def step(self, x, y, replay_x, replay_y) -> float:
        import torch.nn.functional as F
        start = time.perf_counter()
        for inputs, labels in ((x, y), (replay_x, replay_y)):
            F.cross_entropy(self.net(inputs), labels).backward()
        return time.perf_counter() - start

    def time(self, data) -> list:
        return [self.step(x, y, data[i - 1][0], data[i - 1][1]) for i, (x, y, _) in enumerate(data)]


def eval_throughput(model, test_loader, batch_sizes=EVAL_BATCHES, n_images=2000) -> dict:
    """Images per second of the model in evaluation mode (thresholded agents), per test batch size."""
    import torch
    images = torch.cat([x for x, *_ in test_loader])[:n_images]
    model.net.eval()
    out = {}
    with torch.no_grad():
        for bs in batch_sizes:
            model(images[:bs])  # warm-up (and, compiled, the graph of this batch size)
            start = time.perf_counter()
            for i in range(0, len(images), bs):
                model(images[i:i + bs])
            out[bs] = len(images) / (time.perf_counter() - start)
    model.net.train()
    return out


def memory_mb(name: str, base_path: str, threads: int, steps: int) -> dict:
    """Peak resident memory of a fresh process that builds the model and trains it for ``steps`` steps, and the
    growth of its resident memory over those steps (MB)."""
    code = (f'import sys; sys.path.insert(0, {str(REPO / "benchmarks")!r}); import bench_step as b; '
            f'b.setup({threads}); m, l, _ = b.build({name!r}, {base_path!r}); d = b.batches(l, {steps}); '
            'before = b.rss_mb(); b.time_steps(m, d); after = b.rss_mb(); '
            'import resource; print("MEM", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, after - before)')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, cwd=MAMMOTH)
    line = [l for l in out.stdout.splitlines() if l.startswith('MEM')]
    if not line:
        raise RuntimeError(f'memory probe for {name} failed:\n{out.stderr[-2000:]}')
    peak, growth = map(float, line[0].split()[1:])
    return {'peak_rss': peak, 'training_growth': growth}


def rss_mb() -> float:
    for line in Path('/proc/self/status').read_text().splitlines():
        if line.startswith('VmRSS:'):
            return int(line.split()[1]) / 1024
    return float('nan')


def whole_run(variant: str, base_path: str) -> dict:
    """The user's command at one thread, start to final accuracy; ``compile`` with an empty compile cache."""
    env = dict(os.environ, OMP_NUM_THREADS='1')
    with tempfile.TemporaryDirectory(prefix='dynamos-bench-') as tmp:
        env['TORCHINDUCTOR_CACHE_DIR'] = str(Path(tmp) / 'inductor')
        cmd = [sys.executable, str(MAMMOTH / 'main.py'), *USER_COMMAND, *VARIANTS[variant], '--base_path', base_path,
               '--results_path', str(Path(tmp) / 'results'), '--non_verbose', '1']
        start = time.perf_counter()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=REPO)
        wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f'whole run ({variant}) failed:\n{proc.stderr[-2000:]}')
    matches = ACCURACY_RE.findall(proc.stdout + proc.stderr)
    return {'wall_s': round(wall, 1), 'class_il': float(matches[-1][2]) if matches else None,
            'command': ' '.join(['python mammoth/main.py', *USER_COMMAND, *VARIANTS[variant]])}


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
    dirty = bool(subprocess.run(['git', 'status', '--porcelain', '--untracked-files=no', '--ignore-submodules'],
                                cwd=REPO, capture_output=True, text=True).stdout.strip())
    return {'cpu': cpu, 'cores': os.cpu_count(), 'torch': torch.__version__, 'threads': threads, 'commit': commit,
            'dirty': dirty, 'load_average_at_start': round(os.getloadavg()[0], 2), 'date': time.strftime('%Y-%m-%d %H:%M')}


def measure_steps(a, base_path: str) -> dict:
    n = a.warmup_steps + a.steps * a.rounds
    timed, compile_s, throughput = {}, {}, {}
    data = None
    for variant in VARIANTS:
        for name in a.methods:
            model, loader, test_loader = build(name, base_path, variant)
            data = batches(loader, n) if data is None else data  # the same images for every model
            start = time.perf_counter()
            time_steps(model, data[:a.warmup_steps])  # fills the buffer, warms the allocator (and compiles)
            compile_s[f'{name}/{variant}'] = time.perf_counter() - start
            timed[f'{name}/{variant}'] = (model, [])
            if name == 'dynamos':
                throughput[variant] = eval_throughput(model, test_loader)
        floor = Floor(variant)
        start = time.perf_counter()
        floor.time(data[:a.warmup_steps])
        compile_s[f'floor/{variant}'] = time.perf_counter() - start
        timed[f'floor/{variant}'] = (floor, [])
    for r in range(a.rounds):  # interleaved, so drift in machine load hits every model alike
        lo = a.warmup_steps + r * a.steps
        for key, (runner, times) in timed.items():
            chunk = data[lo:lo + a.steps]
            times += runner.time(chunk) if isinstance(runner, Floor) else time_steps(runner, chunk)
    median_ms = {k: 1000 * statistics.median(t) for k, (_, t) in timed.items()}
    floor = median_ms['floor/nchw']
    result = {'methods': a.methods, 'steps_timed': a.steps * a.rounds, 'warmup_steps': a.warmup_steps, 'median_step_ms': median_ms,
              'p10_p90_step_ms': {k: [1000 * q for q in statistics.quantiles(t, n=10)[::8]] for k, (_, t) in timed.items()},
              'x_floor': {k: v / floor for k, v in median_ms.items()},
              'warmup_s': {k: v for k, v in compile_s.items()},
              'eval_images_per_s': throughput, 'targets': {k: f'dynamos/{k} <= {v} x floor' for k, v in TARGETS.items()}}
    result['target_met'] = {k: result['x_floor'][f'dynamos/{k}'] <= v for k, v in TARGETS.items()}
    if not a.skip_subprocess:
        result['memory_mb'] = {k: memory_mb(k, base_path, a.threads, 100) for k in a.methods}
    return result


def markdown(steps: dict, runs: dict) -> str:
    lines = ['# Training-step benchmark', '']
    if 'x_floor' in steps:
        hw = steps['hardware']
        lines += [f'{hw["cpu"]}, {hw["cores"]} cores, torch {hw["torch"]}, {hw["threads"]} thread(s), commit '
                  f'`{hw["commit"][:10]}`{" (dirty)" if hw["dirty"] else ""}, {hw["date"]}, load average '
                  f'{hw["load_average_at_start"]:.2f} at the start (`{steps["command"]}`). Seq-MNIST shapes: batch 10, '
                  f'replay batch 10. Median of {steps["steps_timed"]} steps per model after {steps["warmup_steps"]} '
                  'warm-up steps, all models taking turns in one process.', '',
                  '**Floor**: two forward+backward passes of the un-gated backbone (stream batch, replay batch), eager, '
                  'NCHW: the work a Dynamos step cannot avoid. Options: `nchw` = `--memory_format contiguous` (the '
                  'layout before the speed options), `default` = a plain command (`channels_last`, eager), `compile` '
                  '= `--compile 1` (channels-last and `torch.compile`).', '',
                  '| step | nchw: ms | x floor | default: ms | x floor | compile: ms | x floor | compile warm-up (s) |',
                  '|---|---:|---:|---:|---:|---:|---:|---:|']
        for name in ['floor', *steps['methods']]:
            cells = []
            for variant in VARIANTS:
                key = f'{name}/{variant}'
                cells.append(f'{steps["median_step_ms"][key]:.1f} | {steps["x_floor"][key]:.2f}')
            warm = steps['warmup_s'].get(f'{name}/compile')
            lines.append(f'| {name} | ' + ' | '.join(cells) + f' | {"" if warm is None else f"{warm:.0f}"} |')
        met = steps['target_met']
        lines += ['', f'Targets (issue 15): a Dynamos step at most {TARGETS["default"]}x the floor by default: '
                  f'**{"met" if met["default"] else "not met"}** ({steps["x_floor"]["dynamos/default"]:.2f}x); at most '
                  f'{TARGETS["compile"]}x with the speed options: **{"met" if met["compile"] else "not met"}** '
                  f'({steps["x_floor"]["dynamos/compile"]:.2f}x).', '',
                  'Evaluation throughput of Dynamos (images/s, `torch.no_grad`, thresholded agents) by test batch size:', '',
                  '| option | ' + ' | '.join(f'batch {b}' for b in EVAL_BATCHES) + ' |',
                  '|---|' + '---:|' * len(EVAL_BATCHES)]
        for variant, by_batch in steps['eval_images_per_s'].items():
            by_batch = {int(b): v for b, v in by_batch.items()}  # JSON keys are strings
            lines.append(f'| {variant} | ' + ' | '.join(f'{by_batch[b]:.0f}' for b in EVAL_BATCHES) + ' |')
        if 'memory_mb' in steps:
            lines += ['', 'Memory (default option), a fresh process per method that trains 100 steps: peak RSS '
                      '(mostly torch, Mammoth and MNIST) / growth of resident memory over the steps (MB): '
                      + ', '.join(f'{k} {v["peak_rss"]:.0f} / {v["training_growth"]:.1f}' for k, v in steps['memory_mb'].items())
                      + '.']
    if runs:
        hw = runs['hardware']
        lines += ['', '## The whole run', '',
                  f'The user\'s command, `--seed 0`, one thread, start to final accuracy (`{runs["command"]}`; '
                  f'commit `{hw["commit"][:10]}`{" (dirty)" if hw["dirty"] else ""}, {hw["date"]}, load average '
                  f'{hw["load_average_at_start"]:.2f} at the start); `compile` starts from an empty compile cache.', '',
                  '| option | command | wall (s) | Class-IL (%) |', '|---|---|---:|---:|']
        for variant, r in runs['runs'].items():
            lines.append(f'| {variant} | `{r["command"]}` | {r["wall_s"]:.0f} | {r["class_il"]} |')
        best = min(r['wall_s'] for r in runs['runs'].values())
        lines += ['', f'Target (issue 15): at most {WHOLE_RUN_TARGET_S} s: '
                  f'**{"met" if best <= WHOLE_RUN_TARGET_S else "not met"}** (fastest {best:.0f} s).']
    return '\n'.join(lines) + '\n'


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--steps', type=int, default=25, help='timed steps per model per round')
    p.add_argument('--rounds', type=int, default=4)
    p.add_argument('--warmup-steps', type=int, default=30)
    p.add_argument('--method', dest='methods', action='append', choices=list(MODELS),
                   help='only these methods (default: all; dynamos is always timed)')
    p.add_argument('--whole-run', action='store_true', help='time the user\'s whole run under each option instead')
    p.add_argument('--variant', action='append', choices=list(VARIANTS), help='with --whole-run: only these options')
    p.add_argument('--base_path', default=str(Path(default_data_path()).resolve()),
                   help='data folder holding MNIST/raw/ (default: $DYNAMOS_DATA, else <repo>/data)')
    p.add_argument('--out', type=Path, default=REPO / 'results' / 'benchmarks')
    p.add_argument('--skip-subprocess', action='store_true', help='skip the memory probes')
    a = p.parse_args(argv)
    a.methods = ['dynamos'] + [m for m in MODELS if m != 'dynamos' and (a.methods is None or m in a.methods)]
    out = a.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    base_path = str(Path(a.base_path).resolve())
    command = '.venv/bin/python benchmarks/bench_step.py ' + ' '.join(
        re.sub(r'^/\S*', '<path>', arg) for arg in (sys.argv[1:] if argv is None else argv))
    if a.whole_run:
        setup(1)
        runs = {'hardware': hardware(1), 'command': command,
                'runs': {v: whole_run(v, base_path) for v in (a.variant or VARIANTS)}}
        (out / 'whole_run.json').write_text(json.dumps(runs, indent=1) + '\n')
    else:
        setup(a.threads)
        hw = hardware(a.threads)
        steps = dict(measure_steps(a, base_path), hardware=hw, command=command)
        (out / 'benchmark.json').write_text(json.dumps(steps, indent=1) + '\n')
    load = lambda name: json.loads((out / name).read_text()) if (out / name).exists() else {}
    text = markdown(load('benchmark.json'), load('whole_run.json'))
    (out / 'benchmark.md').write_text(text)
    print(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
