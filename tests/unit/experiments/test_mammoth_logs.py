"""What the runner reads in a Mammoth log: the final accuracies, and why a failed run failed (the line shown on
the console)."""

from dynamos_plugin.experiments.execute import error_line, failure_text
from dynamos_plugin.experiments.launch import summary_line
from dynamos_plugin.glue.mammoth_log import parse_log

from .logs import ARGPARSE_LOG, CLASS_IL_LOG, DOMAIN_IL_LOG, FAILED_LOG


def test_parse_log_class_il():
    assert parse_log(CLASS_IL_LOG) == {
        'n_tasks': 5, 'setting': 'Class-IL', 'accuracy': 96.61, 'task_il': 99.7,
        'per_task': [98.5, 96.25, 94.0, 94.75, 99.5], 'per_task_task_il': [99.5, 99.25, 99.75, 100.0, 99.5]}


def test_parse_log_domain_il():
    assert parse_log(DOMAIN_IL_LOG) == {'n_tasks': 1, 'setting': 'Domain-IL', 'accuracy': 88.15, 'task_il': None,
                                        'per_task': [88.15], 'per_task_task_il': []}


def test_parse_log_ignores_future_accuracy_and_handles_missing_lines():
    log = CLASS_IL_LOG + 'Future Accuracy for 5 task(s): \t [Class-IL]: 10.0 % \t [Task-IL]: 50.0 %\n'
    assert parse_log(log)['accuracy'] == 96.61
    assert parse_log('Traceback (most recent call last):\nValueError: boom\n') is None
    # numpy-style raw values (spaces, no commas) parse too
    assert parse_log('Accuracy for 2 task(s): \t [Class-IL]: 50.0 % \t [Task-IL]: 90.0 %\n'
                     'Raw accuracy values: Class-IL [60.5 39.5] | Task-IL [90. 90.]')['per_task'] == [60.5, 39.5]


def test_the_error_line_of_a_failed_run():
    # Mammoth's one line for a failed run, not the hint after it
    assert error_line(FAILED_LOG) == ('FileNotFoundError: MNIST not found in /nowhere/MNIST/raw and it could not be '
                                      'downloaded')
    assert error_line(ARGPARSE_LOG) == "main.py: error: argument --buffer_size: 'abc' is not a valid int"
    traceback = ('# cmd\nTraceback (most recent call last):\n  File "main.py", line 1, in <module>\n'
                 'torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB\n')  # MAMMOTH_TRACEBACK=1
    assert error_line(traceback) == 'torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB'
    assert error_line('# cmd\nKilled\n\n') == 'Killed'  # no error line: the last line it wrote
    assert error_line('# cmd\n') is None and error_line('') is None  # nothing but the runner's command line
    long = error_line(f'[ERROR] 25-Nov-26 10:51:59 - ValueError: {"x" * 1000}\n')
    assert len(long) == 500 and long.startswith('ValueError: xxx') and long.endswith('...')


def test_a_failed_runs_console_line_gives_its_reason():
    failed = {'status': 'failed', 'reason': 'exit code 1', 'error': 'ValueError: boom', 'log': 'runs/x/log.txt'}
    assert summary_line(failed) == 'FAILED (exit code 1): ValueError: boom; log: runs/x/log.txt'
    assert failure_text(failed) == 'exit code 1: ValueError: boom'
    no_error = dict(failed, reason='exit code 0 but no accuracy line in the log', error=None)
    assert summary_line(no_error) == 'FAILED (exit code 0 but no accuracy line in the log); log: runs/x/log.txt'
    assert failure_text({'reason': 'could not start: [Errno 2]'}) == 'could not start: [Errno 2]'
