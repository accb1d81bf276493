"""
Dynamos: dynamic modularity and sparsity for rehearsal-based general continual learning
(Varma, Arani, Zonooz, VISAPP 2023).

Agents on the convolutions of the gated backbone learn, by policy gradients, to drop
channels per input (Eq. 1-4); a prototype loss pulls the attention vectors of a class
together (Eq. 5); a buffer of correctly classified samples, with their logits and attention
vectors, is replayed with consistency losses (Eq. 6). The total is Eq. 7.

Without ``--model_config``, the hyperparameters of the paper's Table 5 for the dataset and
buffer size are the defaults (``config/dynamos.yaml``; a buffer size that is not in the
table takes the nearest row, with a warning); any flag given explicitly wins.

Choices where the paper and the spec are silent, made as the authors' DER-style code does:

- the stream batch and the replay batch go through the network in two separate forward
  passes (batch-norm statistics are those of each batch), one replay batch per step;
- a sample's "correct" (for the reward, the prototype loss and the buffer rule) is judged on
  the same forward pass, with the sampled actions, over all classes;
- the policy and prototype losses are not detached from the agents' inputs: their gradients
  reach the convolutions that feed the agents, as the plain graph of Eq. 7 implies;
- the buffer stores the non-augmented input, the detached logits and attention vectors of
  that forward pass; slots never written are never replayed (see :mod:`dynamos_plugin.buffer`).

The research variants of the study of general continual learning (straight-through gate, agent
learning rate, frozen agents, routing distillation, mask drift) are a model of their own,
``dynamos-variants`` (:mod:`dynamos_plugin.variants`), built on the two extension points here:
:meth:`Dynamos.gate_loss` (the agents' loss of one batch) and :meth:`Dynamos.total_loss` (Eq. 7).

"""

import logging
from typing import Dict, List, NamedTuple, Optional

import torch

from models import register_model
from models.utils.continual_model import ContinualModel
from utils.args import ArgumentParser

from dynamos_plugin.agent import AgentOutput, log_policy
from dynamos_plugin.argtypes import keep_ratio, non_negative_float, non_negative_int, policy_penalty
from dynamos_plugin.buffer import DynamosBuffer, LoadsBuffer, add_buffer_args
from dynamos_plugin.losses import consistency_loss, keep_ratio_reward, policy_loss, prototype_loss, total_loss
from dynamos_plugin.stats import RunningMean, agent_statistics, stat_names, stats_line


class BatchTerms(NamedTuple):
    """What Eq. 7 needs of one batch, stream or replay."""
    ce: torch.Tensor  # cross-entropy
    policy: torch.Tensor  # the agents' loss (Eq. 3-4 in the paper; :meth:`Dynamos.gate_loss`)
    prototype: torch.Tensor  # Eq. 5
    attention: torch.Tensor  # (B, D): the concatenated attention vectors V
    correct: torch.Tensor  # (B,) bool: whether the prediction, with the sampled actions, was right
    decisions: List[AgentOutput]


class StepTerms(NamedTuple):
    """The terms of Eq. 7 for one step (the replay batch's are 0 while the buffer is empty), in the order of
    :data:`dynamos_plugin.stats.LOSS_TERMS`, and the replay batch itself (None while the buffer is empty)."""
    ce: torch.Tensor
    policy: torch.Tensor
    prototype: torch.Tensor
    buf_ce: torch.Tensor
    buf_policy: torch.Tensor
    buf_prototype: torch.Tensor
    consistency_z: torch.Tensor
    consistency_v: torch.Tensor
    replay: Optional[BatchTerms]
    stored_attention: Optional[torch.Tensor]  # the replay batch's attention vectors as the buffer stored them


