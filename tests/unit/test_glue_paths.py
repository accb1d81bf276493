"""dynamos_plugin/glue/paths.py: `repo_relative`, by which the diagnostics and the runner store paths relative
to the repository root."""

from dynamos_plugin.glue.paths import REPO, repo_relative


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
