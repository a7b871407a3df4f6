"""Every sentence a student or instructor reads from the grading engine, in one place.

Keys are stable identifiers; values are ``str.format`` templates. A Spanish edition adds a
``"es"`` table with the same keys and is chosen with ``AUTOGRADER_LANG=es``.
"""

from __future__ import annotations

import os

EN: dict[str, str] = {
    # --- report frame -------------------------------------------------------------------------
    "report.header": "{title} ({item}): {score:g} / {points:g} points",
    "report.all_passed": "All {n} checks passed.",
    "report.some_failed": "{passed} of {n} checks passed.",
    "report.expected": "expected",
    "report.got": "got",
    "report.hint": "Hint",
    "report.likely": "Likely cause",
    "report.hidden_note": "(hidden check)",
    "report.forbidden_zero": "This item scores 0 because the code calls {name}.",
    "report.hidden_missing": (
        "The hidden graders are not installed here, so this item cannot be graded completely. "
        "Grade on the instructor's machine, where autograder/graders/hidden exists."
    ),
    "report.internal_error": (
        "The grader itself failed ({error}). This is not your fault: tell your instructor."
    ),
    # --- failures shared by every item --------------------------------------------------------
    "fail.missing": "`{name}` is not defined.",
    "fail.missing_renamed": "`{name}` is not defined. Did you rename it? I found `{candidate}`.",
    "fail.missing_after_error": (
        "`{name}` is not defined: an earlier cell raised {error}, so its definitions never ran."
    ),
    "fail.not_callable": "`{name}` should be a function, but it is a {kind}.",
    "fail.not_implemented": "`{name}` still raises NotImplementedError: replace the stub with your code.",
    "fail.raised": "`{name}` raised {error}.",
    "fail.timeout": "`{name}` did not finish within {seconds:g} s: look for an infinite loop.",
    "fail.forbidden": (
        "`{name}` calls {forbidden}. In this item you write that computation yourself, "
        "so the item scores 0."
    ),
    "fail.not_tuple": "`{name}` should return a tuple of {n} values ({what}); it returned {got}.",
    "fail.wrong_type": "Wrong type for {what}: expected a {expected}, got a {got}.",
    "fail.shape": "Wrong shape for {what}.",
    "fail.dtype": "Wrong dtype for {what}: {got}, but the input was {expected}. Keep the input's dtype.",
    "fail.values": "Wrong values in {what}.",
    "fail.not_finite": "{bad} (inf or nan) in {what}.",
    "fail.modified_input": "`{name}` changed its input array in place; compute a new array instead.",
    "fail.no_grad": "No gradient reached {what}: keep the computation inside torch (no .detach(), .numpy() or .item()).",
    # --- check titles (one per grader) ---------------------------------------------------------
    "softmax.formula": "matches exp(x) / Σ exp(x) along the last axis",
    "softmax.axis": "respects the `axis` argument",
    "softmax.rows_sum_to_one": "every row sums to 1",
    "softmax.shift_invariant": "adding a constant to every entry changes nothing",
    "softmax.large_inputs": "inputs as large as 1000 give finite results",
    "softmax.dtype": "keeps the input's dtype (float32 in, float32 out)",
    "softmax.input_untouched": "leaves its input unchanged",
    "dpa.formula": "y and w match w = softmax(x xᵀ), y = w x",
    "dpa.shapes": "w is (..., t, t) and y is (..., t, k), with distinct t and k",
    "dpa.rows_sum_to_one": "every row of the attention matrix w sums to 1",
    "dpa.permutation": "permuting the rows of x permutes y and w the same way",
    "dpa.batch_dims": "works with any number of leading batch dimensions",
    "dpa.single_token": "t = 1: the only token attends to itself with weight 1",
    "dpa.large_inputs": "x scaled by 1000 gives finite results",
    "dpa.dtype": "keeps the input's dtype",
    "qkv.formula": "q, k, v match x W_qᵀ, x W_kᵀ, x W_vᵀ",
    "qkv.shapes": "works when d_k, d_v and d_model all differ",
    "qkv.batch_dims": "works with leading batch dimensions",
    "self.formula": "y and w match softmax(q kᵀ) and w v",
    "self.rows_sum_to_one": "every row of w sums to 1",
    "self.permutation": "permuting the tokens of x permutes y and w the same way",
    "self.batch_dims": "works with leading batch dimensions",
    "cross.formula": "y and w match cross-attention with queries from z",
    "cross.shapes": "with T query tokens and S key tokens, w is (..., T, S) and y is (..., T, d_v)",
    "cross.permute_x": "permuting the tokens of x (keys and values) leaves y unchanged",
    "cross.batch_dims": "works with leading batch dimensions",
    "sdpa.oracle": "matches PyTorch's scaled_dot_product_attention (float64)",
    "sdpa.weights": "weights match softmax(q kᵀ / √d_k)",
    "sdpa.sigmoid_one": "two keys with q·k₁ = √d_k and q·k₂ = 0 give weights sigmoid(1) and 1 − sigmoid(1)",
    "sdpa.rows_sum_to_one": "every row of the weights sums to 1",
    "sdpa.batch_dims": "works with batch and head dimensions, and T ≠ S",
    "sdpa.single_token": "t = 1 works",
    "sdpa.dtype": "keeps the input's dtype (float32 in, float32 out)",
    "sdpa.large_inputs": "inputs scaled by 1000 give finite results",
    "sdpa.permutation": "without a mask, permuting the queries permutes the output",
    "sdpa.causal": "under a causal mask, changing a future token leaves earlier outputs unchanged",
    "sdpa.padding": "appending padded keys leaves the real outputs unchanged",
    "sdpa.mask_oracle": "with a mask, matches PyTorch's scaled_dot_product_attention",
    "sdpa.mask_3d": "a (batch, T, S) mask works",
    "sdpa.shift_invariant": "adding a constant to every score changes nothing, masks included",
    "sdpa.fully_masked": "a row with every key masked gives zero weights and a zero output",
    "sdpa.gradients": "gradients flow to q, k and v and match PyTorch's",
    "causal.values": "is lower-triangular, diagonal included",
    "causal.dtype_shape": "is a (t, t) boolean tensor",
    "causal.single": "t = 1 gives [[True]]",
    "padding.values": "is True exactly where the token is not padding",
    "padding.shape": "has shape (batch, 1, 1, S) and dtype bool",
    "padding.pad_id": "uses the pad_id argument (not a fixed 0)",
    # --- hints (what to try) -------------------------------------------------------------------
    "hint.softmax_stable": "Subtract the maximum along the axis before exp(): softmax(x) = softmax(x − max(x)).",
    "hint.keepdims": "Reduce with keepdims=True so that the max and the sum broadcast back over the axis.",
    "hint.last_axis": "The scores for query i are in row i: normalise over the last axis (the keys j).",
    "hint.dtype": "Avoid mixing in float64 constants or np.float64 arrays; operations on float32 arrays stay float32.",
    "hint.swapaxes": "For leading batch dimensions, transpose only the last two axes: x.swapaxes(-1, -2), not x.T.",
    "hint.row_convention": "With rows as tokens, q = x @ W_q.T (the slides' q_i = W_q x_i, written for every row at once).",
    "hint.cross_roles": "Queries come from z (the sequence that asks); keys and values come from x.",
    "hint.scale": "Divide the scores q kᵀ by √d_k, where d_k is the size of the last axis of q (or k).",
    "hint.mask_convention": "True means 'may attend': fill the positions where the mask is False with −inf, before the softmax.",
    "hint.mask_inf": "Use −inf (float('-inf')) for masked scores, not a large finite number: a finite value still leaks weight when scores are large.",
    "hint.fully_masked": "After the softmax, set the weights of masked positions to 0 (weights.masked_fill(~mask, 0.0)): a fully masked row then becomes all zeros instead of nan.",
    "hint.torch_only": "Stay in torch: no .detach(), .numpy() or Python floats taken from tensors.",
    "hint.tril": "torch.tril keeps the lower triangle including the diagonal: token i may look at tokens 0..i.",
    "hint.padding_shape": "Insert two singleton axes: (batch, S) → (batch, 1, 1, S), so the mask broadcasts over heads and queries.",
    # --- misconceptions (named when the output matches a known mistake) -----------------------
    "why.softmax_axis": "The softmax was taken over the wrong axis: each row i (one query) must sum to 1 over the keys j.",
    "why.softmax_unstable": "exp() of large scores overflows: the softmax is missing the max-subtraction that keeps it finite.",
    "why.softmax_global": "The softmax normalised over the whole array instead of along one axis.",
    "why.dpa_no_softmax": "The raw scores x xᵀ were used as weights: they must go through a softmax first.",
    "why.dpa_weights_times_scores": "y was computed from the scores instead of from x: y = w x, where w are the attention weights.",
    "why.qkv_transposed": "W_q was applied without the transpose: with rows as tokens, q = x @ W_q.T (nn.Linear's convention).",
    "why.qkv_swapped": "Two projections are swapped: q must use W_q, k must use W_k and v must use W_v.",
    "why.self_scaled": "The scores were divided by √d_k: in this stage attention is unscaled (scaling comes in stage 03).",
    "why.self_keys_as_values": "The weights multiply k instead of v: y = w v.",
    "why.cross_roles_swapped": "The queries were taken from x instead of z: in cross-attention the queries come from the second sequence z, keys and values from x.",
    "why.sdpa_no_scale": "The scores are not divided by √d_k.",
    "why.sdpa_wrong_scale": "The scores are divided by d_k (or another number) instead of √d_k.",
    "why.sdpa_mask_inverted": "The mask is applied the wrong way round: True means 'may attend', so the positions to hide are where the mask is False.",
    "why.sdpa_mask_after_softmax": "The mask was applied after the softmax, so the remaining weights no longer sum to 1: mask the scores, then take the softmax.",
    "why.sdpa_finite_mask": "Masked scores were set to a finite number (like −1e4) instead of −inf: with large enough scores the masked keys still get weight.",
    "why.sdpa_fully_masked_nan": "A row whose keys are all masked gives nan: set masked weights to 0 after the softmax.",
    "why.sdpa_detached": "The computation leaves torch's autograd (detach, numpy or item), so no gradient flows back.",
    "why.sdpa_softmax_axis": "The softmax runs over the wrong axis: it must normalise over the keys (the last axis).",
    "why.causal_no_diagonal": "The diagonal is masked: a token must be allowed to attend to itself.",
    "why.causal_upper": "The mask is upper-triangular: token i may look at tokens 0..i (the past), not the future.",
    "why.padding_inverted": "The padding mask is inverted: True must mark real tokens (may attend), False the padding.",
    "why.padding_shape": "The mask has shape (batch, S): it needs two singleton axes, (batch, 1, 1, S), to broadcast over heads and queries.",
    "why.padding_fixed_zero": "The pad id is hard-coded as 0: use the pad_id argument.",
    # --- stages 04-06 (multi-head attention, positional encoding, encoder and decoder) --------
    # --- hardened grading (sandboxed worker, batch grading) ------------------------------------
    "sandbox.died": "`{name}` stopped the grading worker: {reason}. The remaining checks ran in a fresh worker.",
    "sandbox.died_loading": (
        "Loading your notebook's definitions stopped the grading worker ({reason}), so nothing could be "
        "graded. Remove code that exits or crashes from the cells that define your functions."
    ),
    "sandbox.reason.exit": "the process exited with code {code} (code must not call sys.exit(), os._exit() or similar)",
    "sandbox.reason.cpu": "it used more than {seconds:g} s of CPU time",
    "sandbox.reason.fsize": "it wrote a file larger than {mb:g} MB",
    "sandbox.reason.killed": "it was killed ({signal}); the usual cause is using far more than {mb:g} MB of memory",
    "sandbox.reason.signal": "it was stopped by {signal}",
    "sandbox.reason.protocol": "it sent back data the grader cannot read",
    "sandbox.reason.unknown": "it stopped for an unknown reason",
    "sandbox.too_large": "`{name}` returned more than {mb:g} MB of data.",
    "sandbox.budget": (
        "The {seconds:g} s allowed for grading this submission ran out before `{name}` could be checked."
    ),
    "sandbox.respawns": "The grading worker crashed too often ({n} restarts); the remaining checks were not run.",
    "sandbox.worker_lost": (
        "The module behind `{name}` was lost when the grading worker was restarted after an earlier failure."
    ),
    "sandbox.event.timeout": "`{name}` was stopped after {seconds:g} s.",
    "sandbox.event.garbled": "`{name}` made the worker send unreadable data; the worker was replaced.",
    "sandbox.event.died": "`{name}`: the worker stopped ({reason}); a fresh one took over.",
    "sandbox.no_notebook": "No {notebook} was found in {folder}, so nothing could be graded.",
    "sandbox.symlink": "{path} is a symbolic link; hand in the file itself.",
    "sandbox.too_big": "The submission is larger than {mb:g} MB; only notebooks and small files are graded.",
    "sandbox.unreadable": "The notebook could not be read: {error}",
    "sandbox.load_errors": "While loading your definitions: {errors}",
    "sandbox.crashed": "Grading this submission failed ({error}). This is not your fault: tell your instructor.",
    "sandbox.isolation.bwrap": (
        "Student code ran in a bubblewrap sandbox: no network, its own process namespace, a read-only "
        "system, and no view of the repository, the hidden graders or the solutions."
    ),
    "sandbox.isolation.rlimits": (
        "Student code ran in a separate process with resource limits, a minimal environment and a private "
        "working directory, but without a file-system or network sandbox, because {reason}."
    ),
    "sandbox.isolation.uid": "It ran under a user id of its own.",
    "batch.summary": "{n} submissions graded in {seconds:.1f} s ({skipped} already graded, {failed} could not be graded).",
    "batch.isolation": "Isolation: {level}. {description}",
    # --- course tools (release, demo, class table) ---------------------------------------------
    "notebook.missing": "{name} does not exist.",
    "notebook.not_text": "{name} is not a text file.",
    "notebook.bad_json": "{name} is not a valid notebook: broken JSON at line {line}, column {column}.",
    "notebook.no_cells": "{name} is not a notebook: it has no list of cells.",
    "notebook.syntax": "Cell {cell} has a syntax error on its line {line}: {message}.",
    "intake.check_deleted": "The check cell of `{item}` was deleted; it was put back before grading.",
    "intake.check_edited": "The check cell of `{item}` was edited; the original was restored before grading.",
    "intake.cell_raised": "Cell {number} raised {error}: {message}",
    "intake.not_graded": "nbgrader could not grade this notebook (see the autograde log).",
    "feedback.notes_title": "Notes from the grader",
    "feedback.no_score": "No score could be computed for this notebook.",
}

CATALOGUES: dict[str, dict[str, str]] = {"en": EN}


def language() -> str:
    lang = os.environ.get("AUTOGRADER_LANG", "en")
    return lang if lang in CATALOGUES else "en"


def text(key: str, /, **params: object) -> str:
    """The sentence for ``key`` in the current language, with ``params`` filled in."""
    table = CATALOGUES[language()]
    template = table.get(key) or EN[key]  # a missing translation falls back to English
    return template.format(**params) if params else template
