"""
Dynamos through Mammoth's Python API (issue 27): ``from mammoth import load_runner, train`` in ``.venv``
from any folder, Table 5's defaults as on the command line, the README's "From Python" snippet as written,
and ``examples/train_dynamos.py``; each in a fresh interpreter (importing Mammoth changes the working
directory), in debug mode, on the generated MNIST of ``mnist_dir``.
"""

import os
import re
import subprocess
import textwrap

from conftest import PYTHON, REPO

ACCURACY_RE = re.compile(r'Accuracy for 5 task\(s\):\s+\[Class-IL\]: ([\d.]+) %\s+\[Task-IL\]: ([\d.]+) %')


def run_python(args, cwd, timeout=600):
    """``.venv``'s Python with ARGS, from CWD (not the repository: the package must not need it)."""
    env = dict(os.environ, MAMMOTH_TEST='1', PYTHONUNBUFFERED='1', OMP_NUM_THREADS='1')
    proc = subprocess.run([PYTHON, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    proc.log = proc.stdout + proc.stderr
    assert proc.returncode == 0, proc.log[-3000:]
    return proc


def readme_snippet() -> str:
    """The Python block of the README's "From Python" section, as written."""
    text = (REPO / 'README.md').read_text()
    section = text.split('\n## From Python\n', 1)[1].split('\n## ', 1)[0]
    return section.split('```python\n', 1)[1].split('```', 1)[0]


def test_readme_snippet_runs_as_written(mnist_dir, tmp_path):
    """From a folder whose ``data/`` holds MNIST (the repository root's layout), the snippet trains five
    tasks and prints the Class-IL accuracy Mammoth logged after the last one, and agent 1's keep ratios."""
    (tmp_path / 'data').symlink_to(mnist_dir)
    script = tmp_path / 'snippet.py'
    script.write_text(readme_snippet())
    proc = run_python([str(script)], cwd=tmp_path)
    logged = ACCURACY_RE.findall(proc.log)
    assert len(logged) == 1  # each accuracy line once (patch 0018)
    printed = proc.stdout.strip().splitlines()[-2:]
    assert printed[0] == f'Class-IL {float(logged[0][0]):.2f} %'
    keep = eval(printed[1])  # a list of 5 floats (agent 1, per task)
    assert len(keep) == 5 and all(0.0 <= k <= 1.0 for k in keep)
    assert not (tmp_path / 'mammoth').exists()


def test_example_script(mnist_dir, tmp_path):
    """``examples/train_dynamos.py``: Table 5's Seq-MNIST buffer-500 row (kr 0.7, lambda 500, lr 0.07), the
    final accuracy equal to Mammoth's last logged line, and four agents' keep ratios for each of 5 tasks."""
    proc = run_python([str(REPO / 'examples' / 'train_dynamos.py'), '--base_path', str(mnist_dir)], cwd=tmp_path)
    assert 'keep ratio 0.7, lambda 500.0, lr 0.07' in proc.stdout
    class_il, task_il = ACCURACY_RE.findall(proc.log)[-1]
    assert f'final accuracy: Class-IL {float(class_il):.2f} %, Task-IL {float(task_il):.2f} %' in proc.stdout
    tasks = re.findall(r'^task (\d): keep ratio per agent ((?:[\d.]+ ){4})\(target 0.7\)$', proc.stdout, re.M)
    assert [int(t) for t, _ in tasks] == [1, 2, 3, 4, 5]


def test_baseline_and_static_control(mnist_dir, tmp_path):
    """The Eq. 8 baseline (``msa``) takes its Table 5 row (alpha 0.2, beta 2.0, un-gated backbone) through the
    API; the static-sparsity control (``msa`` on ``gated-resnet`` with ``gate static``) trains in debug mode."""
    script = tmp_path / 'baselines.py'
    script.write_text(textwrap.dedent(f'''
        from mammoth import load_runner, train
        model, _ = load_runner('msa', 'seq-mnist', {{'buffer_size': 500, 'base_path': {str(mnist_dir)!r}}})
        print('msa', model.args.alpha, model.args.beta, model.args.lr, model.args.backbone)
        model, dataset = load_runner('msa', 'seq-mnist', {{'buffer_size': 500, 'base_path': {str(mnist_dir)!r},
                                     'backbone': 'gated-resnet', 'gate': 'static', 'debug_mode': 1, 'num_workers': 0}})
        print('static', model.net.gate, model.args.static_keep)
        train(model, dataset)
    '''))
    proc = run_python([str(script)], cwd=tmp_path)
    assert 'msa 0.2 2.0 0.07 ungated-resnet' in proc.stdout
    assert 'static static 0.7' in proc.stdout
    assert len(ACCURACY_RE.findall(proc.log)) == 1
