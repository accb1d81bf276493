"""Plants, one at a time, the eight one-line wiring bugs of issue 12 in a copy of the tree and runs the fast tests.

    .venv/bin/python benchmarks/wiring_mutants.py [pytest args...]

Each mutant is an exact text replacement in one core module; the script checks that the original
text is there (so a refactoring that moves it fails loudly here), copies the tree (git-tracked files and untracked ones git does not ignore) and
Mammoth's working tree into a temporary folder, plants the mutant there (never in this checkout),
runs the fast tests against the copy and prints which tests failed. A mutant that no test kills is
reported as SURVIVED and makes the exit status 1.
"""

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from mutation import copy_tree  # benchmarks/mutation.py: the same copy of the tree (a git repository of one commit)

# the unit tests of the modules the mutants touch and of those they build on (not all of tests/unit/: a unit test
# failing for another reason would count as a kill)
FAST_TESTS = ['tests/unit/test_dynamos.py', 'tests/unit/test_msa.py', 'tests/unit/test_backbone.py',
              'tests/unit/test_agent.py', 'tests/unit/test_losses.py', 'tests/unit/test_buffer.py']

# (name, module, original text, mutated text)
MUTANTS = [
    ('beta also multiplies the consistency terms of Eq. 7', 'dynamos_plugin/dynamos.py',
     '+ a.beta * (buf_ce + a.reward_weight * buf_pol)\n                + a.alpha * cons_z + a.policy_alpha * cons_v',
     '+ a.beta * (buf_ce + a.reward_weight * buf_pol\n                + a.alpha * cons_z + a.policy_alpha * cons_v)'),
    ("gamma on the buffer's policy loss outside beta", 'dynamos_plugin/dynamos.py',
     'a.beta * (buf_ce + a.reward_weight * buf_pol)', '(a.beta * buf_ce + a.reward_weight * buf_pol)'),
    ("the buffer's prototype term dropped", 'dynamos_plugin/dynamos.py',
     'a.prototype_loss * (proto + buf_proto)', 'a.prototype_loss * proto'),
    ('lambda on the correct samples instead of the wrong ones', 'dynamos_plugin/dynamos.py',
     'keep_ratio_reward(actions, correct,', 'keep_ratio_reward(actions, ~correct,'),
    ('the warm-up forward pass uses the agents', 'dynamos_plugin/dynamos.py',
     'outputs = self.net(inputs, use_agents=False)', 'outputs = self.net(inputs)'),
    ('the buffer stores the augmented inputs', 'dynamos_plugin/dynamos.py',
     'self.buffer.add_data(examples=not_aug_inputs,', 'self.buffer.add_data(examples=inputs,'),
    ("agent 1's mask applied before bn1", 'dynamos_plugin/backbone.py',
     'out = self.bn1(self.conv1(x))\n', 'out = self.conv1(x)\n'),  # + bn1 after the mask, below
    ('agent 2 reads the block input instead of h', 'dynamos_plugin/backbone.py',
     'self.agent2(h, sample, threshold)', 'self.agent2(x, sample, threshold)'),
]
EXTRA = {"agent 1's mask applied before bn1": ('        h = F.relu(out)\n', '        h = F.relu(self.bn1(out))\n')}


def replace_once(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    if text.count(old) != 1:
        raise SystemExit(f'{path.relative_to(path.parents[1])}: expected the text {old!r} exactly once; update MUTANTS')
    path.write_text(text.replace(old, new))


def main(pytest_args) -> int:
    survived = 0
    with tempfile.TemporaryDirectory(prefix='wiring-mutants-') as tmp:
        tmp = Path(tmp)
        copy_tree(tmp)
        env = dict(os.environ, PYTHONPATH=str(tmp), OMP_NUM_THREADS='1', PYTHONDONTWRITEBYTECODE='1')
        for name, module, old, new in MUTANTS:
            original = (tmp / module).read_text()
            replace_once(tmp / module, old, new)
            if name in EXTRA:
                replace_once(tmp / module, *EXTRA[name])
            proc = subprocess.run([sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider', '-W', 'ignore',
                                   *FAST_TESTS, *pytest_args], cwd=tmp, env=env, capture_output=True, text=True)
            (tmp / module).write_text(original)
            if proc.returncode not in (0, 1):  # 0: all passed, 1: some failed; anything else: the run broke
                raise SystemExit(f'pytest could not run the tests ({proc.returncode}):\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}')
            failed = sorted(set(re.findall(r'^FAILED (\S+?)(?: - |$)', proc.stdout, re.M)))
            survived += not failed
            print(f'{"KILLED  " if failed else "SURVIVED"} {name}')
            for test in failed:
                print(f'           {test}')
    print(f'{len(MUTANTS) - survived} of {len(MUTANTS)} wiring mutants killed by the fast tests')
    return 1 if survived else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
