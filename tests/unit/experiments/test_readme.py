"""README.md's generated blocks (dynamos_plugin/experiments/readme.py): each is what the generator writes from the
committed results, so no number the README quotes from them can go stale; and the README names no number of the
results outside them that a test does not check."""

import pytest

from dynamos_plugin.experiments import readme
from dynamos_plugin.glue.paths import REPO

from .test_report import synthetic_record


def test_the_readme_blocks_are_what_the_generator_writes():
    text = (REPO / 'README.md').read_text()
    generated = readme.blocks(REPO / 'results')
    assert sorted(readme.block_names(text)) == sorted(generated), 'every block once, and no other'
    stale = [name for name in generated if f'<!-- generated:{name} -->\n{generated[name]}\n<!-- /generated:{name} -->'
             not in text]
    assert not stale, f'README.md blocks differ from the committed results: {stale}; run ./run_experiments.sh --report'


def test_render_replaces_only_the_blocks():
    text = 'a 1\n<!-- generated:x -->\nold 2\n<!-- /generated:x -->\nb 3\n'
    assert readme.render(text, {'x': 'new 4', 'y': 'unused'}) == \
        'a 1\n<!-- generated:x -->\nnew 4\n<!-- /generated:x -->\nb 3\n'
    assert readme.render(readme.render(text, {'x': 'new'}), {'x': 'new'}) == readme.render(text, {'x': 'new'})
    with pytest.raises(KeyError, match='"x"'):
        readme.render(text, {})


def test_the_quick_start_block_quotes_the_records(tmp_path):
    results = tmp_path / 'results'
    for seed, (acc, wall) in enumerate([(92.0, 480.0), (96.0, 460.0), (97.0, 470.0)]):
        synthetic_record(results, 'seq-mnist', 'dynamos', 500, seed, acc, wall_s=wall, task_il=99.0 + seed / 10)
    block = readme.quick_start(readme.Results(results))
    assert '[Class-IL]: ~95 % [Task-IL]: ~99.1 %' in block  # mean 95.00
    assert 'ended at Class-IL 92.00 / 96.00 / 97.00 % (mean 95.00 ± 2.65' in block
    assert 'machine (Test CPU) they took 480 / 460 / 470 s (7.7 to 8.0 min' in block
    assert 'A seed repeats a run to the last digit on the same machine only' in block


def test_the_authors_code_block_quotes_only_the_anchor_records(tmp_path):
    import json
    results = tmp_path / 'results'
    assert 'no committed anchor record' in readme.authors_code(readme.Results(results))
    anchors = results / 'anchors' / 'authors-code' / 'records'
    anchors.mkdir(parents=True)
    theirs = {('mnist-360', 'dynamos'): [70.0, 72.0], ('mnist-360', 'msa'): [80.0, 84.0]}
    for (ds, method), accs in theirs.items():
        for seed, acc in enumerate(accs):
            (anchors / f'{ds}__{method}__buf500__seed{seed}.json').write_text(json.dumps(
                {'dataset': ds, 'method': method, 'buffer': 500, 'seed': seed, 'accuracy': acc}))
    for seed, acc in enumerate([71.0, 75.0]):  # this plugin's records of the same cell and seeds
        synthetic_record(results, 'mnist-360', 'dynamos', 500, seed, acc)
    block = readme.authors_code(readme.Results(results))
    # 70, 72: mean 71, std sqrt(2), interval 71 -+ t(0.975, 1) * 1 = 71 -+ 12.706
    assert 'over seeds 0, 1 (4 committed records' in block
    assert 'MNIST-360 500 Dynamos 71.00 ± 1.41 [58.29, 83.71] (paper 90.52)' in block
    assert 'its Eq. 8 baseline 82.00 ± 2.83 [56.59, 107.41] (paper 88.15)' in block
    assert 'Seq-MNIST' not in block  # no anchor record of that cell
    # plugin minus authors, paired: +1, +3: mean +2, std sqrt(2): +2 -+ 12.706; no Eq. 8 record of the plugin
    assert 'paired by seed: MNIST-360 500 Dynamos +2.00 [-10.71, +14.71] (no interval excludes 0' in block
    # the authors' Dynamos minus their Eq. 8: -10, -12: mean -11, std sqrt(2)
    assert 'paired by seed: -11.00 [-23.71, +1.71], n=2; the interval includes 0 at these seeds).' in block


