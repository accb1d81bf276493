"""
Dynamos from Python, through Mammoth's API (``load_runner`` and ``train``), as a notebook would use it.

Trains Dynamos on Seq-MNIST with a 500-sample buffer and the paper's Table 5 hyperparameters (the
defaults of ``--model dynamos``, as on the command line), reads the final accuracy, and prints the
fraction of channels each agent kept in each task. By default in Mammoth's debug mode (a few steps
per task: seconds, accuracies meaningless); ``--full`` trains the whole run (minutes).

    .venv/bin/python examples/train_dynamos.py --base_path "$PWD/data"

``--base_path`` is the folder holding ``MNIST/raw/`` (default: ``$DYNAMOS_DATA``, else ``data/`` in the
repository). Importing Mammoth changes the working directory into ``mammoth/``, so the path is made
absolute first.
"""

import argparse
import os

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def parse_args() -> argparse.Namespace:
    """The example's own options: where the data is, and debug mode or the full run."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--base_path', default=os.environ.get('DYNAMOS_DATA') or os.path.join(REPO, 'data'),
                        help='folder holding MNIST/raw/ (default: $DYNAMOS_DATA, else data/ in the repository)')
    parser.add_argument('--full', action='store_true', help='train the whole run, not a few steps per task')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()
    args.base_path = os.path.abspath(args.base_path)  # before Mammoth changes the working directory
    return args


def main() -> None:
    args = parse_args()
    from mammoth import load_runner, train  # Mammoth's Python API (installed by ./setup.sh)

    # Table 5's hyperparameters for Seq-MNIST, buffer 500, are the defaults; any key given here wins
    model, dataset = load_runner('dynamos', 'seq-mnist', {
        'buffer_size': 500, 'base_path': args.base_path, 'seed': args.seed,
        'debug_mode': 0 if args.full else 1, 'num_workers': 0})
    print(f'keep ratio {model.args.keep_ratio}, lambda {model.args.policy_penalty}, lr {model.args.lr}')
    train(model, dataset)

    # the final accuracy: the test sets of all tasks, as Mammoth's evaluation after the last task
    class_il, task_il = dataset.evaluate(model, dataset)
    print(f'final accuracy: Class-IL {sum(class_il) / len(class_il):.2f} %, Task-IL {sum(task_il) / len(task_il):.2f} %')

    # the agents: per task, the mean fraction of channels each one kept (sampled actions, as trained)
    n_agents = len(model.net.agents)
    for task, stats in enumerate(model.task_stats, start=1):
        keep = ' '.join(f'{stats[f"keep_agent{i + 1}"]:.3f}' for i in range(n_agents))
        print(f'task {task}: keep ratio per agent {keep} (target {model.args.keep_ratio})')


if __name__ == '__main__':
    main()
