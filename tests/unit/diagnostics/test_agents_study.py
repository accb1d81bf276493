"""The MNIST-360 agents study's summary (dynamos_plugin/diagnostics/agents_study.py) on made-up records and logs,
against hand-computed values."""

import json

import pytest

from dynamos_plugin.diagnostics.agents_study import collect, run_log, spearman, table
from dynamos_plugin.variants.drift import class_accuracy_line, drift_line

STATS = ('Dynamos task 1: mean keep ratio per agent [0.700 0.700 0.700 0.700] over 3377 steps; thresholded '
         '[0.800 0.600 0.700 0.900]; undecided p [0.5 0.5 0.5 0.5]; train accuracy 0.8600; mean losses: ce=0.4 '
         'policy=-5.0 prototype=0.3 buf_ce=0.2 buf_policy=-2.0 buf_prototype=0.1 consistency_z=1.0 '
         'consistency_v=0.1 total=0.5; buffer 500/500')


def record(arm, seed, accuracy, method='dynamos'):
    run = f'mnist-360__{method}__buf500__seed{seed}'
    return {'run': run, 'seed': seed, 'accuracy': accuracy, 'commit': 'abcdef1234567', 'dirty': False,
            'method': method, 'extra_args': [],
            'command': ['python', 'mammoth/main.py', '--results_path',
                        f'runs/mnist360-agents/{arm}/table1/mnist-360/{method}/buf500/seed{seed}/mammoth']}


def test_spearman_by_hand():
    assert spearman([1, 2, 3], [10, 20, 30]) == pytest.approx(1.0)
    assert spearman([1, 2, 3], [30, 20, 10]) == pytest.approx(-1.0)
    # ranks (0, 1.5, 1.5, 3) against (0, 1, 2, 3): sum of products of deviations 4.5, of squares 4.5 and 5
    assert spearman([1, 5, 5, 9], [1, 2, 3, 4]) == pytest.approx(4.5 / (4.5 * 5) ** 0.5)
    assert spearman([1, 2], [1, 2]) is None and spearman([1, 1, 1], [1, 2, 3]) is None


def test_run_log_is_found_under_the_runs_folder(tmp_path):
    assert run_log(record('faithful', 2, 70.0), tmp_path) == \
        tmp_path / 'faithful/table1/mnist-360/dynamos/buf500/seed2/log.txt'