@pytest.mark.parametrize('page', ['mnist360-dynamos-gap', 'mnist360-agents'])
def test_study_pages_quote_the_authors_code_as_its_anchor_records_give_it(page):
    """The two study pages that quote the authors' code quote what the anchor records give (the README's block)."""
    block = readme.authors_code(readme.Results(REPO / 'results'))
    text = (REPO / 'results' / 'studies' / page / 'README.md').read_text()
    quoted = ['72.43 ± 6.94', '84.00 ± 5.27', '-11.57 [-41.29, +18.16]']
    assert all(q in block for q in quoted) and all(q in text for q in quoted)


def test_the_pages_blocks_are_what_the_generator_writes():
    """Pages under results/ with generated blocks (the mutation triage page) are as current as the README's."""
    for page, generators in readme.PAGES.items():
        text = (REPO / 'results' / page).read_text()
        generated = readme.blocks(REPO / 'results', generators)
        assert sorted(readme.block_names(text)) == sorted(generated), page
        for name, block in generated.items():
            assert f'<!-- generated:{name} -->\n{block}\n<!-- /generated:{name} -->' in text, \
                f'{page}: block {name} is stale; run ./run_experiments.sh --report'


def _mutation_run(results, name, date, total, killed, survivors, recheck=None):
    import json
    run = results / 'benchmarks' / 'mutation' / name
    run.mkdir(parents=True)
    (run / 'mutation.json').write_text(json.dumps({
        'date': date, 'commit': 'abcdef1234', 'exec_s': 1800, 'workers': 2, 'total': total, 'killed': killed,
        'survived': survivors, 'per_module': {'dynamos_plugin/losses.py': {}, 'dynamos_plugin/variants/x.py': {}}}))
    if recheck is not None:
        (run / 'recheck.json').write_text(json.dumps({'commit': '1234567', 'mutants': [
            {'recheck': outcome} for outcome, n in recheck.items() for _ in range(n)]}))


def test_the_mutation_block_counts_each_run_and_its_recheck(tmp_path):
    results = tmp_path / 'results'
    assert readme.mutation(readme.Results(results)) == 'No mutation run is committed yet.'
    _mutation_run(results, 'b', '2026-12-02 10:00', 40, 30, 10)  # newer, not rechecked yet
    assert readme.mutation(readme.Results(results)).endswith('| not yet |\n\nNo run is rechecked yet.')
    _mutation_run(results, 'a', '2026-12-01 10:00', 200, 190, 10, {'killed': 6, 'survived': 3, 'no longer applies': 1})
    block = readme.mutation(readme.Results(results)).splitlines()
    # oldest first; 190 / 200 = 95.0 %, 30 / 40 = 75.0 %; 1800 s = 30 min
    assert block[2] == ('| [a/](results/benchmarks/mutation/a/mutation.md) | `losses.py`, `variants/x.py` | `abcdef1` | '
                        '30 min, 2 workers | 200 | 190 (95.0 %) | 6 | 3 | 1 | `1234567` |')
    assert block[3].endswith('| 40 | 30 (75.0 %) | - | - | - | not yet |')
    assert block[-1] == ('Of the 10 survivors of the rechecked runs, 6 are killed by tests written since and 3 are '
                         'equivalent (no input the code can receive tells them from the original), each explained on '
                         '[the triage page](results/benchmarks/mutation/README.md); 1 lies in lines rewritten since. '
                         'Not rechecked, their survivors triaged by hand on [the triage page]'
                         '(results/benchmarks/mutation/README.md): `b/` (10 survivors).')
    (results / 'benchmarks' / 'mutation' / 'b' / 'recheck.json').write_text(
        '{"commit": "7654321", "mutants": [' + ', '.join(['{"recheck": "killed"}'] * 4 + ['{"recheck": "survived"}'] * 6)
        + ']}')
    page = readme.mutation(readme.Results(results), here='')
    # 10 + 10 survivors; killed 6 + 4, equivalent 3 + 6, one in a line rewritten since
    assert page.splitlines()[2].startswith('| [a/](a/mutation.md) |')
    assert page.endswith('Of the 20 survivors of the rechecked runs, 10 are killed by tests written since and 9 are '
                         'equivalent (no input the code can receive tells them from the original), each explained below; '
                         '1 lies in lines rewritten since.')


