"""The report, from records alone: the tables (Markdown, CSV, LaTeX), the user's report beside the committed
reference, the plots (one colour per method, zoomed to the data), and the committed report as the records make it."""

import csv
import io
import shutil

import pytest

from dynamos_plugin.glue import paths
from dynamos_plugin.experiments import __main__ as cli, cells, formats, plots, records, report, svhn_timing
from dynamos_plugin.glue.paths import REPO


def synthetic_record(results, dataset, method, buffer, seed, accuracy, wall_s=600.0, **extra):
    records.write_json(results / 'records' / f'{dataset}__{method}__buf{buffer or 0}__seed{seed}.json', {
        'status': 'ok', 'dataset': dataset, 'method': method, 'buffer': buffer, 'seed': seed, 'accuracy': accuracy,
        'setting': 'Class-IL', 'wall_s': wall_s, 'threads': 1, 'extra_args': [],
        'hardware': {'cpu': 'Test CPU', 'cores': 2, 'gpu': None, 'torch': '9.9'}, **extra})


@pytest.fixture
def results(tmp_path):
    """A results folder: Seq-MNIST Dynamos 500 (3 seeds), MNIST-360 Dynamos 200 (5 seeds), SGD (1 seed), a
    debug run of ER 1000, the Seq-SVHN timing."""
    results = tmp_path / 'results'
    for seed, acc in enumerate([96.0, 97.0, 98.0]):
        synthetic_record(results, 'seq-mnist', 'dynamos', 500, seed, acc, wall_s=600.0 + 60 * seed)
    for seed, acc in enumerate([78.0, 79.0, 80.0, 81.0, 82.0]):
        synthetic_record(results, 'mnist-360', 'dynamos', 200, seed, acc, wall_s=120.0)
    synthetic_record(results, 'mnist-360', 'sgd', None, 0, 18.0, wall_s=60.0)
    synthetic_record(results, 'seq-mnist', 'er', 1000, 0, 90.0, extra_args=['--debug_mode', '1'])
    records.write_json(results / 'benchmarks' / 'svhn_epoch_time.json', {
        'epoch_s': 1000.0, 'steps': 916, 'n_train': 73257, 'run_h': 97.2, 'grid_runs': 39, 'grid_days': 158.0})
    return results


