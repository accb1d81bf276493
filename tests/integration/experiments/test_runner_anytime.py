"""The runner keeps the curve of Mammoth's evaluation along the stream (`--eval_every`, patch 0030) in the run's record,
and its report builds anytime.md and the stream plots from it (with a fake Mammoth that prints what the patch logs)."""

import json
import sys
import textwrap

from dynamos_plugin.experiments import __main__ as cli

POINTS = [{'step': 5, 'task': 1, 'seen': [0, 1], 'seen_accuracy': 90.0, 'class_accuracy': {'0': 80.0, '1': 100.0},
           'class_total': {'0': 5, '1': 5}, 'arrivals': [[1, [0, 1], [0, 1]]], 'end_of_task': False},
          {'step': 8, 'task': 1, 'seen': [0, 1], 'seen_accuracy': 70.0, 'class_accuracy': {'0': 40.0, '1': 100.0},
           'class_total': {'0': 5, '1': 5}, 'arrivals': [[6, [1], [1]]], 'end_of_task': True}]

FAKE = textwrap.dedent(f"""\
    import json, sys
    args = sys.argv[1:]
    seed = int(args[args.index('--seed') + 1])
    if '--eval_every' in args:
        for point in {POINTS!r}:
            print('[INFO] 05-Dec-26 18:00:00 - dynamos-log ' + json.dumps({{'kind': 'anytime', **point}}), file=sys.stderr)
    print(f'Accuracy for 1 task(s): [Domain-IL]: {{80 + seed}}.0 %', file=sys.stderr)
    print(f'\\tRaw accuracy values: Domain-IL [{{80 + seed}}.0]', file=sys.stderr)
    """)


def test_the_record_holds_the_curve_and_the_report_its_metrics(tmp_path):
    script = tmp_path / 'fake_mammoth.py'
    script.write_text(FAKE)
    common = ['--table', '1', '--buffer', '500', '--seed', '0', '--seed', '1', '--python', f'{sys.executable} {script}',
              '--base-path', str(tmp_path / 'data'), '--runs-dir', str(tmp_path / 'runs')]
    assert cli.main([*common, '--method', 'dynamos', '--method', 'msa', '--extra-args=--eval_every 3',
                     '--results-dir', str(tmp_path / 'stream')]) == 0
    assert cli.main([*common, '--method', 'er', '--results-dir', str(tmp_path / 'plain')]) == 0
    record = json.loads((tmp_path / 'stream' / 'records' / 'mnist-360__msa__buf500__seed1.json').read_text())
    assert record['anytime'] == POINTS and record['accuracy'] == 81.0
    plain = json.loads((tmp_path / 'plain' / 'records' / 'mnist-360__er__buf500__seed0.json').read_text())
    assert 'anytime' not in plain

    assert cli.main(['--report', '--results-dir', str(tmp_path / 'stream')]) == 0
    page = (tmp_path / 'stream' / 'report' / 'anytime.md').read_text()
    # every run: auc (90 + 70) / 2 = 80; the arrival at step 6 of class 1 (batch [1]): earlier {0}, before (step 5) 80,
    # after (step 8) 40 -> gap 40, recovery 0; learning: class 1 at step 8, 100 (class 0 and 1 at step 5, 90: mean 95);
    # forgetting: class 0 80 - 40 = 40, class 1 0 -> 20. Same values for both seeds: no spread
    assert '| mnist-360 | dynamos | 500 | 80.00 [80.00, 80.00] (n=2) | 40.00 [40.00, 40.00] (n=2) |' in page
    assert '| mnist-360 | 500 | msa | auc | +0.00 |' in page
    plots = tmp_path / 'stream' / 'report' / 'plots'
    assert (plots / 'anytime_mnist-360_buf500.png').stat().st_size > 0
    assert (plots / 'anytime_heatmap_mnist-360_buf500.png').stat().st_size > 0
    assert cli.main(['--report', '--results-dir', str(tmp_path / 'plain')]) == 0
    assert not (tmp_path / 'plain' / 'report' / 'anytime.md').exists()