def test_the_triage_page_explains_every_survivor_a_recheck_left():
    """Each run has its section on the triage page; a rechecked run's has one `equivalent` row per mutant its recheck
    still finds alive."""
    import json
    import re
    page = (REPO / 'results' / 'benchmarks' / 'mutation' / 'README.md').read_text()
    sections = re.split(r'\n(?=## )', page)
    for report in sorted((REPO / 'results' / 'benchmarks' / 'mutation').glob('*/mutation.json')):
        name, recheck = report.parent.name, report.parent / 'recheck.json'
        section = [s for s in sections if s.startswith('## ') and f'({name}/mutation.md)' in s.split('\n\n')[1]]
        assert len(section) == 1, f'one section of the triage page names the run {name}/ in its first paragraph'
        if not recheck.exists():
            continue  # triaged by hand, as the generated block says
        alive = sum(m['recheck'] == 'survived' for m in json.loads(recheck.read_text())['mutants'])
        rows = [line for line in section[0].splitlines() if re.match(r'\| \d', line)]
        assert sum('| equivalent' in row for row in rows) == alive, name


def test_the_cpu_cost_blocks_quote_the_benchmark_file(tmp_path):
    import json
    results = tmp_path / 'results'
    assert 'not measured yet' in readme.anytime_cost(readme.Results(results))
    (results / 'benchmarks').mkdir(parents=True)
    common = {'commit': 'abcdef1234', 'load_average_at_start': 2.04}
    run = {'accuracy': 68.23, 'accuracy_recal': 74.71}
    (results / 'benchmarks' / 'cpu_cost.json').write_text(json.dumps({
        'startup': {**common, 'repeats': 3, 'median_cpu_s': {'help': 5.54, 'argument_error': 5.26, 'import_torch': 3.3}},
        'anytime': {**common, 'cpu': 'Some CPU', 'with': {**run, 'cpu_s': 638.7, 'wall_s': 700.0},
                    'without': {**run, 'cpu_s': 576.4, 'wall_s': 640.0}, 'extra_cpu': 0.1081}}))
    r = readme.Results(results)
    assert readme.startup(r).startswith('`--help` and an argument error take 5.5 and 5.3 s of CPU here, of which 3.3 s '
                                        'is `import torch, torchvision` alone (median of 3,')
    assert 'load average of 2.0' in readme.startup(r) and 'commit `abcdef1`' in readme.startup(r)
    block = readme.anytime_cost(r)
    assert '638.7 CPU s with `--eval_every 100 --eval_subset 1000` against 576.4 without, **+10.8 %**' in block
    assert 'the same final accuracy, 68.23 / recalibrated 74.71' in block
    assert "2-core machine (Some CPU), load average 2.0 at the start, commit `abcdef1`" in block
    assert block.endswith('Wall time, which the load moves more: 700 s against 640 s (+9.4 %).')  # 700 / 640 - 1
    assert '[cpu_cost.json](results/benchmarks/cpu_cost.json)' in block
    assert '[cpu_cost.json](../../benchmarks/cpu_cost.json)' in readme.anytime_cost(r, here='../../benchmarks/')
    data = json.loads((results / 'benchmarks' / 'cpu_cost.json').read_text())
    data['anytime']['with']['accuracy'] = 68.24  # the option changed training: the block says so
    (results / 'benchmarks' / 'cpu_cost.json').write_text(json.dumps(data))
    assert '**different final accuracies**, 68.24 against 68.23' in readme.anytime_cost(readme.Results(results))