def test_report_from_records(results):
    written = report.report(results)
    table2 = (results / 'report' / 'table2.md').read_text()
    # mean 97, sample std 1, paper 97.19; wall times 10, 11, 12 min
    assert '| dynamos | 500 | 97.00 ± 1.00 (n=3) | [94.52, 99.48] | - | - | 97.19 | -0.19 | 11.0 min |' in table2
    assert '| dynamos | 1000 | not run | - | - | - | 97.51 | - | - |' in table2
    assert '| er | 1000 | 90.00 (n=1) † | - | - | - | - | - | 10.0 min |' in table2  # one seed: no "± 0.00"
    assert '| sgd | - | not run | - | - | - | - | - | - |' in table2
    assert 'Test CPU, 2 cores, CPU only, torch 9.9, 1 thread(s) per run (10 runs)' in table2
    assert f'from 10 run records in `{results}/records/`' in table2  # a folder outside the repository: as it is
    assert "CCGN (not re-run here), by buffer size: 500: 94.01, 1000: 95.94, 2000: 95.94" in table2
    assert 'reference' not in table2  # no reference given
    table1 = (results / 'report' / 'table1.md').read_text()
    # mean 80, std sqrt(10/4) = 1.58; paper 79.638 +- 2.853
    assert '| dynamos | 200 | 80.00 ± 1.58 (n=5) | [78.04, 81.96] | - | - | 79.64 ± 2.85 | +0.36 | 2.0 min |' in table1
    assert '| sgd | - | 18.00 (n=1) | - | - | - | 18.71 ± 0.69 | -0.71 | 1.0 min |' in table1
    assert '| msa | 100 | not run | - | - | - | 61.19 ± 3.07 | - | - |' in table1
    assert 'studies/README.md' not in table1  # no studies page in this results folder: no link
    (results / 'studies').mkdir()
    (results / 'studies' / 'README.md').write_text('# Studies\n')
    report.report(results)
    assert '[studies/README.md](../studies/README.md)' in (results / 'report' / 'table1.md').read_text()
    svhn = (results / 'report' / 'table_svhn.md').read_text()
    assert svhn.count('| not run |') == 13 and 'took 1000 s' in svhn and 'about 158.0 days' in svhn
    comparison = (results / 'report' / 'comparison.md').read_text()
    assert '| dataset | buffer | dynamos | msa | static | sgd | er | der | derpp |' in comparison
    assert ('| seq-mnist | 500 | 97.00 ± 1.00 (n=3) | not run | not run | not run | not run | not run | not run |'
            in comparison)
    assert '| mnist-360 | 100 | not run | not run | not run | 18.00 (n=1) | not run | not run | not run |' in comparison
    assert '| seq-mnist | dynamos | 3 | 11.0 min | 0.55 h |' in comparison  # wall time per method
    for name in ('table2', 'table1', 'table_svhn'):
        assert {results / 'report' / f'{name}.{ext}' for ext in ('md', 'csv', 'tex')} <= set(written)
    for ds in ('seq-mnist', 'mnist-360'):
        png = results / 'report' / 'plots' / f'accuracy_vs_buffer_{ds}.png'
        assert png in written and png.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n' and png.stat().st_size > 10_000
    assert not (results / 'report' / 'plots' / 'accuracy_vs_buffer_seq-svhn32.png').exists()  # no SVHN records


def test_report_as_csv(results):
    report.report(results)
    rows = list(csv.DictReader(io.StringIO((results / 'report' / 'table1.csv').read_text())))
    assert list(rows[0]) == list(formats.CSV_FIELDS)
    assert [(r['method'], r['buffer']) for r in rows] == [
        ('dynamos', '100'), ('dynamos', '200'), ('dynamos', '500'), ('msa', '100'), ('msa', '200'), ('msa', '500'),
        ('static', '100'), ('static', '200'), ('static', '500'), ('sgd', ''), ('er', '100'), ('er', '200'), ('er', '500'), ('der', '100'), ('der', '200'), ('der', '500'),
        ('derpp', '100'), ('derpp', '200'), ('derpp', '500')]
    assert rows[1] == {'dataset': 'mnist-360', 'method': 'dynamos', 'buffer': '200', 'n': '5', 'seeds': '0 1 2 3 4',
                       'mean': '80.0', 'std': '1.5811', 'paper_mean': '79.638', 'paper_std': '2.853',
                       'ours_minus_paper': '0.362', 'wall_min': '2.0', 'extra_args': '0',
                       'ci95_low': '78.0368', 'ci95_high': '81.9632',  # 80 -+ t(4) 1.5811 / sqrt(5), t(4) = 2.776445
                       'recal_n': '0', 'recal_mean': '', 'recal_std': '', 'recal_ci95_low': '', 'recal_ci95_high': ''}
    assert (rows[9]['n'], rows[9]['mean'], rows[9]['std']) == ('1', '18.0', '')  # one seed (SGD): no std
    assert (rows[0]['n'], rows[0]['mean'], rows[0]['paper_mean']) == ('0', '', '64.418')  # not run
    er = [r for r in csv.DictReader(io.StringIO((results / 'report' / 'table2.csv').read_text()))
          if r['method'] == 'er' and r['buffer'] == '1000']
    assert er[0]['extra_args'] == '1' and er[0]['paper_mean'] == ''