@register_model('dynamos')
class Dynamos(LoadsBuffer, ContinualModel):
    """Continual learning via dynamic modularity and sparsity (Dynamos)."""
    NAME = 'dynamos'
    COMPATIBILITY = ['class-il', 'domain-il', 'task-il', 'general-continual']
    DEFAULT_MODEL_CONFIG = 'best'  # Table 5 of the paper, from config/dynamos.yaml

    @staticmethod
    def get_parser(parser) -> ArgumentParser:
        add_buffer_args(parser)
        parser.add_argument('--keep_ratio', type=keep_ratio, required=True,
                            help='kr of Eq. 3: fraction of each gated layer\'s channels the agents aim to keep, in (0, 1].')
        parser.add_argument('--policy_penalty', type=policy_penalty, required=True,
                            help='lambda of Eq. 3 (> 0): factor on the keep-ratio error of a misclassified sample.')
        parser.add_argument('--reward_weight', type=non_negative_float, required=True,
                            help='gamma of Eq. 7: weight of the policy (REINFORCE) loss of Eq. 4.')
        parser.add_argument('--prototype_loss', type=non_negative_float, required=True,
                            help='w_P of Eq. 7: weight of the prototype loss of Eq. 5.')
        parser.add_argument('--alpha', type=non_negative_float, required=True,
                            help='alpha of Eq. 7: weight of the logit consistency loss (Eq. 6).')
        parser.add_argument('--policy_alpha', type=non_negative_float, required=True,
                            help='alpha_P of Eq. 7: weight of the attention-vector consistency loss (Eq. 6).')
        parser.add_argument('--beta', type=non_negative_float, required=True,
                            help='beta of Eq. 7: weight of the buffer\'s cross-entropy and policy losses.')
        parser.add_argument('--warmup', type=non_negative_int, default=10,
                            help='Warm-up at the start of the first task: plain cross-entropy, agents unused, no buffer. '
                                 'Iterations when training for one epoch, epochs otherwise; 0 disables it.')
        parser.add_argument('--stats_every', type=non_negative_int, default=0,
                            help='Also log the mean losses, training accuracy and agent statistics of every window of '
                                 'this many steps (0: once per task). For a single-task stream such as MNIST-360, '
                                 'this is how the agents can be followed over training.')
        parser.set_defaults(backbone='gated-resnet')
        return parser

    def __init__(self, backbone, loss, args, transform, dataset=None):
        if not getattr(backbone, 'agents', None):
            if getattr(args, 'gate', None) == 'static':
                raise ValueError(f'{self.NAME} needs agents to train, and --gate static replaces them by fixed masks: '
                                 'train the static-sparsity control with --model msa --backbone gated-resnet --gate static.')
            raise ValueError(
                f'{self.NAME} needs a backbone with agents (--backbone gated-resnet), got `{args.backbone}` '
                f'({backbone.__class__.__name__}), which has none.')
        super().__init__(backbone, loss, args, transform, dataset=dataset)
        self.buffer = DynamosBuffer(self.args.buffer_size)
        self.warmup_unit = 'epochs' if (self.args.n_epochs or 1) > 1 else 'iterations'
        self.warmup_length = self.args.warmup
        if self.args.debug_mode and self.warmup_unit == 'iterations' and self.warmup_length >= self.get_debug_iters():
            # a debug epoch is only a few steps: end the warm-up half-way so the agents still train
            self.warmup_length = self.get_debug_iters() // 2
            logging.info(f'Debug mode: warm-up shortened to {self.warmup_length} iterations.')
        self.stat_names = stat_names(len(self.net.agents))
        self.task_stats: List[Dict[str, float]] = []  # per task: the mean of each statistic (``stat_names``)
        self.window_stats: List[Dict[str, float]] = []  # per window of --stats_every steps, with its task and end step
        self._reset_stats()

    def in_warmup(self, epoch: Optional[int]) -> bool:
        """Whether this step is in the warm-up: the first ``warmup`` iterations (or epochs) of the first task."""
        if self.current_task > 0 or self.warmup_length == 0:
            return False
        if self.warmup_unit == 'epochs':
            return (epoch or 0) < self.warmup_length
        return self.task_iteration < self.warmup_length

    # ---- the extension points: the agents' loss of a batch, and Eq. 7 ----------------------------

    def gate_loss(self, decisions: List[AgentOutput], correct: torch.Tensor) -> torch.Tensor:
        """The agents' loss of one batch: the policy loss (Eq. 4) of the keep-ratio reward (Eq. 3)."""
        actions = torch.stack([d.actions.mean(dim=1) for d in decisions], dim=1)  # (B, L): m_l, kept fraction
        log_probs = torch.stack([log_policy(d.logits, d.actions) for d in decisions], dim=1)  # (B, L)
        rewards = keep_ratio_reward(actions, correct, self.args.keep_ratio, self.args.policy_penalty)
        return policy_loss(rewards, log_probs)

    def total_loss(self, terms: StepTerms) -> torch.Tensor:
        """The loss of the step: Eq. 7, gamma the reward weight."""
        a = self.args
        return total_loss(terms, a.reward_weight, a.beta, a.alpha, a.policy_alpha, a.prototype_loss)

    # ---- one step ------------------------------------------------------------------------------

    def batch_terms(self, logits: torch.Tensor, labels: torch.Tensor, decisions: List[AgentOutput]) -> BatchTerms:
        """Cross-entropy, the agents' loss and the prototype loss (Eq. 5) of one batch."""
        correct = logits.detach().argmax(dim=1) == labels
        policy = self.gate_loss(decisions, correct)
        attention = torch.cat([d.attention for d in decisions], dim=1)
        return BatchTerms(self.loss(logits, labels), policy, prototype_loss(attention, labels, correct), attention,
                          correct, decisions)

    def observe(self, inputs, labels, not_aug_inputs, epoch=None):
        self.opt.zero_grad()
        if self.in_warmup(epoch):  # plain cross-entropy, every channel kept, no buffer
            loss = self.loss(self.net(inputs, use_agents=False), labels)
            loss.backward()
            self.opt.step()
            return loss.item()

        outputs, decisions = self.net(inputs, returnt='agents')
        stream = self.batch_terms(outputs, labels, decisions)
        zero = stream.ce.new_zeros(())
        terms = StepTerms(stream.ce, stream.policy, stream.prototype, zero, zero, zero, zero, zero, None, None)
        if not self.buffer.is_empty():
            buf_inputs, buf_labels, buf_logits, buf_attention = self.buffer.get_data(
                self.args.minibatch_size, transform=self.transform, device=self.device)
            buf_outputs, buf_decisions = self.net(buf_inputs, returnt='agents')
            replay = self.batch_terms(buf_outputs, buf_labels, buf_decisions)
            terms = terms._replace(buf_ce=replay.ce, buf_policy=replay.policy, buf_prototype=replay.prototype,
                                   consistency_z=consistency_loss(buf_outputs, buf_logits),
                                   consistency_v=consistency_loss(replay.attention, buf_attention),
                                   replay=replay, stored_attention=buf_attention)
        loss = self.total_loss(terms)  # Eq. 7
        loss.backward()
        self.opt.step()

        self.buffer.add_data(examples=not_aug_inputs, labels=labels, correct=stream.correct,
                             logits=outputs.detach(), attentions=stream.attention.detach())
        return self.record_step(terms, loss, stream, epoch)

    # ---- what the run logs: per task, and per window of --stats_every steps ------------------------

    def record_step(self, terms: StepTerms, loss: torch.Tensor, stream: BatchTerms, epoch: Optional[int]) -> float:
        """Adds the step's statistics (:func:`dynamos_plugin.stats.stat_names`) to the running means, logs a
        finished window, and returns the step's loss; stops the run on a NaN in the agents' attention."""
        stats = torch.cat([torch.stack([*terms[:8], loss, stream.correct.float().mean()]).detach(),
                           agent_statistics(stream.decisions, self.net.inf_thresh),
                           torch.isnan(stream.attention).any().float()[None]])
        values = stats.tolist()  # one transfer to the host for all of them
        if values.pop():
            raise FloatingPointError(
                f'NaN in the action probabilities at task {self.current_task + 1}, iteration {self.task_iteration} '
                f'(epoch {epoch}): lower --lr or check the inputs.')
        self._task_mean.add(values)
        self._window_mean.add(values)
        if self.args.stats_every and self._window_mean.count == self.args.stats_every:
            self._log_window(self.task_iteration + 1)  # Mammoth counts this step once observe returns
        return values[self.stat_names.index('total')]

    def _reset_stats(self) -> None:
        self._task_mean, self._window_mean = RunningMean(len(self.stat_names)), RunningMean(len(self.stat_names))

    def _summary(self, running: RunningMean) -> Dict[str, float]:
        stats = dict(zip(self.stat_names, running.mean()))
        stats['steps'] = running.count
        return stats

    def _log_window(self, last_step: int) -> None:
        """Logs and keeps the statistics of the window that ends at step ``last_step`` of the task (from 1)."""
        stats = self._summary(self._window_mean)
        stats.update(task=self.current_task + 1, last_step=last_step)
        self.window_stats.append(stats)
        self._window_mean = RunningMean(len(self.stat_names))
        logging.info(self._line(stats, last_step))

    def begin_task(self, dataset) -> None:
        self._reset_stats()

    def end_task(self, dataset) -> None:
        if self._task_mean.count == 0:  # a task skipped by --start_from, or trained only in warm-up
            return
        if self.args.stats_every and self._window_mean.count:  # the task's last, shorter window
            self._log_window(self.task_iteration)
        stats = self._summary(self._task_mean)
        self.task_stats.append(stats)
        logging.info(self._line(stats))

    def _line(self, stats: Dict[str, float], last_step: Optional[int] = None) -> str:
        return stats_line(stats, len(self.net.agents), len(self.buffer), self.buffer.buffer_size,
                          self.current_task + 1, last_step)