def test_the_stream_verdicts_read_each_comparison_against_the_rule_stated_before_the_runs(tmp_path, monkeypatch):
    """Hand-made comparisons (Dynamos minus Eq. 8) through the page's rule: learning within ±5 or reaching into it;
    forgetting and gap with the interval above 0; auc below 0; **yes** only when it survives Holm's correction."""
    def comparison(buffer, metric, mean, lo, hi, p_holm, method='msa', dataset='mnist-360'):
        return {'dataset': dataset, 'method': method, 'buffer': buffer, 'metric': metric, 'mean': mean,
                'ci': (lo, hi), 'n': 3, 'p_holm': p_holm}
    made = [comparison(500, 'learning', -8.0, -12.0, -4.0, 0.2),       # reaches into ±5: yes by the rule, point -8
            comparison(500, 'forgetting', 2.0, 1.0, 3.0, 0.01),        # above 0, Holm < 0.05
            comparison(500, 'gap', 0.5, -1.0, 2.0, 1.0),               # spans 0
            comparison(500, 'auc', -3.0, -5.0, -1.0, 0.2),             # below 0, not after Holm
            comparison(200, 'learning', -10.0, -15.0, -6.0, 0.01),     # entirely below -5: not as expected
            comparison(200, 'forgetting', 9.0, 8.0, 10.0, 0.01, method='static'),  # another method: not in the table
            comparison(500, 'gap', 4.0, 2.0, 6.0, 0.03, dataset='seq-mnist')]  # after MNIST-360's rows
    monkeypatch.setattr(readme.anytime, 'metric_cells', lambda records: {})
    monkeypatch.setattr(readme.anytime, 'paired_against_dynamos', lambda cells: made)
    rows = readme.stream_verdicts(readme.Results(tmp_path / 'results')).splitlines()
    assert rows[2:] == [
        '| mnist-360 | 500 | learning | -8.00 [-12.00, -4.00] | 3 | 0.2 | within ±5, or the interval reaching into ±5 | '
        'yes by the rule (the point estimate is -8.0) |',
        '| mnist-360 | 500 | forgetting | +2.00 [+1.00, +3.00] | 3 | 0.01 | positive, interval above 0 | **yes** |',
        '| mnist-360 | 500 | gap | +0.50 [-1.00, +2.00] | 3 | 1 | positive, interval above 0 | no: no detectable difference |',
        '| mnist-360 | 500 | auc | -3.00 [-5.00, -1.00] | 3 | 0.2 | negative, interval below 0 | uncorrected only (not after '
        'Holm) |',
        '| mnist-360 | 200 | learning | -10.00 [-15.00, -6.00] | 3 | 0.01 | within ±5, or the interval reaching into ±5 | '
        'no |',
        '| seq-mnist | 500 | gap | +4.00 [+2.00, +6.00] | 3 | 0.03 | positive, interval above 0 | **yes** |']
    monkeypatch.setattr(readme.anytime, 'paired_against_dynamos', lambda cells: [])
    assert readme.stream_verdicts(readme.Results(tmp_path / 'results')) == ('No buffer has Dynamos and Eq. 8 at two '
                                                                           'common seeds yet.')


def _curve(first, last):
    """Two points of class 0, which arrives at step 1: auc (first + last) / 2, learning ``last``, forgetting
    ``max(first, last) - last``; no stability-gap event (no earlier class). 200 test images, so that every
    accuracy here is a whole number of them (the metrics count images)."""
    point = lambda step, a, arrivals: {'step': step, 'seen_accuracy': a, 'class_accuracy': {'0': a},  # noqa: E731
                                       'class_total': {'0': 200}, 'arrivals': arrivals}
    return [point(1, first, [[1, [0], [0]]]), point(2, last, [])]