def test_report_as_latex(results):
    report.report(results)
    tex = (results / 'report' / 'table1.tex').read_text().splitlines()
    assert tex[0] == '% Table 1: general continual learning, MNIST-360, accuracy (%)'
    assert 'needs \\usepackage{booktabs}' in tex[1]
    assert tex[2:6] == ['\\begin{tabular}{llrrrrr}', '\\toprule',
                        'Method & Buffer & Ours & Recalibrated BN & Paper & Ours $-$ paper & Wall time per run \\\\',
                        '\\midrule']
    assert tex[6] == 'Dynamos & 100 & not run & -- & 64.42 $\\pm$ 4.09 & -- & -- \\\\'
    assert tex[7] == ' & 200 & 80.00 $\\pm$ 1.58 (n=5) & -- & 79.64 $\\pm$ 2.85 & $+0.36$ & 2.0 min \\\\'  # name once
    assert 'SGD & -- & 18.00 (n=1) & -- & 18.71 $\\pm$ 0.69 & $-0.71$ & 1.0 min \\\\' in tex
    assert tex[-2:] == ['\\bottomrule', '\\end{tabular}'] and len(tex) == 6 + 19 + 2
    table2 = (results / 'report' / 'table2.tex').read_text()
    assert ' & 1000 & 90.00 (n=1)$^\\dagger$ & -- & -- & -- & 10.0 min \\\\' in table2
    assert '±' not in table2 and '†' not in table2  # plain LaTeX


def test_a_users_report_shows_the_reference_beside_each_cell(results, tmp_path):
    reference = tmp_path / 'reference'
    for seed, acc in enumerate([94.0, 95.0]):
        synthetic_record(reference, 'seq-mnist', 'dynamos', 500, seed, acc)
    synthetic_record(reference, 'seq-mnist', 'sgd', None, 0, 17.0)
    report.report(results, reference)
    table2 = (results / 'report' / 'table2.md').read_text()
    assert ('| method | buffer | ours (mean ± std, n seeds) | 95 % CI | recalibrated BN | 95 % CI | reference | paper '
            '| ours - paper | wall time per run (mean) |') in table2
    assert ('| dynamos | 500 | 97.00 ± 1.00 (n=3) | [94.52, 99.48] | - | - | 94.50 ± 0.71 (n=2) | 97.19 | -0.19 '
            '| 11.0 min |') in table2
    assert '| sgd | - | not run | - | - | - | 17.00 (n=1) | - | - | - |' in table2
    assert '| dynamos | 1000 | not run | - | - | - | not run | 97.51 | - | - |' in table2
    assert ('`reference/records/` (3 run records; [their report](../../reference/report/table2.md))'
            in table2.replace(str(tmp_path) + '/', ''))
    rows = list(csv.DictReader(io.StringIO((results / 'report' / 'table2.csv').read_text())))
    assert (rows[0]['reference_n'], rows[0]['reference_mean'], rows[0]['reference_std']) == ('2', '94.5', '0.7071')
    assert (rows[-1]['method'], rows[-1]['reference_mean'], rows[-1]['reference_std']) == ('sgd', '17.0', '')
    tex = (results / 'report' / 'table2.tex').read_text()
    assert 'Method & Buffer & Ours & Recalibrated BN & Reference & Paper' in tex
    assert 'Dynamos & 500 & 97.00 $\\pm$ 1.00 (n=3) & -- & 94.50 $\\pm$ 0.71 (n=2) & 97.19 & $-0.19$ & 11.0 min' in tex