def test_collect_pairs_by_seed_and_summarises_drift(tmp_path):
    study, runs = tmp_path / 'study', tmp_path / 'runs'
    accuracies = {'faithful': [70.0, 80.0, 75.0], 'static': [88.0, 90.0, 89.0]}
    study.mkdir()
    (study / 'arms.json').write_text(json.dumps({'reference': 'faithful', 'arms': [
        {'name': 'faithful', 'label': 'Dynamos (Table 5)', 'method': 'dynamos', 'flags': '--drift_every 100'},
        {'name': 'never_run', 'label': 'no records', 'method': 'dynamos', 'flags': '--keep_ratio 1.0'},
        {'name': 'static', 'label': 'static', 'method': 'static', 'flags': '', 'exploratory': True}]}))
    for arm, accs in accuracies.items():
        (study / arm / 'records').mkdir(parents=True)
        for seed, acc in enumerate(accs):
            rec = record(arm, seed, acc, 'dynamos' if arm == 'faithful' else 'msa')
            (study / arm / 'records' / f'{rec["run"]}.json').write_text(json.dumps(rec))
            if arm == 'faithful':  # drift at steps 100 and 1200: class 0 drifts, class 1 does not
                log = run_log(rec, runs)
                log.parent.mkdir(parents=True)
                log.write_text('\n'.join([
                    drift_line(100, {0: {'n': 2, 'bits': 0.2, 'changed': 1.0}, 1: {'n': 2, 'bits': 0.0, 'changed': 0.0},
                                     2: {'n': 4, 'bits': 0.1, 'changed': 0.5}}),
                    drift_line(1200, {0: {'n': 2, 'bits': 0.4, 'changed': 1.0}, 1: {'n': 6, 'bits': 0.0, 'changed': 0.0},
                                      2: {'n': 4, 'bits': 0.1, 'changed': 0.5}}),
                    STATS, class_accuracy_line({0: 50.0, 1: 90.0, 2: 70.0})]))
    arms = collect(study, runs)
    assert list(arms) == ['faithful', 'static']
    faithful, static = arms['faithful'], arms['static']
    assert faithful['mean'] == pytest.approx(75.0) and faithful['std'] == pytest.approx(5.0)
    assert static['paired_vs_faithful'] == pytest.approx({'mean': 14.0, 'min': 10.0, 'max': 18.0, 'n': 3})
    assert 'paired_vs_faithful' not in faithful
    run = faithful['runs'][0]
    # bits weighted by samples: (2*0.2 + 0 + 4*0.1 + 2*0.4 + 0 + 4*0.1) / 20 = 2.0 / 20
    assert run['drift']['bits'] == pytest.approx(0.1)
    assert run['drift']['changed'] == pytest.approx((2 + 2 + 4 * 0.5 * 2) / 20)
    assert run['drift']['bits_after_1130'] == pytest.approx((0.8 + 0.4) / 12)
    assert run['drift']['bits_by_class'] == pytest.approx({0: 0.3, 1: 0.0, 2: 0.1})
    assert run['drift']['spearman_class_drift_vs_accuracy'] == pytest.approx(-1.0)  # more drift, lower accuracy
    assert faithful['keep_thresholded'] == pytest.approx(0.75)
    # the logs were copied next to the records, so the summary needs only the study folder from now on
    assert (study / 'faithful' / 'logs' / 'mnist-360__dynamos__buf500__seed0.log').exists()
    assert collect(study, tmp_path / 'elsewhere') == arms
    rows = table(arms).splitlines()
    assert rows[2].startswith('| Dynamos (Table 5) | 70.00 / 80.00 / 75.00 | 75.00 ± 5.00 | - | 0.750 | 0.100 |')
    assert rows[3].startswith('| static (exploratory) |') and '| +14.00 [+10.00, +18.00] |' in rows[3]


def test_the_arms_are_data_shared_with_the_run_script():
    """The committed study's arms.json: what run_study.sh runs and the summary reads (the reference arm first)."""
    from dynamos_plugin.diagnostics.agents_study import load_arms
    from dynamos_plugin.experiments.grid import METHODS
    from dynamos_plugin.glue.paths import REPO
    study = REPO / 'results' / 'studies' / 'mnist360-agents'
    spec = load_arms(study)
    assert spec['reference'] == spec['arms'][0]['name'] == 'faithful'
    assert all(arm['method'] in METHODS and (study / arm['name'] / 'records').is_dir() for arm in spec['arms'])
    # every agents arm runs the variants model with the drift probe; the baselines run their own models
    assert {arm['method'] for arm in spec['arms']} == {'dynamos-variants', 'static', 'msa'}
    assert all('--drift_every 100' in arm['flags'] for arm in spec['arms'] if arm['method'] == 'dynamos-variants')
    assert 'arms.json' in (study / 'run_study.sh').read_text()


def test_an_arms_file_without_its_reference_is_refused(tmp_path):
    from dynamos_plugin.diagnostics.agents_study import load_arms
    (tmp_path / 'arms.json').write_text(json.dumps({'reference': 'faithful', 'arms': [{'name': 'static'}]}))
    with pytest.raises(ValueError, match='include the reference `faithful`'):
        load_arms(tmp_path)


def test_copied_logs_hold_no_absolute_path(tmp_path):
    from dynamos_plugin.diagnostics.agents_study import portable
    root = tmp_path / 'clone'
    runs = root / 'runs' / 'mnist360-agents'
    runs.mkdir(parents=True)
    data = (tmp_path / 'shared' / 'data').as_posix()
    text = (f'{root}/.venv/bin/python {root}/mammoth/main.py --base_path {data} --results_path {runs}/x/mammoth\n'
            f'Current working directory: {root}/mammoth.\n')
    out = portable(text, {'args': ['--base_path', '../shared/data']}, runs)
    assert out == ('.venv/bin/python mammoth/main.py --base_path ../shared/data --results_path '
                   'runs/mnist360-agents/x/mammoth\nCurrent working directory: mammoth.\n')
    assert str(tmp_path) not in out