def test_the_stream_methods_table_lists_every_cell_with_its_paired_differences(tmp_path):
    study = tmp_path / 'results' / readme.STREAM
    assert readme.stream_methods(readme.Results(tmp_path / 'results')) == 'No run of the study has a curve yet.'
    # Dynamos: auc 70, 71, 69; forgetting 20, 21, 19; learning 60, 60.5, 59.5; final 60, 61, 59
    for seed, (first, last, acc) in enumerate([(80, 60, 60), (81.5, 60.5, 61), (78.5, 59.5, 59)]):
        synthetic_record(study, 'mnist-360', 'dynamos', 500, seed, acc, anytime=_curve(first, last))
    for seed in range(3):  # Eq. 8: auc 80, forgetting 0, learning 80, final 80 at every seed
        synthetic_record(study, 'mnist-360', 'msa', 500, seed, 80.0, anytime=_curve(80, 80))
    synthetic_record(study, 'mnist-360', 'sgd', None, 0, 10.0, anytime=_curve(50, 10))  # one seed: no interval
    synthetic_record(study, 'seq-mnist', 'dynamos', 500, 0, 90.0, anytime=_curve(90, 90))
    synthetic_record(study, 'mnist-360', 'er', 500, 0, 70.0)  # no curve: not a cell of this table
    rows = readme.stream_methods(readme.Results(tmp_path / 'results')).splitlines()
    # t(0.975, 2) = 4.3027: std 1 gives +-2.48 (se 0.577), std 0.5 gives +-1.24
    # Dynamos minus Eq. 8, auc -10, -9, -11 and forgetting +20, +21, +19: std 1, se 0.577, t = 17.32 and 34.64 with 2
    # degrees of freedom, two-sided p = 1 - |t| / sqrt(t^2 + 2) = 0.0033 and 0.00083; one comparison per metric, so
    # Holm leaves them
    assert rows[2:] == [
        '| mnist-360 | 500 | Dynamos | 3 | 60.00 [57.52, 62.48] | 70.00 [67.52, 72.48] | 60.00 [58.76, 61.24] | '
        '20.00 [17.52, 22.48] | - | - | - |',
        '| mnist-360 | 500 | Eq. 8 | 3 | 80.00 [80.00, 80.00] | 80.00 [80.00, 80.00] | 80.00 [80.00, 80.00] | '
        '0.00 [0.00, 0.00] | - | -10.00 (Holm p 0.0033, Dynamos lower) | +20.00 (Holm p 0.00083, Dynamos higher) |',
        '| mnist-360 | - | SGD | 1 | 10.00 | 30.00 | 10.00 | 40.00 | - | - | - |',
        '| seq-mnist | 500 | Dynamos | 1 | 90.00 | 90.00 | 90.00 | 0.00 | - | - | - |']


def _numbers(text: str) -> set:
    """The decimal numbers of ``text``, without their signs."""
    import re
    return set(re.findall(r'(?<![\w.])[+\-−]?(\d+\.\d+)(?![\w.])', text))


def test_the_stream_study_page_quotes_no_number_its_report_and_records_do_not_hold():
    """Every decimal number the stream study's page writes by hand (outside its generated blocks) is one that its
    report, the main report's comparisons, the cost file or the final accuracy of a record it cites holds, written
    the same way: a number copied from an older report, or rounded otherwise, fails here."""
    import json
    study = REPO / 'results' / readme.STREAM
    sources = [*(study / 'report').glob('*.md'), REPO / 'results' / 'report' / 'comparison.md',
               REPO / 'results' / 'report' / 'table1.md', REPO / 'results' / 'benchmarks' / 'cpu_cost.json']
    have = set().union(*(_numbers(path.read_text()) for path in sources))
    for path in [*(study / 'records').glob('*.json'), *(study / 'without-eval' / 'records').glob('*.json'),
                 *(study / 'xeon' / 'records').glob('*.json'),
                 *(study / 'record-commit' / 'records').glob('*.json'),
                 *(REPO / 'results' / 'records').glob('*.json')]:
        record = json.loads(path.read_text())
        for key in ('accuracy', 'accuracy_recal', 'per_task', 'per_task_recal'):
            values = record.get(key)
            for value in values if isinstance(values, list) else [values]:
                if isinstance(value, (int, float)):
                    have |= {f'{value:.2f}', repr(value)}
    prose = readme.MARKER.sub('', (study / 'README.md').read_text())
    assert sorted(_numbers(prose) - have) == []


def test_a_p_value_below_the_level_is_never_written_as_the_level():
    assert readme._p(0.0497) == '0.0497' and readme._p(0.0504) == '0.05' and readme._p(0.034) == '0.034'
    assert readme._p(1.0) == '1' and readme._p(0.00251) == '0.0025'