def test_the_report_command_builds_the_committed_report_unless_told(monkeypatch, tmp_path, capsys):
    """--report alone: results/ (the committed reference); --results-dir X: X's report beside results/."""
    built = []
    monkeypatch.setattr(cli, 'report', lambda results_dir, reference=None: built.append((results_dir, reference))
                        or [results_dir / 'report' / 'table2.md'])
    monkeypatch.setattr(cli, 'update_readme', lambda readme, results_dir: built.append(('readme', results_dir)))
    assert cli.main(['--report']) == 0  # the committed report rewrites the README's generated blocks too
    assert built[-2:] == [(REPO / 'results', None), ('readme', REPO / 'results')]
    assert capsys.readouterr().out == 'wrote results/report/table2.md\n'  # the README did not change
    assert cli.main(['--report', '--results-dir', str(tmp_path)]) == 0
    assert built[-1] == (tmp_path, REPO / 'results')  # a user's report leaves the README alone
    assert cli.main(['--report', '--results-dir', str(tmp_path), '--reference-dir', str(tmp_path / 'ref')]) == 0
    assert built[-1] == (tmp_path, tmp_path / 'ref')
    assert cli.main(['--report', '--results-dir', str(REPO / 'results')]) == 0  # the reference itself: no column
    assert built[-2:] == [(REPO / 'results', None), ('readme', REPO / 'results')]


def test_report_command_without_records(tmp_path, capsys):
    assert cli.main(['--report', '--results-dir', str(tmp_path)]) == 0
    rows = [line.split(' | ') for line in (tmp_path / 'report' / 'table1.md').read_text().splitlines()
            if line.startswith('| ') and not line.startswith('| method')]
    assert sum(row[2] == 'not run' for row in rows) == 3 * 6 + 1  # every cell of ours
    assert 'wrote' in capsys.readouterr().out
    assert (tmp_path / 'report' / 'plots' / 'accuracy_vs_buffer_mnist-360.png').exists()


def test_report_reproduces_the_committed_report(tmp_path, monkeypatch):
    """The committed report pages (Markdown, CSV, LaTeX) are what the report builds from the committed records and
    the files it reads (the studies page, which it links; the Seq-SVHN timing, which it quotes), byte for byte.
    The plots are not compared (nor drawn: the pages do not depend on them)."""
    committed = REPO / 'results'
    monkeypatch.setattr(paths, 'REPO', tmp_path)  # the repository root moved: the header names results/
    results = tmp_path / committed.name
    shutil.copytree(committed / 'records', results / 'records')
    for read in (report.STUDIES_PAGE, svhn_timing.SVHN_TIMING):
        if (committed / read).exists():
            (results / read).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(committed / read, results / read)
    monkeypatch.setattr(report, 'write_plots', lambda all_cells, folder: [])
    written = report.report(results)
    pages = sorted(p.name for p in (committed / report.REPORT_DIR).iterdir() if p.is_file())
    assert pages == sorted(['comparison.md'] + [f'{t}.{ext}' for t in ('table1', 'table2', 'table_svhn')
                                                for ext in ('md', 'csv', 'tex')])
    assert sorted(p.name for p in written) == pages
    for name in pages:
        assert (results / report.REPORT_DIR / name).read_bytes() == (committed / report.REPORT_DIR / name).read_bytes()


def test_two_std_flag():
    cell = {'mean': 90.0, 'std': 0.5, 'n': 3}
    assert cells.diff(cell, ('seq-mnist', 'dynamos', 500)) == '-7.19 (> 2 std)'
    assert cells.diff({'mean': 80.0, 'std': 1.0, 'n': 5}, ('mnist-360', 'dynamos', 200)) == '+0.36'
    assert cells.diff(cell, ('seq-mnist', 'er', 500)) == '-'


def test_a_single_seed_has_no_spread():
    one = {'mean': 95.123, 'std': 0.0, 'n': 1, 'extra_args': False}
    assert cells.fmt_cell(one) == '95.12 (n=1)'
    assert cells.fmt_cell(dict(one, n=2, std=0.0)) == '95.12 ± 0.00 (n=2)'  # two seeds that agree: a real 0
    assert cells.fmt_cell(None) == 'not run'


# ---------------------------------------------------------------------------------------------
# plots
# ---------------------------------------------------------------------------------------------

