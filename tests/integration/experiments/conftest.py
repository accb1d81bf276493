"""The runner's tests' fake Mammoth and the helpers around it (tests/integration/experiments only)."""

import sys
import textwrap

import pytest

from dynamos_plugin.experiments import __main__ as cli

# a fake Mammoth: prints a Mammoth-like final accuracy (90 + seed) to stderr, as Mammoth does.
# `--fail` makes seed 1 fail as Mammoth does (one `[ERROR] ... - <Type>: <message>` line and a hint, exit 1),
# `--bad-argument` makes it fail as argparse does (exit 2), `--no-accuracy` exits 0 without an accuracy line,
# `--sleep` sleeps a minute first, `--partial` stops after task 2 of 5. Every call appends its seed to calls.txt
# beside the script.
FAKE = textwrap.dedent("""\
    import sys
    from pathlib import Path
    args = sys.argv[1:]
    seed = int(args[args.index('--seed') + 1])
    with open(Path(__file__).with_name('calls.txt'), 'a') as f:
        f.write(f'{seed}\\n')
    if '--fail' in args and seed == 1:
        print('[ERROR] 25-Nov-26 10:51:59 - ValueError: boom', file=sys.stderr)
        print('[ERROR] 25-Nov-26 10:51:59 - (set MAMMOTH_TRACEBACK=1 to see the traceback)', file=sys.stderr)
        sys.exit(1)
    if '--bad-argument' in args:
        print('usage: main.py --model MODEL --dataset DATASET [options]', file=sys.stderr)
        print("main.py: error: argument --buffer_size: 'abc' is not a valid int", file=sys.stderr)
        sys.exit(2)
    if '--no-accuracy' in args:
        sys.exit(0)
    if '--sleep' in args:
        import time
        time.sleep(60)
    if '--partial' in args:  # what Mammoth does when a signal stops it after task 2 of 5
        print('Accuracy for 2 task(s): \\t [Class-IL]: 99.5 % \\t [Task-IL]: 99.8 %', file=sys.stderr)
        if seed == 1:
            print('[INFO] 25-Nov-26 03:03:23 - Training stopped by signal handler.', file=sys.stderr)
        sys.exit(0)
    print(f'Accuracy for 5 task(s): \\t [Class-IL]: {90 + seed}.0 % \\t [Task-IL]: 99.0 %', file=sys.stderr)
    print(f'\\tRaw accuracy values: Class-IL [{90 + seed}.0, 80.0] | Task-IL [99.0, 98.0]', file=sys.stderr)
    """)


@pytest.fixture
def fake(tmp_path):
    """The command that runs the fake Mammoth (``--python``), its script in tmp_path."""
    script = tmp_path / 'fake_mammoth.py'
    script.write_text(FAKE)
    return f'{sys.executable} {script}'


@pytest.fixture
def calls(tmp_path):
    """The seeds the fake Mammoth has been called with so far, sorted."""
    def read():
        path = tmp_path / 'calls.txt'
        return sorted(int(s) for s in path.read_text().split()) if path.exists() else []
    return read


@pytest.fixture
def runner(tmp_path, fake):
    """The runner, in-process, on Table 2, Dynamos, buffer 500, seeds 0-2 unless a test names its own
    (``--seed``), everything under tmp_path (data, runs/, results/); extra command-line arguments are
    added. Returns its exit status."""
    def run(*extra):
        if '--seed' not in extra:
            extra = ('--seed', '0', '--seed', '1', '--seed', '2', *extra)
        return cli.main(['--table', '2', '--method', 'dynamos', '--buffer', '500', '--python', fake,
                         '--base-path', str(tmp_path / 'data'), '--runs-dir', str(tmp_path / 'runs'),
                         '--results-dir', str(tmp_path / 'results'), *extra])
    return run


@pytest.fixture
def record_names(tmp_path):
    """The names of the records in tmp_path/results/records, sorted."""
    return lambda: sorted(p.name for p in (tmp_path / 'results' / 'records').glob('*.json'))


@pytest.fixture
def lock_files(tmp_path):
    """The lock files left under tmp_path/runs."""
    return lambda: sorted(str(p.relative_to(tmp_path)) for p in (tmp_path / 'runs').rglob('*.lock'))
