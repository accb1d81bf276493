"""The repository's documents: every relative link of its Markdown files resolves (the file exists and, for a
``#fragment``, the target has a heading with that GitHub anchor), and the committed results hold no absolute
path of the machine that made them."""

import re
import subprocess
from pathlib import Path

import pytest

from dynamos_plugin.glue.paths import REPO


LINK_RE = re.compile(r'(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)|!\[[^\]]*\]\(([^)\s]+)\)')
HEADING_RE = re.compile(r'^#{1,6}\s+(.*?)\s*#*\s*$', re.M)
FENCE_RE = re.compile(r'^```.*?^```', re.M | re.S)


def markdown_files():
    """The Markdown files git tracks (or would track) outside the Mammoth submodule."""
    out = subprocess.run(['git', 'ls-files', '--cached', '--others', '--exclude-standard', '*.md'], cwd=REPO,
                         capture_output=True, text=True, check=True).stdout.split()
    return sorted(REPO / name for name in out if not name.startswith('mammoth/') and (REPO / name).exists())


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped (but - and _), spaces to -."""
    text = re.sub(r'\[([^\]]*)\]\([^)]*\)', r'\1', heading)  # a link in a heading keeps its text
    return re.sub(r'[^\w\- ]', '', text.strip().lower()).replace(' ', '-')


def anchors(path: Path) -> set:
    text = FENCE_RE.sub('', path.read_text())
    found, seen = set(), {}
    for heading in HEADING_RE.findall(text):
        anchor = github_anchor(heading)
        n = seen.get(anchor, 0)
        seen[anchor] = n + 1
        found.add(anchor if n == 0 else f'{anchor}-{n}')
    return found


def links(path: Path):
    text = FENCE_RE.sub('', path.read_text())
    text = re.sub(r'`[^`\n]*`', '', text)  # code spans are not links
    for match in LINK_RE.finditer(text):
        target = match.group(1) or match.group(2)
        if not re.match(r'^[a-z][a-z0-9+.-]*:', target):  # http:, https:, mailto: ... are not checked
            yield target


def test_github_anchor_by_hand():
    assert github_anchor('MNIST-360: the agents over training (`--stats_every`, `agent_trace`)') == \
        'mnist-360-the-agents-over-training---stats_every-agent_trace'
    assert github_anchor('Quick start') == 'quick-start'


def test_the_link_checker_finds_a_broken_link(tmp_path):
    page = tmp_path / 'page.md'
    page.write_text('# Title\n[ok](#title) [missing](nowhere.md) [bad anchor](#nothing) `[code](x.md)`\n')
    assert list(links(page)) == ['#title', 'nowhere.md', '#nothing']
    assert anchors(page) == {'title'}


@pytest.mark.parametrize('page', markdown_files(), ids=lambda p: str(p.relative_to(REPO)))
def test_relative_links_resolve(page):
    broken = []
    for target in links(page):
        file, _, fragment = target.partition('#')
        dest = (page.parent / file).resolve() if file else page
        if not dest.exists():
            broken.append(f'{target}: no such file')
        elif fragment and dest.suffix == '.md' and fragment not in anchors(dest):
            broken.append(f'{target}: no heading with that anchor in {dest.name}')
    assert not broken, f'{page.relative_to(REPO)}: ' + '; '.join(broken)


#: where absolute paths of a machine start: temporary folders, home directories, this project's workspace
MACHINE_PATHS = ('/tmp/', '/home/', '/root/', '/work/')


def test_committed_results_hold_no_absolute_path_of_any_machine():
    """Every committed result (records, report, Section 6, studies, benchmarks, anchors) and the README hold paths
    relative to the repository root: no ``/tmp/``, ``/home/``, ``/root/``, ``/work/`` (a temporary folder is written
    ``<tmp>/`` in logs), no path of this repository and no absolute path of the data folder."""
    files = subprocess.run(['git', 'ls-files', '--cached', '--others', '--exclude-standard', 'results'],
                           cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    assert len(files) > 100, 'the committed results are missing'
    prefixes = {str(REPO) + '/', str(REPO.parent / 'shared' / 'data'), *MACHINE_PATHS}
    texts = [name for name in files + ['README.md'] if (REPO / name).exists()
             and Path(name).suffix in ('.md', '.json', '.log', '.txt', '.csv', '.tex', '.sh')]
    offending = [f'{name}: {prefix}' for name in texts for prefix in sorted(prefixes)
                 if prefix in (REPO / name).read_text(errors='replace')]
    assert not offending, offending


def test_the_readme_quotes_the_suite_under_load_record_as_it_is():
    """The Tests paragraph's 'three times in a row' and 'forty times' are counted from the committed record: every
    suite run in its status ended with exit 0 and no failure, and each compile-test line passed."""
    record = REPO / 'results' / 'benchmarks' / 'suite-under-load'
    runs = [line for line in (record / 'status').read_text().splitlines() if re.match(r'run \d+ rc=', line)]
    assert len(runs) == 3 and all(' rc=0 ' in line and 'failed' not in line and ' passed' in line for line in runs)
    compiles = [line for log in ('compile.log', 'compile-after-suites.log')
                for line in (record / log).read_text().splitlines() if line.startswith('compile ')]
    assert len(compiles) == 40 and all(': 1 passed' in line for line in compiles)
    text = ' '.join((REPO / 'README.md').read_text().split())
    assert "a fresh clone's suite passed three times in a row, and the `torch.compile` test forty times" in text