def test_y_limits_zoom_to_the_data():
    assert plots.y_limits([90.0, 98.0]) == (89.0, 99.0)  # a margin of at least 1 point
    assert plots.y_limits([40.0, 80.0]) == pytest.approx((38.0, 82.0))  # 5 % of the range
    # an error bar past 100: the axis is clipped at 100.5 (issue 27), the range and margin taken from 80..100
    assert plots.y_limits([80.0, 102.0]) == (79.0, 100.5)
    assert plots.y_limits([]) == (0.0, 100.0)
    assert plots.split_axis([72.0, 102.0], [12.0, 22.0])  # Seq-MNIST: SGD far below the others
    assert not plots.split_axis([40.0, 92.0], [14.0, 20.0])  # MNIST-360: close enough for one axis
    assert not plots.split_axis([90.0, 98.0], [])


class KeptFigures:
    """matplotlib.pyplot, but the figures stay open to be looked at."""

    def __init__(self):
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
        self.plt, self.figures = plt, []

    def subplots(self, *args, **kwargs):
        fig, ax = self.plt.subplots(*args, **kwargs)
        self.figures.append(fig)
        return fig, ax

    def close(self, fig):
        pass


def legend_colours(ax):
    """label -> colour (hex) of what the legend shows."""
    from matplotlib.colors import to_hex
    handles, labels = ax.get_legend_handles_labels()
    return {label: to_hex((h.lines[0] if hasattr(h, 'lines') else h).get_color()) for h, label in zip(handles, labels)}


def test_plots_use_one_colour_per_method_and_zoom_to_the_data(results, tmp_path):
    from matplotlib.colors import to_hex
    assert set(plots.METHOD_COLOURS) == set(plots.TABLE_METHODS)
    assert len({to_hex(c) for c in plots.METHOD_COLOURS.values()}) == len(plots.TABLE_METHODS)
    synthetic_record(results, 'mnist-360', 'msa', 200, 0, 70.0)
    synthetic_record(results, 'mnist-360', 'dynamos', 500, 0, 88.0)
    all_cells = cells.cells(records.load_records(results))
    colours = {}
    for table in ('2', '1'):
        plt = KeptFigures()
        plots.plot_accuracy_vs_buffer(plt, table, all_cells, tmp_path / f'{table}.png')
        colours[table] = legend_colours(plt.figures[-1].axes[0])  # the figure saved (a split axis: the second)
        plt.plt.close('all')
    assert colours['2'] == {'dynamos': to_hex('tab:blue'), 'er': to_hex('tab:orange'),
                            'dynamos (paper)': to_hex('tab:blue')}
    assert colours['1']['dynamos'] == colours['2']['dynamos'] == colours['1']['dynamos (paper)']
    assert colours['1']['msa'] == colours['1']['msa (paper)'] == to_hex('tab:purple')
    assert colours['1']['sgd (no buffer, n=1)'] == colours['1']['sgd (paper)'] == to_hex('tab:gray')
    # Seq-MNIST: Dynamos 97 with its interval [94.52, 99.48] (the paper 97.19..97.57), ER 90: the axis from 89 to
    # 100.48, not 0 to 100
    plt = KeptFigures()
    plots.plot_accuracy_vs_buffer(plt, '2', all_cells, tmp_path / 'seq-mnist.png')
    assert len(plt.figures) == 1 and plt.figures[0].axes[0].get_ylim() == pytest.approx((89.0, 100.4843), abs=1e-3)
    # MNIST-360: SGD 18 (the paper 18.71 ± 0.69) far below the others, from the paper's MSA at 100,
    # 61.19 - 3.07 = 58.12, to its Dynamos at 500, 90.52 + 0.74 = 91.26: a panel of its own
    plt = KeptFigures()
    plots.plot_accuracy_vs_buffer(plt, '1', all_cells, tmp_path / 'mnist-360.png')
    top, top_right, bottom = (plt.figures[-1].axes[i] for i in (0, 1, 2))  # panels: protocol, recalibrated
    assert top_right.get_ylim() == top.get_ylim()  # the two evaluations on one scale
    margin = 0.05 * (91.256 - 58.12)
    assert top.get_ylim() == pytest.approx((58.12 - margin, 91.256 + margin))
    assert bottom.get_ylim() == pytest.approx((18.0 - 1, 18.712 + 0.69 + 1))
    plt.plt.close('all')


