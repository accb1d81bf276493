"""Records and their provenance: the commits a run is credited with, where records go, the data folder as
records hold it, writing and reading records."""

import json
import subprocess

from dynamos_plugin.glue import paths
from dynamos_plugin.experiments import records
from dynamos_plugin.glue.paths import REPO


def test_git_state_of_a_repository_with_a_patched_submodule(tmp_path):
    def git(cwd, *args):
        subprocess.run(['git', '-c', 'user.name=t', '-c', 'user.email=t@t', '-c', 'protocol.file.allow=always',
                        *args], cwd=cwd, check=True, capture_output=True)
    inner, outer = tmp_path / 'inner', tmp_path / 'outer'
    for repo in (inner, outer):
        repo.mkdir()
        git(repo, 'init', '-q')
        (repo / 'a.txt').write_text('a\n')
        git(repo, 'add', 'a.txt')
        git(repo, 'commit', '-qm', 'a')
    git(outer, 'submodule', 'add', '-q', str(inner), 'sub')
    git(outer, 'commit', '-qm', 'sub')
    (outer / 'sub' / 'a.txt').write_text('patched\n')  # a patch applied inside the submodule
    state = records.git_state(outer)
    assert state['dirty'] is False and state['diff_sha1'] is None and len(state['commit']) == 40
    assert records.git_state(outer / 'sub')['dirty'] is True
    (outer / 'a.txt').write_text('changed\n')
    assert records.git_state(outer)['dirty'] is True


def test_the_users_records_and_the_committed_reference_are_apart():
    assert records.REFERENCE_DIR == REPO / 'results'
    assert records.default_results_dir(REPO / 'runs') == REPO / 'runs' / 'results'
    ignored = subprocess.run(['git', 'check-ignore', '-q', 'runs/results/records/x.json'], cwd=REPO)
    assert ignored.returncode == 0  # the user's records are not the repository's


def test_the_default_data_folder_is_the_readmes(monkeypatch):
    """$DYNAMOS_DATA, else <repo>/data (the README's `--base_path "$PWD/data"`); records hold it as `data`."""
    monkeypatch.delenv('DYNAMOS_DATA', raising=False)
    assert paths.default_data_path() == str(REPO / 'data')
    assert records.recorded_default_data_path() == 'data'
    monkeypatch.setenv('DYNAMOS_DATA', 'rel/data')
    assert paths.default_data_path() == 'rel/data' and records.recorded_default_data_path() == 'rel/data'
    monkeypatch.setenv('DYNAMOS_DATA', '')  # set but empty: the default
    assert paths.default_data_path() == str(REPO / 'data') and records.recorded_default_data_path() == 'data'


def test_write_and_load_records(tmp_path, capsys):
    records.write_json(tmp_path / 'records' / 'a.json', {'accuracy': 1.5})
    (tmp_path / 'records' / 'b.json').write_text('{"half a record')
    assert records.load_records(tmp_path) == [{'accuracy': 1.5}]
    assert 'skipping unreadable record' in capsys.readouterr().err
    assert [p.name for p in (tmp_path / 'records').iterdir()] == ['a.json', 'b.json']  # no temporary file left
    assert json.loads((tmp_path / 'records' / 'a.json').read_text()) == {'accuracy': 1.5}


# ---- records that land in the committed results/ come from a clean tree ----------------------------------

def test_runs_into_the_committed_results_are_refused_from_a_dirty_tree(monkeypatch, tmp_path, capsys):
    import dynamos_plugin.experiments.__main__ as cli
    from dynamos_plugin.glue.paths import REPO
    monkeypatch.setattr(cli, '_run', lambda a, runs, settings: 0)  # nothing really runs
    for dirty, allow, results_dir, expected in [
            (True, False, REPO / 'results' / 'studies' / 'x', 2),  # refused, with the reason
            (True, True, REPO / 'results', 0),  # told otherwise: the records will say "dirty": true
            (False, False, REPO / 'results', 0),  # clean
            (True, False, tmp_path / 'mine', 0)]:  # a user's own records: theirs to keep
        monkeypatch.setattr(cli, 'git_state', lambda path, dirty=dirty: {'commit': 'c', 'dirty': dirty})
        args = ['--table', '2', '--method', 'er', '--buffer', '500', '--seed', '0', '--results-dir', str(results_dir)]
        assert cli.main(args + (['--allow-dirty'] if allow else [])) == expected
    err = capsys.readouterr().err
    assert err.count('refusing to run: the working tree has uncommitted changes') == 1
    assert 'results/studies/x/' in err and '--allow-dirty' in err


CPUINFO = """processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 25
model\t\t: 1
model name\t: AMD EPYC
stepping\t: 1
flags\t\t: fpu vme avx2

processor\t: 1
vendor_id\t: AuthenticAMD
cpu family\t: 23
model\t\t: 49
model name\t: AMD EPYC 7B12
stepping\t: 0
"""


def test_the_first_processor_of_cpuinfo_is_read():
    fields = records.cpuinfo_fields(CPUINFO)
    assert (fields['model name'], fields['cpu family'], fields['model'], fields['stepping']) == ('AMD EPYC', '25', '1', '1')
    assert fields['flags'] == 'fpu vme avx2' and records.cpuinfo_fields('') == {}


def test_a_record_names_what_decides_the_kernels(monkeypatch):
    """A VM may report only "AMD EPYC": the record adds family, model and stepping, and torch's CPU capability."""
    real_read_text = records.Path.read_text
    monkeypatch.setattr(records.Path, 'read_text',
                        lambda self, *a, **k: CPUINFO if str(self) == '/proc/cpuinfo' else real_read_text(self, *a, **k))
    hw = records.hardware()
    assert hw['cpu'] == 'AMD EPYC' and hw['cpu_id'] == 'AuthenticAMD family 25 model 1 stepping 1'
    import torch
    assert hw['cpu_capability'] == torch.backends.cpu.get_cpu_capability()
