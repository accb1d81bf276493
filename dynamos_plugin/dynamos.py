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

Opt-in variants and probes for general continual learning (none is in the paper; with none given,
the model is exactly the paper's; see ``results/studies/mnist360-agents/``):

- ``--gate_estimator straight_through``: train with the test gate ``p >= 0.5`` and a straight-through
  gradient, the REINFORCE loss of Eq. 3-4 replaced by a batch keep-rate loss (``--keep_rate_weight``);
- ``--agent_lr``: a learning rate of the agents' own, apart from the network's ``--lr``;
- ``--routing_distill W``: hold the routing of the buffer's samples in place, with a binary cross-entropy
  between their current keep probabilities and the masks they had when stored;
- ``--freeze_agents_after N``: after N training steps the agents stop learning (their weights and
  batch-norm statistics are fixed; the losses that only exist to train them, policy, prototype and
  attention consistency, are dropped);
- ``--drift_every N``: measure how the test-time masks of the buffer's samples change along the stream
  (:mod:`dynamos_plugin.diagnostics.mask_drift`); it changes nothing in training.
"""

import itertools
import json
import logging
from typing import Dict, List, Optional

import torch

from models import register_model
from models.utils.continual_model import ContinualModel
from utils.args import ArgumentParser

from dynamos_plugin.agent import AgentOutput, log_policy
from dynamos_plugin.argtypes import keep_ratio, non_negative_float, non_negative_int, policy_penalty, positive_float
from dynamos_plugin.buffer import DynamosBuffer, add_buffer_args
from dynamos_plugin.diagnostics import mask_drift
from dynamos_plugin.losses import consistency_loss, keep_rate_loss, keep_ratio_reward, policy_loss, prototype_loss, \
    routing_distillation_loss
from dynamos_plugin.stats import LOSS_TERMS, RunningMean, agent_statistics, stat_names, stats_line


@register_model('dynamos')
class Dynamos(ContinualModel):
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
        # opt-in variants and probes (not in the paper; off by default)
        parser.add_argument('--gate_estimator', choices=['reinforce', 'straight_through'], default='reinforce',
                            help='reinforce: the paper (sampled actions, the policy loss of Eq. 3-4). straight_through: '
                                 'train with the test-time gate p >= inf_thresh and a straight-through gradient to p; '
                                 'the policy loss is replaced by the batch keep-rate loss sum_l (mean kept_l - kr)^2, '
                                 'weighted by --keep_rate_weight.')
        parser.add_argument('--keep_rate_weight', type=non_negative_float, default=10.0,
                            help='With --gate_estimator straight_through: weight of the keep-rate loss (in place of '
                                 'gamma, --reward_weight, which weighs the policy loss).')
        parser.add_argument('--agent_lr', type=positive_float, default=None,
                            help="Learning rate of the agents' parameters (default: --lr, as in the paper).")
        parser.add_argument('--freeze_agents_after', type=non_negative_int, default=0,
                            help='After this many training steps (counted over the whole run), the agents stop '
                                 'learning: their weights and batch-norm statistics stay fixed and the policy, '
                                 'prototype and attention-consistency losses are dropped. 0: never.')
        parser.add_argument('--routing_distill', type=non_negative_float, default=0.0,
                            help="Weight of the routing distillation loss: the buffer samples' current keep "
                                 'probabilities against the masks they had when stored (binary cross-entropy; '
                                 'the stored mask is the sign of the stored attention vector). 0: off (the paper).')
        parser.add_argument('--drift_every', type=non_negative_int, default=0,
                            help="Every this many steps, log per class how many of the buffer samples' test-time "
                                 'masks changed since the last time, and at the end each class\'s test accuracy. '
                                 'Measurement only: training is unchanged. 0: off.')
        parser.set_defaults(backbone='gated-resnet')
        return parser

    def __init__(self, backbone, loss, args, transform, dataset=None):
        if not getattr(backbone, 'agents', None):
            if getattr(args, 'gate', None) == 'static':
                raise ValueError('dynamos needs agents to train, and --gate static replaces them by fixed masks: '
                                 'train the static-sparsity control with --model msa --backbone gated-resnet --gate static.')
            raise ValueError(
                f'dynamos needs a backbone with agents (--backbone gated-resnet), got `{args.backbone}` '
                f'({backbone.__class__.__name__}), which has none.')
        if args.drift_every and getattr(backbone, 'infer_mode', 'threshold') != 'threshold':
            raise ValueError('--drift_every measures the test-time (thresholded) masks: use it with --infer_mode threshold.')
        super().__init__(backbone, loss, args, transform, dataset=dataset)
        self.net.train_gate = 'straight_through' if self.args.gate_estimator == 'straight_through' else 'sample'
        self.gate_weight = self.args.keep_rate_weight if self.args.gate_estimator == 'straight_through' \
            else self.args.reward_weight  # gamma of Eq. 7 for the paper's policy loss
        self.buffer = DynamosBuffer(self.args.buffer_size)
        self.steps = 0  # training steps taken over the whole run (for --freeze_agents_after and --drift_every)
        self._drift_snapshot = None  # (examples, masks) of the buffer at the last drift measurement
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

    def get_parameters(self):
        """The optimiser's parameters: one group, or, with ``--agent_lr``, the agents' in a group of their own."""
        if self.args.agent_lr is None:
            return self.net.parameters()
        agent_ids = {id(p) for agent in self.net.agents for p in agent.parameters()}
        return [{'params': [p for p in self.net.parameters() if id(p) not in agent_ids]},
                {'params': [p for agent in self.net.agents for p in agent.parameters()], 'lr': self.args.agent_lr}]

    def agents_frozen(self) -> bool:
        """Whether the agents have had their ``--freeze_agents_after`` steps: from the next step on they no longer learn."""
        return 0 < self.args.freeze_agents_after <= self.steps

    def load_buffer(self, buffer) -> None:
        """Restores the buffer from a Mammoth checkpoint (called by `--loadcheck`)."""
        self.buffer.load(buffer)

    # ---- warm-up -------------------------------------------------------------------------

    def in_warmup(self, epoch: Optional[int]) -> bool:
        """Whether this step is in the warm-up: the first ``warmup`` iterations (or epochs) of the first task."""
        if self.current_task > 0 or self.warmup_length == 0:
            return False
        if self.warmup_unit == 'epochs':
            return (epoch or 0) < self.warmup_length
        return self.task_iteration < self.warmup_length

    # ---- the losses of Eq. 7 for one batch (stream or buffer) ----------------------------

    def agent_terms(self, logits: torch.Tensor, labels: torch.Tensor, decisions: List[AgentOutput]):
        """Cross-entropy, policy loss (Eq. 3-4) and prototype loss (Eq. 5) of one batch.

        With ``--gate_estimator straight_through`` the policy loss is the keep-rate loss
        (:func:`~dynamos_plugin.losses.keep_rate_loss`) instead.

        Returns:
            ``(ce, policy, prototype, attention, correct)``: the three losses, the
            concatenated attention vectors ``V`` ``(B, D)`` and the correctness mask.
        """
        correct = logits.detach().argmax(dim=1) == labels
        actions = torch.stack([d.actions.mean(dim=1) for d in decisions], dim=1)  # (B, L)
        if self.args.gate_estimator == 'straight_through':
            gate_loss = keep_rate_loss(actions, self.args.keep_ratio)
        else:
            log_probs = torch.stack([log_policy(d.logits, d.actions) for d in decisions], dim=1)  # (B, L)
            rewards = keep_ratio_reward(actions, correct, self.args.keep_ratio, self.args.policy_penalty)
            gate_loss = policy_loss(rewards, log_probs)
        attention = torch.cat([d.attention for d in decisions], dim=1)
        return (self.loss(logits, labels), gate_loss,
                prototype_loss(attention, labels, correct), attention, correct)

    def observe(self, inputs, labels, not_aug_inputs, epoch=None):
        self.opt.zero_grad()
        frozen = self.agents_frozen()  # after --freeze_agents_after steps
        self.steps += 1
        if self.args.drift_every and self.steps % self.args.drift_every == 0:
            self.measure_drift()

        if self.in_warmup(epoch):  # plain cross-entropy, every channel kept, no buffer
            outputs = self.net(inputs, use_agents=False)
            loss = self.loss(outputs, labels)
            loss.backward()
            self.opt.step()
            return loss.item()

        if frozen:
            self.freeze_agents()

        outputs, decisions = self.net(inputs, returnt='agents')
        ce, pol, proto, attention, correct = self.agent_terms(outputs, labels, decisions)
        zero = ce.new_zeros(())
        buf_ce = buf_pol = buf_proto = cons_z = cons_v = routing = zero
        if not self.buffer.is_empty():
            buf_inputs, buf_labels, buf_logits, buf_attention = self.buffer.get_data(
                self.args.minibatch_size, transform=self.transform, device=self.device)
            buf_outputs, buf_decisions = self.net(buf_inputs, returnt='agents')
            buf_ce, buf_pol, buf_proto, buf_now, _ = self.agent_terms(buf_outputs, buf_labels, buf_decisions)
            cons_z = consistency_loss(buf_outputs, buf_logits)
            cons_v = consistency_loss(buf_now, buf_attention)
            if self.args.routing_distill:
                routing = routing_distillation_loss(torch.cat([d.logits for d in buf_decisions], dim=1), buf_attention)

        a, gamma = self.args, self.gate_weight
        if frozen:  # the agents no longer learn: only the network's own terms of Eq. 7
            loss = ce + a.beta * buf_ce + a.alpha * cons_z
        else:
            loss = (ce + gamma * pol
                    + a.beta * (buf_ce + gamma * buf_pol)
                    + a.alpha * cons_z + a.policy_alpha * cons_v
                    + a.prototype_loss * (proto + buf_proto)  # Eq. 7
                    + a.routing_distill * routing)  # 0 unless --routing_distill
        loss.backward()
        self.opt.step()

        self.buffer.add_data(examples=not_aug_inputs, labels=labels, correct=correct,
                             logits=outputs.detach(), attentions=attention.detach())

        stats = torch.cat([torch.stack([ce, pol, proto, buf_ce, buf_pol, buf_proto, cons_z, cons_v, loss,
                                        correct.float().mean()]).detach(),
                           agent_statistics(decisions, self.net.inf_thresh), torch.isnan(attention).any().float()[None]])
        values = stats.tolist()  # the step's only host synchronisation
        if values[-1]:
            raise FloatingPointError(
                f'NaN in the action probabilities at task {self.current_task + 1}, iteration {self.task_iteration} '
                f'(epoch {epoch}): lower --lr or check the inputs.')
        self._task_mean.add(values[:-1])
        self._window_mean.add(values[:-1])
        if self.args.stats_every and self._window_mean.count == self.args.stats_every:
            self._log_window(self.task_iteration + 1)  # Mammoth counts this step once observe returns
        return values[len(LOSS_TERMS) - 1]

    # ---- --freeze_agents_after and --drift_every ------------------------------------------

    def freeze_agents(self) -> None:
        """Fixes the agents' weights and batch-norm statistics (Mammoth sets the network back to training mode at
        every epoch, so this is applied at every step once frozen)."""
        for agent in self.net.agents:
            agent.eval()
            for parameter in agent.parameters():
                parameter.requires_grad_(False)
                parameter.grad = None

    def measure_drift(self) -> None:
        """Logs, per class, how the test-time masks of the buffer's samples changed since the last measurement."""
        slots = self.buffer.written_slots()
        if slots.numel() == 0:
            return
        examples = self.buffer.examples.clone()
        masks = torch.zeros(examples.shape[0], sum(agent.bn.num_features for agent in self.net.agents),
                            dtype=torch.bool, device=examples.device)
        masks[slots] = mask_drift.thresholded_masks(self.net, examples[slots].to(self.device)).to(masks.device)
        if self._drift_snapshot is not None:
            same, flipped = mask_drift.mask_flips(*self._drift_snapshot, examples, masks)
            written = torch.zeros_like(same)
            written[slots] = True
            by_class = mask_drift.drift_by_class(self.buffer.labels, same & written, flipped)
            logging.info(mask_drift.drift_line(self.steps, by_class))
        self._drift_snapshot = (examples, masks)

    # ---- logging: per task, and per window of --stats_every steps ------------------------

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
        if self.args.drift_every:
            accuracy = mask_drift.class_accuracy(self.net, itertools.chain(*dataset.test_loaders), self.device)
            logging.info(mask_drift.CLASS_ACCURACY_PREFIX + json.dumps(accuracy))

    def _line(self, stats: Dict[str, float], last_step: Optional[int] = None) -> str:
        return stats_line(stats, len(self.net.agents), len(self.buffer), self.buffer.buffer_size,
                          self.current_task + 1, last_step)