def test_intervals_recalibrated_columns_and_paired_verdicts(tmp_path):
    results = tmp_path / 'results'
    for seed, (dyn, er, er_recal, dyn_recal) in enumerate([(96.0, 90.0, 95.0, 96.5), (97.0, 93.0, 96.0, 97.0),
                                                            (98.0, 93.0, 97.0, 97.5)]):
        synthetic_record(results, 'seq-mnist', 'dynamos', 500, seed, dyn, accuracy_recal=dyn_recal)
        synthetic_record(results, 'seq-mnist', 'er', 500, seed, er, accuracy_recal=er_recal)
    synthetic_record(results, 'seq-mnist', 'der', 500, 0, 91.0)  # one common seed: no paired verdict
    report.report(results)
    table2 = (results / 'report' / 'table2.md').read_text()
    # recalibrated dynamos: mean 97, std 0.5, 97 -+ 4.303 * 0.5 / sqrt(3) = 97 -+ 1.242
    assert '| dynamos | 500 | 97.00 ± 1.00 (n=3) | [94.52, 99.48] | 97.00 ± 0.50 (n=3) | [95.76, 98.24] |' in table2
    comparison = (results / 'report' / 'comparison.md').read_text()
    # protocol differences 6, 4, 5: mean 5, std 1, 5 -+ 2.484 (t = 5 sqrt(3), two-sided p = 0.013072:
    # 1 - t / sqrt(t^2 + 2) with 2 degrees of freedom) -> better; recalibrated 1.5, 1, 0.5: mean 1, std 0.5,
    # 1 -+ 1.242 (t = 2 sqrt(3), p = 0.074180) -> the interval holds 0. One comparison per family: Holm changes nothing
    assert ('| seq-mnist | 500 | er | 3 | +5.00 [+2.52, +7.48] | 0.0131 | better (adjusted p=0.0131) | '
            '+1.00 [-0.24, +2.24] | 0.0742 | no detectable difference (adjusted p=0.0742) |') in comparison
    assert '| seq-mnist | 500 | der |' not in comparison.split('## Seed spread')[0]
    assert 'no cell pair' not in comparison  # one pair is a pair
    assert ('- seq-mnist, protocol: 1 comparisons (SGD excluded); 1 exclude 0 uncorrected (about 0.05 expected by '
            "chance alone), 1 after Holm's correction (er 500).") in comparison
    assert ('- seq-mnist, recalibrated: 1 comparisons (SGD excluded); 0 exclude 0 uncorrected (about 0.05 expected '
            "by chance alone), 0 after Holm's correction.") in comparison
    # the seed spread, protocol -> recalibrated: ER 90, 93, 93 (mean 92, variance (4 + 1 + 1) / 2 = 3) -> 95, 96,
    # 97 (std 1); Dynamos 96, 97, 98 (std 1) -> 96.5, 97, 97.5 (std 0.5); DER (one seed, no recalibration): no row
    # recalibrated minus protocol, paired: Dynamos +0.5, 0, -0.5 (mean 0, std 0.5: 0 -+ 1.242, no difference);
    # ER +5, +3, +4 (mean 4, std 1: 4 -+ 2.484, higher)
    assert ('| seq-mnist | 500 | dynamos | 3 | 1.00 -> 0.50 | 2.00 -> 1.00 | 96.00 -> 96.50 | '
            '+0.00 [-1.24, +1.24], n=3: no detectable difference at 3 seeds |') in comparison
    assert ('| seq-mnist | 500 | er | 3 | 1.73 -> 1.00 | 3.00 -> 2.00 | 90.00 -> 95.00 | '
            '+4.00 [+1.52, +6.48], n=3: higher |') in comparison
    # a recalibration that costs accuracy reads *lower*, not the paired comparison's *worse*
    assert report._fmt_lift(cells.paired({'by_seed': {0: 85.0, 1: 87.0, 2: 86.0}},
                                         {'by_seed': {0: 90.0, 1: 90.0, 2: 90.0}})) == \
        '-4.00 [-6.48, -1.52], n=3: lower'
    assert '| seq-mnist | 500 | der |' not in comparison
    # pooled: sqrt((3 + 1) / 2) = 1.41 -> sqrt((1 + 0.25) / 2) = 0.79
    assert 'seq-mnist: the recalibrated std is smaller in 2 of 2 cells; pooled std 1.41 -> 0.79.' in comparison
    assert cells.spread({'by_seed': {0: 1.0, 1: 2.0}, 'recal': {'by_seed': {1: 2.0, 2: 3.0}}}) is None  # 1 common
    assert cells.paired({'by_seed': {0: 1.0, 1: 2.0}}, {'by_seed': {0: 3.0, 1: 5.0}})['verdict'] == \
        'no detectable difference at 2 seeds'  # -2, -3: t(1) = 12.7 makes two seeds all but useless
    assert cells.paired({'by_seed': {0: 1.0, 1: 2.0, 2: 3.0}}, {'by_seed': {0: 3.0, 1: 4.1, 2: 4.9}})['verdict'] == \
        'worse'
    rows = list(csv.DictReader(io.StringIO((results / 'report' / 'table2.csv').read_text())))
    (dyn,) = [r for r in rows if r['method'] == 'dynamos' and r['buffer'] == '500']
    # 97 - t(2) 0.5 / sqrt(3), t(2) = 4.302653
    assert (dyn['recal_n'], dyn['recal_mean'], dyn['recal_std'], dyn['recal_ci95_low']) == ('3', '97.0', '0.5', '95.7579')
    plt = KeptFigures()
    plots.plot_accuracy_vs_buffer(plt, '2', cells.cells(records.load_records(results)), tmp_path / 'p.png')
    protocol, recalibrated = plt.figures[-1].axes[:2]  # two panels (issue 27), one per evaluation
    assert recalibrated.get_title() == 'BatchNorm statistics recalibrated'
    left, right = legend_colours(protocol), legend_colours(recalibrated)
    assert right['dynamos'] == left['dynamos'] and 'er' in right and right['dynamos (paper)'] == left['dynamos']
    # the recalibrated panel draws the recalibrated means: Dynamos 97.0 at buffer 500
    (dynamos,) = [c.lines[0] for c in recalibrated.containers if c.get_label() == 'dynamos']
    assert list(dynamos.get_ydata()) == [97.0]
    # the paper's line on top of ours, thicker
    (paper,) = [c.lines[0] for c in protocol.containers if c.get_label() == 'dynamos (paper)']
    ours = [c.lines[0] for c in protocol.containers if c.get_label() == 'dynamos'][0]
    assert paper.get_zorder() > ours.get_zorder() and paper.get_linewidth() == 2.5 > ours.get_linewidth()
    plt.plt.close('all')


