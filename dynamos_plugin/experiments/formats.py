"""A table of the report in each format: Markdown (the pages), CSV (one row per cell) and a LaTeX tabular
(booktabs rules) to ``\\input`` in a paper."""

import csv
import io
from typing import Iterable, Optional

from dynamos_plugin.experiments.cells import diff, fmt_cell, fmt_ci, fmt_paper, table_keys, wall
from dynamos_plugin.experiments.published import PAPER


def table_markdown(table: str, all_cells: dict, methods: Iterable[str], reference: Optional[dict] = None) -> str:
    """The table as Markdown; with ``reference`` (the reference results' cells), a column of those beside ours."""
    ref_head = ' reference |' if reference is not None else ''
    lines = [f'| method | buffer | ours (mean ± std, n seeds) | 95 % CI | recalibrated BN | 95 % CI |{ref_head} paper '
             f'| ours - paper | wall time per run (mean) |',
             '|---|---|---|---|---|---|' + ('---|' if reference is not None else '') + '---|---|---|']
    for key in table_keys(table, methods):
        _, method, buffer = key
        cell = all_cells.get(key)
        recal = cell.get('recal') if cell else None
        ref = f' {fmt_cell(reference.get(key))} |' if reference is not None else ''
        lines.append(f'| {method} | {buffer or "-"} | {fmt_cell(cell)} | {fmt_ci(cell)} | '
                     f'{fmt_cell(recal) if recal else "-"} | {fmt_ci(recal)} |{ref} {fmt_paper(key)} | '
                     f'{diff(cell, key)} | {wall(cell)} |')
    return '\n'.join(lines)

CSV_FIELDS = ('dataset', 'method', 'buffer', 'n', 'seeds', 'mean', 'std', 'paper_mean', 'paper_std', 'ours_minus_paper',
              'wall_min', 'extra_args', 'ci95_low', 'ci95_high', 'recal_n', 'recal_mean', 'recal_std', 'recal_ci95_low',
              'recal_ci95_high')

REFERENCE_FIELDS = ('reference_n', 'reference_mean', 'reference_std')

def table_csv(table: str, all_cells: dict, methods: Iterable[str], reference: Optional[dict] = None) -> str:
    """The table as CSV, one row per cell, unrounded but for 4 decimals; an empty field where there is no value
    (a cell not run, the std of a single seed, a paper number the paper does not give)."""
    def num(value):
        return '' if value is None else round(value, 4)

    out = io.StringIO()
    writer = csv.writer(out, lineterminator='\n')
    writer.writerow(CSV_FIELDS + (REFERENCE_FIELDS if reference is not None else ()))
    for key in table_keys(table, methods):
        ds, method, buffer = key
        cell = all_cells.get(key) or {}
        n = cell.get('n', 0)
        paper_mean, paper_std = PAPER.get(key, (None, None))
        row = [ds, method, '' if buffer is None else buffer, n, ' '.join(map(str, cell.get('seeds', []))),
               num(cell.get('mean')), num(cell.get('std') if n > 1 else None), num(paper_mean), num(paper_std),
               num(cell['mean'] - paper_mean if cell and paper_mean is not None else None),
               num(cell.get('wall_min')), int(cell.get('extra_args', False)) if cell else '']
        recal = cell.get('recal') or {}
        row += [num((cell.get('ci') or (None, None))[0]), num((cell.get('ci') or (None, None))[1]),
                recal.get('n', 0), num(recal.get('mean')), num(recal.get('std') if recal.get('n', 0) > 1 else None),
                num((recal.get('ci') or (None, None))[0]), num((recal.get('ci') or (None, None))[1])]
        if reference is not None:
            ref = reference.get(key) or {}
            row += [ref.get('n', 0), num(ref.get('mean')), num(ref.get('std') if ref.get('n', 0) > 1 else None)]
        writer.writerow(row)
    return out.getvalue()

#: each method's name in the reports' text and plots (Markdown); TEX_NAMES: the same in the LaTeX table
NAMES = {'dynamos': 'Dynamos', 'msa': 'Eq. 8', 'static': 'static', 'er': 'ER', 'der': 'DER', 'derpp': 'DER++',
         'sgd': 'SGD'}
TEX_NAMES = {'dynamos': 'Dynamos', 'msa': 'MSA (Eq.~8)', 'static': 'Static sparsity', 'sgd': 'SGD', 'er': 'ER',
             'der': 'DER', 'derpp': 'DER++'}

def _tex_cell(cell: Optional[dict]) -> str:
    return fmt_cell(cell, pm=' $\\pm$ ', dagger='$^\\dagger$')

def _tex_paper(key) -> str:
    return fmt_paper(key).replace(' ± ', ' $\\pm$ ') if key in PAPER else '--'

def _tex_diff(cell: Optional[dict], key) -> str:
    text = diff(cell, key)
    if text == '-':
        return '--'
    number, _, flag = text.partition(' ')
    return f'${number}$' + (' ($>$ 2 std)' if flag else '')

def table_tex(table: str, title: str, source: str, all_cells: dict, methods: Iterable[str],
              reference: Optional[dict] = None) -> str:
    """The table as a LaTeX tabular with booktabs rules (``\\usepackage{booktabs}``), mean $\\pm$ std; a method's
    name on its first row only."""
    columns = ['Method', 'Buffer', 'Ours', 'Recalibrated BN'] + (['Reference'] if reference is not None else []) + [
        'Paper', 'Ours $-$ paper', 'Wall time per run']
    lines = [f'% {title}', f'% Built by ./run_experiments.sh --report from {source}; needs \\usepackage{{booktabs}}',
             '\\begin{tabular}{ll' + 'r' * (len(columns) - 2) + '}', '\\toprule', ' & '.join(columns) + ' \\\\',
             '\\midrule']
    previous = None
    for key in table_keys(table, methods):
        _, method, buffer = key
        cell = all_cells.get(key)
        recal = cell.get('recal') if cell else None
        row = [TEX_NAMES.get(method, method) if method != previous else '', str(buffer or '--'), _tex_cell(cell),
               _tex_cell(recal) if recal else '--']
        if reference is not None:
            row.append(_tex_cell(reference.get(key)))
        row += [_tex_paper(key), _tex_diff(cell, key), wall(cell).replace('-', '--')]
        lines.append(' & '.join(row) + ' \\\\')
        previous = method
    lines += ['\\bottomrule', '\\end{tabular}']
    return '\n'.join(lines) + '\n'
