"""The authors'-code anchor (issue 26, deliverable 5): its committed records are well-formed, name no
machine path, and the tables in results/anchors/authors-code/README.md are what
benchmarks/authors_code_report.py generates from them. Reads files only; no network, no training."""
import importlib.util
import json
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ANCHOR = os.path.join(ROOT, 'results', 'anchors', 'authors-code')
ABSOLUTE = re.compile(r'(?<![\w.<>-])/(work|tmp|root|home|usr|opt|mnt|var|srv)/')


def _load(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, 'benchmarks', name + '.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


runner = _load('authors_code')
report = _load('authors_code_report')


def _records():
    """records/*.json and repeat/records/*.json (a run repeated to see whether it reproduces),
    relative to the anchor folder."""
    out = []
    for sub in ('records', os.path.join('repeat', 'records')):
        d = os.path.join(ANCHOR, sub)
        if os.path.isdir(d):
            out += sorted(os.path.join(sub, f) for f in os.listdir(d) if f.endswith('.json'))
    return out


def test_there_are_records():
    assert any(n.startswith('records' + os.sep) for n in _records()), 'no committed anchor record'


@pytest.mark.parametrize('name', _records())
def test_record_is_well_formed(name):
    path = os.path.join(ANCHOR, name)
    with open(path) as f:
        text = f.read()
    rec = json.loads(text)
    assert not ABSOLUTE.search(text), f'{name} names an absolute machine path'
    cell = f"{rec['dataset']}:{rec['method']}"
    assert cell in runner.CELLS
    dataset, method, model, buffer, extra = runner.CELLS[cell]
    assert rec['run'] == runner.run_id(dataset, method, buffer, rec['seed']) == os.path.basename(name)[:-len('.json')]
    assert (rec['authors_model'], rec['buffer']) == (model, buffer)
    assert rec['authors_commit'] == runner.AUTHORS_COMMIT and len(rec['authors_commit']) == 40
    assert rec['authors_repo'] == runner.AUTHORS_URL
    assert rec['command'] == runner.build_command(cell, rec['seed'], rec['run'])
    assert rec['command'][:2] == ['python', 'main_policy.py'] and rec['cwd'] == runner.CLONE
    assert re.fullmatch(r'[0-9a-f]{40}', rec['commit']) and isinstance(rec['dirty'], bool)
    assert rec['status'] == 'ok' and rec['returncode'] == 0 and rec['threads'] == 1
    assert rec['torch'] and rec['wall_s'] > 0
    assert 0 <= rec['accuracy'] <= 100
    if dataset == 'seq-mnist':
        assert rec['setting'] == 'Class-IL' and 0 <= rec['task_il'] <= 100
        assert rec['per_task_mean'][-1] == {'tasks': 5, 'class_il': rec['accuracy'], 'task_il': rec['task_il']}
    else:
        assert rec['setting'] == 'GCL' and round(float(rec['accuracy_printed']), 2) == rec['accuracy']
    for value in (rec['log'], rec['data'], rec['cwd'], *rec['command']):
        assert not os.path.isabs(value)
    folder = os.path.dirname(os.path.dirname(name))  # '' or 'repeat'
    assert rec['log'] == os.path.join('results', 'anchors', 'authors-code', folder, 'logs', rec['run'] + '.log')


@pytest.mark.parametrize('name', _records())
def test_log_backs_the_record(name):
    with open(os.path.join(ANCHOR, name)) as f:
        rec = json.load(f)
    with open(os.path.join(ROOT, rec['log']), errors='replace') as f:
        log = f.read()
    assert not ABSOLUTE.search(log), f"{rec['log']} names an absolute machine path"
    assert log.startswith('# ' + rec['command_line'] + '\n')
    assert runner.parse_accuracy(rec['dataset'], log)['accuracy'] == rec['accuracy']


def test_readme_tables_are_generated_from_the_records():
    with open(os.path.join(ROOT, report.README)) as f:
        text = f.read()
    assert report.readme_block(text) == report.tables(ROOT), \
        'stale: run benchmarks/authors_code_report.py --write'


def test_statistics():
    m, sd, lo, hi = report.summary([1.0, 2.0, 3.0])
    assert (m, sd) == (2.0, 1.0)
    assert abs((hi - m) - 4.3027 / 3 ** 0.5) < 1e-9 and abs((m - lo) - (hi - m)) < 1e-12
    assert report.summary([5.0])[1:] == (None, None, None) and report.summary([]) is None