def test_holm_equivalence_and_interaction_in_the_comparison_page(tmp_path):
    """Hand-computed (2 degrees of freedom: P(T > t) = (1 - t / sqrt(t^2 + 2)) / 2): the family's Holm correction,
    the static-vs-Eq. 8 equivalence test and the BatchNorm-lift interaction as the comparison page prints them."""
    results = tmp_path / 'results'
    rows = {'dynamos': [(96.0, 96.5), (97.0, 97.0), (98.0, 97.5)], 'msa': [(95.0, 95.0), (95.0, 96.0), (95.0, 97.0)],
            'static': [(95.5, 95.0), (95.0, 96.5), (96.0, 97.5)]}
    for method, by_seed in rows.items():
        for seed, (acc, recal) in enumerate(by_seed):
            synthetic_record(results, 'mnist-360', method, 500, seed, acc, accuracy_recal=recal)
    report.report(results)
    comparison = (results / 'report' / 'comparison.md').read_text()
    # protocol, Dynamos minus msa: 1, 2, 3 (t = 2 sqrt(3), p = 0.074180); minus static: 0.5, 2, 2 (mean 1.5, std
    # 0.866, t = 3, p = 1 - 3 / sqrt(11) = 0.095466). Holm over the two: 0.074180 x 2 = 0.148361, then 0.095466
    # raised to it
    assert '| mnist-360 | 500 | msa | 3 | +2.00 [-0.48, +4.48] | 0.0742 | no detectable difference (adjusted p=0.1484) |' \
        in comparison
    assert '| mnist-360 | 500 | static | 3 | +1.50 [-0.65, +3.65] | 0.0955 | no detectable difference (adjusted ' \
        'p=0.1484) |' in comparison
    # static minus Eq. 8: protocol 0.5, 0, 1 (mean 0.5, standard error 0.5 / sqrt(3)): t = -3 sqrt(3) against +2
    # (p = 0.017550), 5 sqrt(3) against -2 (p = 0.006536); 90 % CI 0.5 -+ 2.919986 x 0.288675 = 0.5 -+ 0.842927
    assert ('| mnist-360 | 500 | protocol | 3 | +0.50 [-0.74, +1.74] | [-0.34, +1.34] | 0.0175 | equivalent within '
            '±2 |') in comparison
    # recalibrated 0, 0.5, 0.5 (mean 1/3, standard error 1/6): t = -10 against +2 (p = (1 - 10 / sqrt(102)) / 2
    # = 0.004926)
    assert '| mnist-360 | 500 | recalibrated | 3 | +0.33 ' in comparison and '| 0.0049 | equivalent within ±2 |' \
        in comparison
    # lifts (recalibrated - protocol): Dynamos +0.5, 0, -0.5; msa 0, 1, 2; static -0.5, 1.5, 1.5. Dynamos' minus
    # msa's: 0.5, -1, -2.5 (mean -1, std 1.5, t = -2 / sqrt(3) = -1.1547, p = 1 - 1.1547 / sqrt(3.3333) = 0.367544;
    # 95 % CI -1 -+ 4.302653 x 0.866025 = -1 -+ 3.726206); it is the primary row
    assert "| mnist-360 | 500 | msa's | 3 | -1.00 [-4.73, +2.73] | 0.3675 | primary: no detectable difference |" \
        in comparison
    assert "| mnist-360 | 500 | static's | 3 |" in comparison and 'exploratory: no detectable difference' in comparison


def test_the_footer_tells_two_cpus_of_one_model_name_apart():
    """Two VMs both named "AMD EPYC" are two machines when the records say their family/model differ; a record from
    before those fields keeps its one-name line."""

    def rec(**hw):
        return {'hardware': {'cpu': 'AMD EPYC', 'cores': 2, 'gpu': None, 'torch': '2.14.1', **hw}, 'threads': 1}
    milan = rec(cpu_id='AuthenticAMD family 25 model 1 stepping 1', cpu_capability='AVX2')
    rome = rec(cpu_id='AuthenticAMD family 23 model 49 stepping 0', cpu_capability='AVX2')
    assert report.hardware_markdown([milan, milan, rome, rec()]) == (
        'Measured on: AMD EPYC (AuthenticAMD family 25 model 1 stepping 1, AVX2), 2 cores, CPU only, torch 2.14.1, '
        '1 thread(s) per run (2 runs); AMD EPYC (AuthenticAMD family 23 model 49 stepping 0, AVX2), 2 cores, CPU '
        'only, torch 2.14.1, 1 thread(s) per run (1 runs); AMD EPYC, 2 cores, CPU only, torch 2.14.1, 1 thread(s) per '
        'run (1 runs).')
