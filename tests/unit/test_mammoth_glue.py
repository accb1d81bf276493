"""The diagnostics store the paths they read relative to the repository root, and the committed results hold
no absolute path of the machine that made them."""

import json
import subprocess
from pathlib import Path

from dynamos_plugin import mammoth_glue
from dynamos_plugin.diagnostics import agent_trace, bn_check
from dynamos_plugin.mammoth_glue import REPO, repo_relative


def test_repo_relative_by_hand(tmp_path, monkeypatch):
    assert repo_relative(REPO / 'results' / 'studies' / 'x.json') == 'results/studies/x.json'
    assert repo_relative(str(REPO / 'mammoth' / 'checkpoints' / 'a_last.pt')) == 'mammoth/checkpoints/a_last.pt'
    assert repo_relative(REPO / 'runs' / '..' / 'results' / 'a.log') == 'results/a.log'  # normalised first
    assert repo_relative(str(REPO / '.venv' / 'bin' / 'python')) == '.venv/bin/python'
    assert repo_relative('python3') == 'python3' and repo_relative('../shared/data') == '../shared/data'  # as given
    monkeypatch.chdir(REPO / 'results')
    assert repo_relative('logs/a.log') == 'logs/a.log'  # a relative path stays as given...
    assert repo_relative('logs/a.log', resolve=True) == 'results/logs/a.log'  # ...unless resolved from the cwd
    monkeypatch.chdir(tmp_path)
    assert repo_relative('a.log', resolve=True) == 'a.log'  # outside the repository: as given
    assert repo_relative(tmp_path / 'a.pt') == str(tmp_path / 'a.pt')
    assert repo_relative('/elsewhere/shared/data') == '/elsewhere/shared/data'


def test_agent_trace_stores_the_log_relative_to_the_repository(tmp_path, monkeypatch):
    """The repository root moved to ``tmp_path`` (no file is written into the real repository)."""
    log = tmp_path / 'results' / 'run.log'
    log.parent.mkdir()
    log.write_text('Dynamos task 1: mean keep ratio per agent [0.600 0.650 0.700 0.750] over 10 steps; '
                   'thresholded [0.800 0.850 0.900 0.950]; undecided p [0.500 0.400 0.300 0.200]; '
                   'train accuracy 0.8125; mean losses: ce=0.5000 total=-1.5000; buffer 10/50\n')
    monkeypatch.setattr(mammoth_glue, 'REPO', tmp_path)
    assert agent_trace.main([str(log), '--out', str(tmp_path / 'out'), '--no-plot']) == 0
    (trace,) = json.loads((tmp_path / 'out' / 'agent_trace.json').read_text())['traces']
    assert trace['log'] == 'results/run.log'


def test_bn_check_stores_the_checkpoint_relative_to_the_repository(checkpoint, mnist_dir, tmp_path, monkeypatch):
    """The session's checkpoint lives outside the repository; with the root moved to its grandparent, the JSON
    names it relative to that root; outside the root it keeps the path it was given."""
    out = tmp_path / 'bn.json'
    assert bn_check.main(['--checkpoint', str(checkpoint), '--base_path', str(mnist_dir), '--out', str(out)]) == 0
    assert json.loads(out.read_text())['checkpoint'] == str(checkpoint)
    monkeypatch.setattr(mammoth_glue, 'REPO', checkpoint.parent.parent.resolve())
    assert bn_check.main(['--checkpoint', str(checkpoint), '--base_path', str(mnist_dir), '--out', str(out)]) == 0
    assert json.loads(out.read_text())['checkpoint'] == f'{checkpoint.parent.name}/{checkpoint.name}'


def test_committed_results_hold_no_absolute_path_of_this_machine():
    """Every committed result (records, report, Section 6, studies, benchmarks) holds paths relative to the
    repository root, and the data folder as ``../shared/data``."""
    files = subprocess.run(['git', 'ls-files', '--cached', '--others', '--exclude-standard', 'results'],
                           cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    assert len(files) > 100, 'the committed results are missing'
    prefixes = {str(REPO) + '/', str(REPO.parent / 'shared' / 'data')}
    offending = [name for name in files if Path(REPO / name).suffix in ('.md', '.json', '.log')
                 and any(prefix in (REPO / name).read_text(errors='replace') for prefix in prefixes)]
    assert not offending, offending
