"""Every sentence a student or instructor reads from the grading engine, in one place.

Keys are stable identifiers; values are ``str.format`` templates. The Spanish edition
(``catalogue_es.ES``, the same keys and placeholders) is chosen with ``AUTOGRADER_LANG=es``.
"""

from __future__ import annotations

import os
import re
import string
from pathlib import Path

EN: dict[str, str] = {
    # --- report frame -------------------------------------------------------------------------
    "report.stage_header": "{title} (`{stage}`): {score:g} / {points:g} points",
    "report.table_head": "| item | points | checks passed |",
    "report.table_total": "total",
    "report.badge": "{score:g} / {points:g} points",
    "report.header": "{title} ({item}): {score:g} / {points:g} points",
    "report.all_passed": "All {n} checks passed.",
    "report.some_failed": "{passed} of {n} checks passed.",
    "report.expected": "expected",
    "report.got": "got",
    "expect.non_finite_one": "1 non-finite value",
    "expect.non_finite_many": "{n} non-finite values",
    "expect.finite_values": "finite values",
    "report.hint": "Hint",
    "report.stale_definition": (
        "The `{name}` graded here is an earlier one, not the one on screen: the latest cell that defines "
        "it did not run (it has an error, perhaps a SyntaxError). Fix that cell, run it, then this check again."
    ),
    "report.likely": "Likely cause",
    "report.hidden_note": "(hidden check)",
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
    "fail.not_callable": "`{name}` should be a function, but it is {kind:a}.",
    # The run-time twin of policy.course (a definition whose source could not be read): same sentence.
    "fail.from_autograder": (
        "`{name}` uses the course's own code, `{origin}`. Only `check` and "
        "`carry_forward` may be used from `autograder`: write `{name}` yourself; the grader's code scores nothing."
    ),
    "fail.not_implemented": "`{name}` still raises NotImplementedError: replace the stub with your code.",
    "fail.raised": "`{name}` raised {error}.",
    "fail.timeout": "`{name}` did not finish within {seconds:g} s: look for an infinite loop.",
    "fail.forbidden": (
        "`{name}` calls {forbidden}. In this item you write that computation yourself, "
        "so the item scores 0."
    ),
    "fail.not_tuple": "`{name}` should return a tuple of {n} values ({what}); it returned {got}.",
    "fail.wrong_type": "Wrong type for {what}: expected {expected:a}, got {got:a}.",
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
    # shared by the module stages (04-06)
    "fail.parameters": "`{name}` does not have the parameters that the contract names (so weights cannot be copied in by name).",
    "fail.missing_submodule": "`{name}` has no submodule `{sub}` ({cls:a}).",
    "fail.submodule_type": "`{name}.{sub}` should be {cls:a}, but it is {got:a}.",
    "fail.no_error": "{what} should raise {expected}, but it raised nothing.",
    "fail.wrong_error": "{what} should raise {expected}, but it raised {got}.",
    "fail.dropout_ignored": "With dropout=0.0, `{name}` still drops values in training mode: pass the dropout argument on (nn.Dropout(dropout)) instead of a rate of your own.",
    "fail.dropout_on_output": "In training mode `{name}` drops values of its output. Dropout belongs {where}.",
    "fail.dropout_residual": "In training mode `{name}` adds the sub-layers' outputs to x without dropout: the slides' residual is x + Dropout(Sublayer(x)).",
    "hint.residual_dropout": "Apply self.dropout to each sub-layer's output before adding it to x, then normalize: norm(x + dropout(sublayer(x))).",
    "fail.dropout_after_norm": "In training mode `{name}` changes its output even when every sub-layer outputs 0: dropout acts after a norm or on x itself.",
    "why.dropout_after_norm": "Dropout is applied after add & norm, dropout(norm(x + sublayer(x))): it belongs on the sub-layer's output, before the sum, norm(x + dropout(sublayer(x))).",
    "hint.sublayer_rate": "Pass the layer's dropout on to every sub-layer it builds: MultiHeadAttention(d_model, num_heads, dropout) and FeedForward(d_model, d_ff, dropout).",
    "why.attn_rate_not_passed": "The attention is built without the layer's dropout rate (MultiHeadAttention(d_model, num_heads)), so its attention weights are never dropped: pass dropout on.",
    "why.ffn_rate_not_passed": "The FeedForward is built without the layer's dropout rate, so it keeps its default 0.1: pass dropout on.",
    "fail.dropout_unused": "In training mode with dropout=0.5, `{name}` gives exactly the output of eval mode: dropout is never applied.",
    "detail.missing_parameters": "missing: {names}",
    "detail.unexpected_parameters": "not in the contract: {names}",
    "detail.parameter_shape": "`{name}` has shape {got}, expected {expected}",
    "hint.dropout_module": "Use the nn.Dropout module created in __init__ (self.dropout): .eval() switches it off and .train() on.",
    "why.dropout_in_eval": "Dropout is active in eval mode: F.dropout(x, p) defaults to training=True. Use the module self.dropout, which follows .train() and .eval().",
    # stage 04
    "count.table": "reproduces the slides' table: 196,608, 786,432 and 196,608 for k = 256",
    "count.general": "works for other sizes (k = 512, r = 8; k = 12, r = 3)",
    "split.values": "splits (batch, T, d_model) into (batch, r, T, d_k) with view and transpose",
    "split.shape": "returns (batch, r, T, d_k) for distinct sizes",
    "split.head_columns": "head j holds columns j·d_k … (j+1)·d_k − 1 of every token",
    "merge.values": "merges (batch, r, T, d_k) into (batch, T, r·d_k) with transpose and reshape",
    "merge.inverse": "merge_heads(split_heads(x, r)) gives x back",
    "merge.shape": "returns (batch, T, r·d_k) for distinct sizes",
    "mha.parameters": "has w_q, w_k, w_v, w_o: nn.Linear(d_model, d_model) with bias, and no other parameters",
    "mha.oracle": "self-attention matches nn.MultiheadAttention with the same weights (output and per-head weights)",
    "mha.cross": "cross-attention with T ≠ S, and different key and value tensors, matches nn.MultiheadAttention",
    "mha.mask_heads": "a (batch, T, S) mask and a (batch, 1, 1, S) padding mask apply to every head",
    "mha.head_slice": "keeping only head j's slice of W_v, with W_o = I, puts the output in head j's columns only",
    "mha.permutation": "without a mask, permuting the tokens permutes the output and the weights",
    "mha.not_divisible": "raises ValueError when d_model is not divisible by num_heads",
    "mha.dropout": "dropout acts in training mode only, at the rate given, on the attention weights",
    "hint.count": "Each of the r heads has 3 matrices (q, k, v) of shape (projection size) × k; the projection size is k, or k / r in the efficient form.",
    "hint.split": "x.view(batch, T, r, d_k) cuts the features of each token into r pieces; then .transpose(1, 2) moves the head axis in front of the tokens.",
    "hint.merge": "Undo split_heads in reverse order: .transpose(1, 2) back to (batch, T, r, d_k), then reshape to (batch, T, r·d_k).",
    "hint.merge_reshape": "After a transpose the tensor is not contiguous and .view fails: use .reshape (or .contiguous().view).",
    "hint.mha_parameters": "Create exactly four nn.Linear(d_model, d_model) layers (with bias) named w_q, w_k, w_v and w_o, and an nn.Dropout named dropout.",
    "hint.mha_weights": "Return the weights of every head, shape (batch, r, T, S), not their average.",
    "hint.mha_steps": "Project with w_q, w_k, w_v, split into heads, attend, merge the heads, then apply w_o.",
    "hint.mha_mask": "A (batch, T, S) mask needs a head axis: mask.unsqueeze(1) gives (batch, 1, T, S), which broadcasts over the heads.",
    "why.count_no_three": "Only one projection was counted: queries, keys and values each have their own matrix, so multiply by 3.",
    "why.count_per_head": "The count is for one head only: each of the r heads has its own q, k and v projections.",
    "why.count_with_wo": "W_o was counted too: the slides' table leaves it out (only W_q, W_k, W_v).",
    "why.split_no_transpose": "The heads were split by a reshape alone: view the features as (batch, T, r, d_k), then .transpose(1, 2), so that head j gets the same d_k columns of every token.",
    "why.split_interleaved": "The heads take every r-th feature (view (batch, T, d_k, r)): head j must get the contiguous columns j·d_k … (j+1)·d_k − 1.",
    "why.merge_no_transpose": "The heads were merged by a reshape alone: first .transpose(1, 2) back to (batch, T, r, d_k), then reshape, so that each token gets its own heads' outputs.",
    "why.mha_no_wo": "W_o is missing: after merging the heads, the output goes through self.w_o.",
    "why.mha_scale_dmodel": "The scores were divided by √d_model: each head has queries and keys of size d_k = d_model / r, so divide by √d_k.",
    "why.mha_weights_averaged": "The weights were averaged over the heads (nn.MultiheadAttention's default): return every head's weights, (batch, r, T, S).",
    "why.mha_value_from_key": "The values were projected from `key` instead of `value`: v = w_v(value).",
    "why.mha_mask_no_head_axis": "A (batch, T, S) mask was used as it is: it needs a head axis, mask.unsqueeze(1), to broadcast against scores of shape (batch, r, T, S).",
    "why.mha_divisible": "When d_model is not divisible by num_heads the heads cannot have equal sizes: check it in __init__ and raise ValueError (an assert is not a ValueError, and it can be switched off).",
    "why.mha_no_bias": "The projections have no bias: the contract (and nn.MultiheadAttention) uses nn.Linear(d_model, d_model) with bias.",
    # stage 05
    "pe.formula": "matches t[i, 2j] = sin(i / 10000^(2j/k)), t[i, 2j+1] = cos(i / 10000^(2j/k))",
    "pe.first_rows": "position 0 is [0, 1, 0, 1, …] (sin 0, cos 0) and position 1 is right",
    "pe.shape_dtype": "returns a float32 tensor of shape (max_len, d_model)",
    "pe.odd_d_model": "an odd d_model ends in a sine column",
    "pe.distance": "t_i · t_(i+Δ) depends only on the distance Δ",
    "pemod.buffer": "the table is a buffer `pe` (saved, moved by .to(), not trained), not a parameter",
    "pemod.forward": "adds pe[:T] to x of shape (batch, T, d_model), for T up to max_len",
    "pemod.too_long": "a sequence longer than max_len raises ValueError",
    "pemod.state_dict": "`pe` is in the state dict, and loading a state dict replaces it",
    "pemod.dropout": "dropout(x + pe): off in eval mode, on in training mode",
    "fail.pe_parameter": "`{name}` stores pe as a parameter: the optimizer would train it.",
    "fail.no_buffer": "`{name}` has no buffer `pe` of shape (max_len, d_model).",
    "fail.not_in_state_dict": "`pe` is not in `{name}`'s state dict, so a saved model would not keep it.",
    "fail.pe_not_moved": "After .to(torch.float64), `{name}`'s state dict has no float64 `pe`: the table did not move with the module.",
    "fail.dropout_values": "In training mode `{name}` should give dropout(x + pe): each entry is 0 or (x + pe) / (1 − p).",
    "hint.pe_formula": "Pair j (columns 2j and 2j+1) has the angle i / 10000^(2j/d_model); sin goes to the even column, cos to the odd one.",
    "hint.pe_dtype": "Build the table with torch's default float32 (torch.arange(..., dtype=torch.float32), torch.zeros(...)).",
    "hint.pe_odd": "With odd d_model there are d_model // 2 cosine columns but one more sine column: use angles[:, : d_model // 2] for the cosines.",
    "hint.pe_buffer": "self.register_buffer('pe', table): a buffer is saved in the state dict and moves with .to(), but is not a parameter.",
    "hint.pe_slice": "x is (batch, T, d_model): add self.pe[:T] with T = x.shape[1]; it broadcasts over the batch.",
    "hint.pe_too_long": "Compare T = x.shape[1] with the number of rows of pe and raise ValueError with both numbers.",
    "hint.pe_dropout": "Add the encoding first, then apply dropout to the sum: self.dropout(x + self.pe[:T]).",
    "why.pe_sin_cos_swapped": "Sine and cosine are swapped: even columns (2j) hold the sine, odd columns (2j+1) the cosine, so position 0 is [0, 1, 0, 1, …].",
    "why.pe_halves": "The sines and cosines were concatenated as two halves: they must interleave, sin in column 2j and cos in column 2j+1.",
    "why.pe_exponent": "The exponent uses the column index: columns 2j and 2j+1 share one frequency, 1 / 10000^(2j/d_model), so use the pair's even index 2j for both.",
    "why.pe_odd_d_model": "The code fails (or goes wrong) for an odd d_model: there is one more sine column than cosine columns, so the cosines need angles[:, : d_model // 2].",
    "why.pe_parameter": "pe was made an nn.Parameter: the encoding is fixed, not learned. Register it as a buffer.",
    "why.pe_plain_attribute": "pe is a plain attribute (self.pe = ...): it is not saved in the state dict and does not move with .to(device). Register it as a buffer.",
    "why.pe_not_persistent": "pe was registered with persistent=False, so it is left out of the state dict: register it as an ordinary buffer.",
    "why.pe_batch_axis": "pe was sliced with the batch size (x.size(0)), as in tutorials whose tensors are (T, batch, d): here x is (batch, T, d), so use pe[:x.size(1)].",
    "why.pe_no_length_check": "A sequence longer than max_len is not checked: pe[:T] silently has only max_len rows and the addition fails with a shape error. Raise ValueError first.",
    "why.pe_dropout_before_add": "Dropout was applied to x before adding the encoding: the Transformer applies it to the sum, dropout(x + pe).",
    # stage 06
    "ln.parameters": "has parameters weight (ones) and bias (zeros) of shape (d_model,), and loads nn.LayerNorm's state dict",
    "ln.oracle": "matches nn.LayerNorm with the same weight and bias",
    "ln.small_variance": "matches nn.LayerNorm on rows whose variance is smaller than eps (d_model = 4)",
    "ln.eps": "uses its eps argument",
    "ffn.parameters": "has linear1 (d_model → d_ff), linear2 (d_ff → d_model) and dropout",
    "ffn.oracle": "matches max(0, x W₁ᵀ + b₁) W₂ᵀ + b₂",
    "ffn.dropout": "dropout acts in training mode only, at the rate given, on the hidden layer",
    "enc.parameters": "has self_attn, ffn, norm1, norm2 and dropout, with the contract's parameter names",
    "enc.oracle": "matches nn.TransformerEncoderLayer (post-LN) with the same weights",
    "enc.mask": "with a padding mask, matches nn.TransformerEncoderLayer",
    "enc.padding_invariance": "changing padded tokens leaves the real tokens' outputs unchanged",
    "enc.dropout": "dropout acts in training mode only, at the rate given, on the sub-layers' outputs",
    "dec.parameters": "has self_attn, cross_attn, ffn, norm1, norm2, norm3 and dropout, with the contract's parameter names",
    "dec.oracle": "matches nn.TransformerDecoderLayer (post-LN) with the same weights and masks",
    "dec.lengths": "works with T ≠ S and a (batch, 1, T, T) target mask",
    "dec.causality": "under the causal mask, changing later target positions leaves earlier outputs unchanged",
    "dec.memory_padding": "changing padded source positions of the memory leaves the output unchanged",
    "dec.dropout": "dropout acts in training mode only, at the rate given, on the sub-layers' outputs",
    "stack.parameters": "Encoder and Decoder hold num_layers separate layers in `layers`, and nothing else",
    "stack.encoder": "a 2-layer Encoder matches two nn.TransformerEncoderLayer in a row",
    "stack.decoder": "a 2-layer Decoder matches two nn.TransformerDecoderLayer in a row",
    "stack.permutation": "without a mask, the Encoder is permutation equivariant (no positional encoding inside)",
    "stack.causality": "under the causal mask, the Decoder's earlier outputs ignore later positions",
    "stack.sizes": "Encoder and Decoder work with 1 and 3 layers",
    "stack.dropout": "the Encoder's and the Decoder's layers get the dropout rate passed in",
    "tf.parameters": "has src_embed, tgt_embed, pos_encoding (buffer pe), encoder, decoder and generator with the contract's names",
    "tf.base_count": "the default (base) model has the closed-form number of parameters",
    "tf.embeddings": "embeddings are multiplied by √d_model before the positional encoding is added",
    "tf.oracle": "forward's logits match a model built from PyTorch's layers with the same weights",
    "tf.encode_decode": "encode returns the memory and decode the decoder states (not logits)",
    "tf.causality": "changing later target tokens leaves the earlier logits unchanged",
    "tf.padding": "changing padded source tokens leaves the logits unchanged",
    "tf.gradients": "gradients reach every parameter",
    "tf.dropout": "the model's parts get the dropout rate passed in: off in eval mode, on in training mode",
    "fail.tf_buffers": "`{name}` should have exactly one buffer, pos_encoding.pe of shape (max_len, d_model).",
    "hint.ln_parameters": "self.weight = nn.Parameter(torch.ones(d_model)) and self.bias = nn.Parameter(torch.zeros(d_model)), as in nn.LayerNorm.",
    "hint.ln_formula": "Over the last axis: mean, biased variance (divide by d_model), then weight · (x − mean) / sqrt(var + eps) + bias.",
    "hint.ffn": "linear1 = nn.Linear(d_model, d_ff), linear2 = nn.Linear(d_ff, d_model); forward: linear2(dropout(relu(linear1(x)))).",
    "hint.enc_parameters": "Create self_attn = MultiHeadAttention(d_model, num_heads, dropout), ffn = FeedForward(d_model, d_ff, dropout), norm1, norm2 = LayerNorm(d_model), dropout = nn.Dropout(dropout).",
    "hint.enc_order": "Post-LN, in the slides' order: h = norm1(x + dropout(self_attn(x, x, x, mask))), then norm2(h + dropout(ffn(h))).",
    "hint.enc_mask": "Pass the mask to the self-attention: self_attn(x, x, x, mask).",
    "hint.dec_parameters": "Create self_attn and cross_attn (MultiHeadAttention), ffn, norm1, norm2, norm3 and dropout.",
    "hint.dec_order": "norm1(x + dropout(self_attn(x, x, x, tgt_mask))), then norm2(h + dropout(cross_attn(h, memory, memory, src_mask))), then norm3(h + dropout(ffn(h))).",
    "hint.dec_causal": "The self-attention of the decoder gets tgt_mask: self_attn(x, x, x, tgt_mask).",
    "hint.dec_masks": "tgt_mask goes to the self-attention, src_mask (padding of the source) to the cross-attention.",
    "hint.stack": "nn.ModuleList([EncoderLayer(...) for _ in range(num_layers)]), and in forward: for layer in self.layers: x = layer(x, ...); return x.",
    "hint.tf_parameters": "Create src_embed, tgt_embed (nn.Embedding), pos_encoding (PositionalEncoding), encoder (Encoder), decoder (Decoder) and generator (nn.Linear(d_model, tgt_vocab)).",
    "hint.tf_defaults": "The defaults are the paper's base model: d_model=512, num_heads=8, num_layers=6, d_ff=2048; encoder and decoder both get num_layers layers.",
    "hint.tf_embed": "x = self.pos_encoding(self.src_embed(src) * math.sqrt(d_model)): scale the embeddings, then add the encoding.",
    "hint.tf_forward": "encode: embed, scale, positional encoding, encoder. decode: the same with tgt_embed, then the decoder. forward: generator(decode(tgt, encode(src, src_mask), src_mask, tgt_mask)).",
    "hint.tf_masks": "Pass src_mask to the encoder and to the decoder's cross-attention, and tgt_mask to the decoder.",
    "why.ln_names": "The parameters have other names (gamma/beta?): name them weight and bias, like nn.LayerNorm, so that state dicts load into each other.",
    "why.ln_unbiased": "The variance is the unbiased one (divided by d − 1, torch.var's default): LayerNorm divides by d (unbiased=False).",
    "why.ln_eps_outside": "eps was added outside the square root, (x − μ) / (σ + eps): it belongs inside, (x − μ) / sqrt(σ² + eps).",
    "why.ln_eps_ignored": "The eps argument is ignored (a fixed 1e-5 is used): store the eps you are given.",
    "why.ln_default_eps": "The default eps is not 1e-5 (1e-6 or 1e-12, as in some tutorials?): the contract's LayerNorm(d_model, eps=1e-5) has nn.LayerNorm's default.",
    "why.layer_norm_eps": "The layer's norms were built with another eps (1e-6 or 1e-12?): build them as LayerNorm(d_model), whose eps is 1e-5 like nn.TransformerEncoderLayer's.",
    "why.ln_axis": "The statistics were taken over the batch axis (as in batch normalization): layer normalization uses the last axis, the d_model entries of each token.",
    "why.ffn_relu_after": "A ReLU was also applied to the output: the activation goes only between linear1 and linear2.",
    "why.ffn_activation": "The activation is not a ReLU (GELU?): the paper's MLP is max(0, x W₁ᵀ + b₁) W₂ᵀ + b₂.",
    "why.pre_ln": "The layer normalizes before each sub-layer (pre-LN, x + sublayer(norm(x))): the slides and the paper use post-LN, norm(x + sublayer(x)).",
    "why.no_residual": "A residual connection is missing: each sub-layer's output is added to its input before the norm, norm(x + sublayer(x)).",
    "why.residual_from_input": "The second residual adds the layer's input x: it must add h, the output of the first add & norm, norm2(h + ffn(h)).",
    "why.enc_mask_ignored": "The mask does not reach the self-attention: pass it on, self_attn(x, x, x, mask), or padded tokens leak into the real ones.",
    "why.dec_no_causal": "The decoder's self-attention ignores tgt_mask, so each position sees the future target tokens.",
    "why.dec_cross_queries": "The cross-attention takes its queries from the encoder's memory: the queries come from the decoder, cross_attn(h, memory, memory, src_mask).",
    "why.dec_masks_swapped": "The masks are swapped: tgt_mask (causal) belongs to the self-attention, src_mask (source padding) to the cross-attention.",
    "why.stack_final_norm": "There is a final LayerNorm after the last layer (nn.Transformer has one): post-LN layers already end in a norm, and the course's model has none.",
    "why.stack_shared_layers": "All positions hold the same layer object ([layer] * num_layers), so they share their weights: build a new layer for each position.",
    "why.stack_not_chained": "Every layer gets the stack's input instead of the previous layer's output: write x = layer(x, ...) in the loop.",
    "why.encoder_adds_pe": "The Encoder adds a positional encoding itself: the Transformer adds it once, before the stack, and the Encoder has no embeddings.",
    "why.tf_shared_embedding": "Source and target share one embedding table: the contract has two, src_embed and tgt_embed.",
    "why.tf_no_scale": "The embeddings are not multiplied by √d_model before the positional encoding is added.",
    "why.tf_scale_after_pe": "The sum of embeddings and positional encoding was multiplied by √d_model: scale the embeddings first, then add the encoding.",
    "why.tf_wrong_embedding": "The target tokens are embedded with src_embed: decode uses tgt_embed.",
    "why.tf_decode_logits": "decode applies the generator: it should return the decoder states (batch, T, d_model); forward applies the generator.",
    "why.tf_log_softmax": "forward returns log-probabilities (a log_softmax after the generator, as in some tutorials): every row is shifted by a constant. Return the generator's logits; the loss applies log_softmax.",
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
    "sandbox.function_budget": (
        "The {seconds:g} s allowed for all calls of `{name}` ran out, so its remaining checks were not run."
    ),
    "sandbox.respawns": "The grading worker crashed too often ({n} restarts); the remaining checks were not run.",
    "sandbox.worker_lost": (
        "The module behind `{name}` was lost when the grading worker was restarted after an earlier failure."
    ),
    "sandbox.object_lost": (
        "The grader's object made by `{name}` was lost when the grading worker was restarted after an earlier "
        "failure."
    ),
    "sandbox.event.timeout": "`{name}` was stopped after {seconds:g} s.",
    "sandbox.event.garbled": "`{name}` made the worker send unreadable data; the worker was replaced.",
    "sandbox.event.died": "`{name}`: the worker stopped ({reason}); a fresh one took over.",
    "sandbox.no_notebook": "No {notebook} was found in {folder}, so nothing could be graded.",
    # --- Gradescope's autograder (autograder/instructor/gradescope/run.py) --------------------------------------
    "gradescope.no_notebook": "Your upload holds no notebook (.ipynb): upload your {notebook} and submit again.",
    "gradescope.many_notebooks": (
        "Your upload holds several notebooks ({names}) and none is called {notebook}: upload that one only."
    ),
    "gradescope.failed": (
        "The autograder could not grade this upload ({error}); it scores 0 for now: tell your instructor."
    ),
    "gradescope.cannot_start": (
        "The autograder could not start on Gradescope's machine; it scores 0 for now: tell your instructor."
    ),
    "sandbox.symlink": "{path} is a symbolic link; hand in the file itself.",
    "sandbox.too_big": "The notebook is larger than {mb:g} MB; clear its outputs and hand it in again.",
    "sandbox.unreadable": "The notebook could not be read: {error}",
    "sandbox.load_errors": "While loading your definitions: {errors}",
    "sandbox.isolation.bwrap": (
        "Student code ran in a bubblewrap sandbox: no network, its own process namespace, a read-only "
        "system, and no view of the repository, the hidden graders or the solutions."
    ),
    "sandbox.isolation.rlimits": (
        "Student code ran in a separate process with resource limits, a minimal environment and a private "
        "working directory, but without a file-system or network sandbox, because {reason}."
    ),
    "sandbox.isolation.uid": "It ran under a user id of its own.",
    "sandbox.isolation.weak": (
        "Warning: without bubblewrap and without root, student code runs as you: it can read your files, "
        "write wherever you can and signal your processes. Install bubblewrap (apt-get install bubblewrap) "
        "or grade as root in a container."
    ),
    "sandbox.stage_not_ready": (
        "{stage}: its graders hand objects to the student's code that the sandbox cannot carry yet "
        "(SANDBOX_READY = False), so its submissions were not graded here; grade them with nbgrader."
    ),
    "batch.summary": "{n} graded in {seconds:.1f} s ({skipped} already graded, {failed} could not be graded).",
    "batch.submissions": "{n} submissions",
    "batch.submission": "1 submission",
    "batch.isolation": "Isolation: {level}. {description}",
    # --- stage 07 (training) ------------------------------------------------------------------
    "batch.tokens": "src ends in <eos>; tgt_in is <bos> + target, tgt_out the same shifted by one, both padded",
    "batch.masks": "src_mask is the source's padding mask; tgt_mask combines the causal and the padding masks",
    "batch.dtypes": "token tensors are torch.long, masks torch.bool",
    "batch.ids": "uses the pad_id, bos_id and eos_id arguments",
    "loss.oracle": "matches F.cross_entropy(..., ignore_index=pad_id, label_smoothing=smoothing)",
    "loss.no_smoothing": "smoothing = 0 gives the plain cross-entropy over the real tokens",
    "loss.ignores_pad": "the logits at padded positions change nothing (pad_id = 5)",
    "loss.large_logits": "logits of size 1000 give a finite, exact loss",
    "loss.gradients": "the gradient with respect to the logits matches PyTorch's",
    "loss.dtype": "returns a 0-dimensional tensor in the logits' dtype",
    "noam.formula": "matches d_model^-0.5 · min(step^-0.5, step · warmup^-1.5)",
    "noam.step_zero": "step 0 counts as step 1 (finite, equal to noam_lr(1, ...))",
    "noam.peak": "rises linearly during the warm-up, peaks at step = warmup, then decays as step^-0.5",
    "train.sgd_step": "one step from given weights (stale gradients in .grad, clipping active) gives the right weights",
    "train.loss": "returns the batch's loss before the step, as a Python float",
    "train.train_mode": "puts the model in training mode",
    "train.autocast": "with amp_dtype=torch.bfloat16 the forward pass runs under torch.autocast on the CPU",
    "train.cuda": "on CUDA, float16 autocast with a GradScaler trains (GPU only)",
    "greedy.copy": "a model that copies its source: <bos>, the copy, <eos>, rows padded with <eos>, stops when all are done",
    "greedy.transformer": "a Transformer with given weights: the same tokens as greedy decoding done right",
    "greedy.max_len": "stops at max_len tokens when no row produces <eos>",
    "greedy.no_grad": "runs without building a graph (torch.no_grad)",
    "greedy.cuda": "works on CUDA, with the tokens on the model's device (GPU only)",
    "ckpt.save": "save_checkpoint writes a safetensors file with every tensor and the config as JSON in its metadata",
    "ckpt.loads": "translator.safetensors loads into the reference Transformer",
    "ckpt.valid_bleu_30": "BLEU ≥ 30 on the public valid split",
    "ckpt.valid_bleu_50": "BLEU ≥ 50 on the public valid split",
    "ckpt.valid_bleu_70": "BLEU ≥ 70 on the public valid split",
    "ckpt.valid_bleu_80": "BLEU ≥ 80 on the public valid split",
    "ckpt.valid_bleu_90": "BLEU ≥ 90 on the public valid split",
    "ckpt.test_bleu_30": "BLEU ≥ 30 on the hidden test split",
    "ckpt.test_bleu_50": "BLEU ≥ 50 on the hidden test split",
    "ckpt.test_bleu_70": "BLEU ≥ 70 on the hidden test split",
    "ckpt.test_bleu_80": "BLEU ≥ 80 on the hidden test split",
    "ckpt.test_bleu_90": "BLEU ≥ 90 on the hidden test split",
    "ckpt.hard_bleu_30": "BLEU ≥ 30 on unseen noun-adjective combinations (hidden)",
    "ckpt.hard_bleu_50": "BLEU ≥ 50 on unseen noun-adjective combinations (hidden)",
    "ckpt.hard_bleu_70": "BLEU ≥ 70 on unseen noun-adjective combinations (hidden)",
    "ckpt.hard_bleu_80": "BLEU ≥ 80 on unseen noun-adjective combinations (hidden)",
    "ckpt.hard_bleu_90": "BLEU ≥ 90 on unseen noun-adjective combinations (hidden)",
    "fail.batch_keys": "`make_batch` should return a dict with the keys {keys}; it returned {got}.",
    "fail.loss_scalar": "`label_smoothed_loss` should return one number as a 0-dimensional tensor (so that .backward() works); it returned {got}.",
    "fail.train_loss_type": "`train_step` should return the loss as a Python float (loss.item()); it returned {got:a}.",
    "fail.train_eval_mode": "The model was in eval mode during the training step.",
    "fail.train_no_autocast": "With amp_dtype=torch.bfloat16 the forward pass did not run under torch.autocast(device_type='cpu', dtype=torch.bfloat16).",
    "fail.train_no_update": "The weights did not change: the optimizer step was not taken.",
    "fail.greedy_grad": "Decoding built an autograd graph: the model was called with gradients enabled.",
    "fail.greedy_device": "The tokens came back on {got}, not on the model's device (cuda).",
    "fail.ckpt_config": "The config in the checkpoint's metadata is not the config that was passed to save_checkpoint.",
    "fail.ckpt_missing_tensors": "The checkpoint lacks tensors of the model: {names}.",
    "ckpt.too_slow": "Grading {name} took longer than this submission's time budget allows: hand in the model stage 07 trains, not a larger one.",
    "ckpt.missing": "There is no {name} next to this notebook. Train with TRAIN_FULL (a GPU: Colab works) and hand it in with the notebook.",
    "ckpt.too_large": "{name} is {size_mb:,d} MB, more than the {limit_mb:,d} MB any model of this course needs: hand in the checkpoint that save_checkpoint wrote.",
    "ckpt.not_safetensors": "{name} is not a safetensors file ({error}). Save it with safetensors.torch.save_file, not torch.save.",
    "ckpt.no_config": "{name} has no \"config\" in its metadata: pass metadata={{\"config\": json.dumps(config)}} to save_file.",
    "ckpt.config_not_json": "The \"config\" in {name}'s metadata is not a JSON object (it starts {got!r}): use json.dumps(config).",
    "ckpt.config_keys": "The \"config\" in {name}'s metadata lacks {missing}.",
    "ckpt.config_value": "The config's {key} is not a sensible size: {got}.",
    "ckpt.vocab": "The checkpoint's vocabularies have {src} (English) and {tgt} (Spanish) words; the course's have {src_expected} and {tgt_expected}. Use course_data.load_vocabs().",
    "ckpt.tensors": "The tensors in {name} do not fit the Transformer its config describes.",
    "ckpt.detail_missing": "{n} missing: {names}",
    "ckpt.detail_extra": "{n} not in the contract: {names}",
    "ckpt.detail_shape": "`{name}` has shape {got}, expected {expected}",
    "ckpt.dtype": "The tensor `{tensor}` has dtype {dtype}; weights must be floating point.",
    "ckpt.not_finite": "The tensor `{tensor}` holds inf or nan: training diverged. Lower the learning rate or check the loss.",
    "ckpt.example": "“{src}” → expected “{ref}”, got “{got}”",
    "ckpt.bleu_low": "BLEU {bleu:.1f} on {split}, below {threshold:g}.",
    "hint.batch_layout": "Source: the words + [eos_id], padded. Target: [bos_id] + words + [eos_id], padded; tgt_in = target[:, :-1] (what the decoder reads), tgt_out = target[:, 1:] (what it must predict).",
    "hint.batch_masks": "src_mask = padding_mask(src, pad_id), (batch, 1, 1, S); tgt_mask = padding_mask(tgt_in, pad_id) & causal_mask(T), (batch, 1, T, T).",
    "hint.batch_ids": "Use the pad_id, bos_id and eos_id arguments instead of fixed numbers.",
    "hint.loss_formula": "Per token: (1 − ε)·(−log p_y) + ε·mean_k(−log p_k), then the mean over the tokens that are not padding.",
    "hint.loss_pad": "Keep only the positions where target != pad_id (a boolean mask), and divide by their number.",
    "hint.loss_log_softmax": "Take logits.log_softmax(-1) (or x − logsumexp(x)): log(softmax(x)) underflows to log(0) = −inf for large logits.",
    "hint.noam": "lr = d_model**-0.5 * min(s**-0.5, s * warmup**-1.5) with s = max(step, 1): linear warm-up, then 1/√s decay.",
    "hint.noam_zero": "Use s = max(step, 1): 0**-0.5 divides by zero.",
    "hint.train_order": "zero_grad → forward → loss → backward → clip_grad_norm_ → optimizer.step(): clip after backward and before the step.",
    "hint.train_item": "Return loss.item(), a Python float: a tensor would keep the whole graph alive.",
    "hint.train_autocast": "Wrap the forward pass (and the loss) in torch.autocast(device_type=batch['src'].device.type, dtype=amp_dtype, enabled=amp_dtype is not None).",
    "hint.train_scaler": "With a GradScaler: scaler.scale(loss).backward(), scaler.unscale_(optimizer), clip, scaler.step(optimizer), scaler.update().",
    "hint.greedy_loop": "Start from a (batch, 1) column of bos_id; at each step decode everything so far under causal_mask(t), take the argmax of the last position's logits, append it, and stop once every row has produced eos_id.",
    "hint.greedy_max_len": "The output never has more than max_len tokens, <bos> included.",
    "hint.greedy_device": "Create new tensors on src.device (torch.full(..., device=src.device)).",
    "hint.ckpt_save": "safetensors.torch.save_file({name: tensor.detach().cpu().contiguous() ...}, path, metadata={\"config\": json.dumps(config)}).",
    "hint.ckpt_train": "Train longer on a GPU (TRAIN_FULL = True), and check the translations of the valid split in the notebook.",
    "why.batch_no_bos": "The target does not start with <bos>: the decoder's first input must be <bos>, so that it predicts the first word from the source alone.",
    "why.batch_not_shifted": "The decoder input and the labels are the same sequence: with tgt_in = tgt_out the decoder sees the word it must predict. Shift by one: tgt_in = tgt[:, :-1], tgt_out = tgt[:, 1:].",
    "why.loss_pad_included": "Padding counts in the loss: positions where the target is pad_id must be left out of the sum and of the count.",
    "why.loss_k_minus_1": "The smoothing mass ε was spread over the K − 1 wrong classes; PyTorch (and the contract) spreads ε/K over all K classes, the right one included.",
    "why.loss_divide_by_all": "The loss is divided by all positions, padding included: divide by the number of real (non-pad) tokens.",
    "why.loss_logits_as_log_probs": "The logits are used as if they were log-probabilities (no log_softmax, as for a generator that applies one): take log_softmax of the logits first.",
    "why.noam_no_warmup": "There is no warm-up: the rate must grow linearly (step · warmup^-1.5) until step = warmup.",
    "why.noam_off_by_one": "The step is shifted by one (step + 1): only step 0 counts as 1; from step 1 on use the step itself.",
    "why.train_no_zero_grad": "The gradients were not reset: the stale gradients from before were added to this step's. Call optimizer.zero_grad() first.",
    "why.train_clip_after_step": "The gradients were clipped after optimizer.step(), so the step used unclipped gradients: clip between backward() and step().",
    "why.train_no_clip": "The gradients were not clipped: call torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm) before the step.",
    "why.train_eval_mode": "train_step did not call model.train(): after an evaluation the model stays in eval mode and dropout is off during training.",
    "why.greedy_no_stop": "Decoding ran to max_len although every row had produced <eos>: stop as soon as all rows are finished.",
    "why.greedy_no_eos_padding": "Rows that had finished kept generating words: after a row's <eos>, append eos_id to it.",
    "why.greedy_no_bos": "The output does not start with <bos>: return the whole sequence, <bos> included.",
    "why.greedy_no_causal_mask": "The decoder ran without the causal mask: earlier positions then see later ones, unlike in training. Pass causal_mask(t) as tgt_mask.",
    "why.greedy_grad": "greedy_decode tracks gradients it never needs: run the decoding loop inside `with torch.no_grad():`.",
    # --- stage 08 (decoder-only GPT) ------------------------------------------------------------
    "csa.parameters": "has w_q, w_k, w_v, w_o (nn.Linear(d_model, d_model)) and dropout; a ValueError when d_model % num_heads != 0",
    "csa.oracle": "forward(x) without a cache is causal multi-head self-attention",
    "csa.cache_shapes": "the returned cache is (k, v), each (batch, heads, T, d_k): the projected keys and values",
    "csa.cache": "with a cache of 4 tokens, 2 new queries see the past and themselves (the mask's offset)",
    "csa.causality": "changing later positions leaves the earlier outputs unchanged",
    "csa.dropout": "dropout on the attention weights: off in eval mode, on in training mode",
    "mlp.parameters": "has linear1 (d_model → d_ff), linear2 (d_ff → d_model) and dropout",
    "mlp.oracle": "computes linear2(GELU(linear1(x))) with the exact GELU",
    "mlp.dropout": "dropout acts on the MLP's output in training mode only",
    "block.parameters": "has ln1, attn, ln2, mlp and dropout with the contract's names",
    "block.oracle": "matches nn.TransformerEncoderLayer(norm_first=True, activation=\"gelu\") with a causal mask",
    "block.cache": "5 tokens, then 1 more with the cache, give the outputs of all 6 at once",
    "block.dropout": "the block's parts get the dropout rate: off in eval mode, on in training mode",
    "gpt.parameters": "has tok_emb, pos_emb, drop, blocks, ln_f and a head tied to tok_emb",
    "gpt.oracle": "forward's logits match a model built from PyTorch's layers with the same weights",
    "gpt.cache": "one token at a time with the cache gives the logits of the whole sequence at once",
    "gpt.max_len": "a clear ValueError beyond max_len, with and without a cache",
    "gpt.causality": "changing later tokens leaves the earlier logits unchanged",
    "gpt.dropout": "dropout is off in eval mode and on in training mode",
    "lmloss.oracle": "the mean cross-entropy of logits[:, t] against idx[:, t + 1], padding left out",
    "lmloss.no_pad": "with pad_id=None every target counts",
    "lmloss.shift": "logits that predict each next token with certainty give a loss of 0",
    "sample.greedy": "temperature=0 follows the argmax at every step and keeps the prompt",
    "sample.cache": "the model is called once on the prompt, then on one token at a time with its cache, without gradients, in eval mode, and left in its mode",
    "sample.top_k": "top_k=3 draws only the 3 most probable tokens (and each of them)",
    "sample.top_p": "top_p=0.6 draws from the nucleus: the most probable tokens up to and including the one that crosses 0.6",
    "sample.temperature": "at temperature 0.5 the draws follow softmax(logits / 0.5)",
    "lmckpt.save": "save_lm writes a safetensors file with every tensor (head.weight may be left out) and the config as JSON in its metadata",
    "lmckpt.loads": "gpt.safetensors loads into a GPT built from PyTorch's layers",
    "lmckpt.not_written": "save_lm wrote no file at the path it was given.",
    "hint.lmckpt_save": "save_file({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items() if k != \"head.weight\"}, path, metadata={\"config\": json.dumps(config)}).",
    "lmckpt.valid_bigram": "perplexity below the bigram baseline on the public valid split",
    "lmckpt.valid_threshold": "perplexity below 10.5 on the public valid split",
    "lmckpt.test_bigram": "perplexity below the bigram baseline on the hidden test split",
    "lmckpt.test_threshold": "perplexity below 10.5 on the hidden test split",
    "lmckpt.bigram": "below the bigram baseline",
    "lmckpt.threshold": "below the course's threshold",
    "lmckpt.too_high": "The perplexity on the {split} split is not {what}.",
    "lmckpt.missing": "There is no {name} next to this notebook. Train the model (section 7), save it with save_lm and hand it in with the notebook.",
    "lmckpt.vocab": "The checkpoint's vocabulary has {got} tokens; the course's Spanish vocabulary has {expected}. Use course_data.load_vocabs()[1].",
    "lmckpt.too_short": "The model's max_len ({max_len}) is shorter than the course's sentences need ({need} tokens with <bos> and <eos>).",
    "fail.gpt_pair": "{what} should return a pair (output, cache), but it returned {got:a}.",
    "fail.gpt_cache_type": "The cache of {what} should be a pair (k, v) of tensors.",
    "fail.gpt_cache_list": "GPT's forward should return the cache as a list with one (k, v) per block ({n} blocks).",
    "fail.gpt_untied": "The head is not tied to the token embedding: head.weight should be the same tensor as tok_emb.weight.",
    "fail.mlp_dropout_place": "In training mode the MLP's output is not dropped: dropout belongs on the output, after linear2 (GPT-2's place).",
    "fail.sample_prompt": "The returned tokens do not start with the prompt: return the prompt followed by the new tokens.",
    "fail.sample_cache": "The model was called as (new tokens, cached length) = {got}; expected {expected}: the prompt once, then one token per step with the cache it returned.",
    "fail.sample_grad": "The model was called with gradients on: sample under torch.no_grad().",
    "fail.sample_train_mode": "The model was called in training mode: switch to model.eval() while sampling (no dropout).",
    "fail.sample_mode_left": "The model was given in training mode but left in eval mode: restore model.train(was_training) at the end.",
    "fail.sample_support": "With {what} the draws took the tokens {got}; expected exactly {expected}.",
    "fail.csa_dropout_place": "In training mode the attention drops single entries of the values: dropout belongs on the attention weights, before they weigh v.",
    "fail.block_dropout_place": "In training mode the block's dropout does not act on the attention branch alone: x = x + dropout(a), not dropout(x + a), and not left out.",
    "fail.gpt_dropout_missing": "In training mode `GPT` adds no dropout of its own: apply drop to the embeddings, drop(tok_emb(idx) + pos_emb(positions)).",
    "fail.gpt_dropout_place": "In training mode `GPT` drops values after ln_f: drop belongs on the embeddings, before the first block.",
    "fail.sample_not_seeded": "Two calls with generators seeded alike drew different tokens: draw with the generator you are given, torch.multinomial(probs, 1, generator=generator).",
    "fail.sample_seed_ignored": "Generators with different seeds drew the same tokens: draw with the generator you are given, not with a seed of your own.",
    "fail.sample_mode_left_train": "The model was given in eval mode but left in training mode: restore the mode you found, model.train(was_training).",
    "hint.csa_dropout": "weights = self.dropout(softmax(scores)), then weights @ v: drop attention weights, not values or outputs.",
    "hint.sample_order": "Temperature first (logits / τ), then top-k on those logits, then top-p on the softmax of what top-k kept, then the draw.",
    "hint.gpt_returns": "forward returns two things: (output, cache).",
    "hint.csa_parameters": "Four nn.Linear(d_model, d_model) named w_q, w_k, w_v, w_o, and self.dropout = nn.Dropout(dropout), as in stage 04.",
    "hint.csa_mask": "Mask with True = may attend, shape (T, S): torch.ones(T, S, dtype=torch.bool).tril(diagonal=S - T).",
    "hint.csa_cache": "Append the new k and v to the cached ones along the time axis (dim=-2) first, then attend from the new queries to all of them.",
    "hint.mlp": "linear1 = nn.Linear(d_model, d_ff), linear2 = nn.Linear(d_ff, d_model); forward: dropout(linear2(GELU(linear1(x)))) with nn.GELU().",
    "hint.block": "Pre-LN: a, cache = attn(ln1(x), cache); x = x + dropout(a); x = x + mlp(ln2(x)).",
    "hint.block_cache": "Pass the cache to the attention and return the one it gives back.",
    "hint.gpt_parameters": "tok_emb = nn.Embedding(vocab_size, d_model), pos_emb = nn.Embedding(max_len, d_model), drop, blocks (nn.ModuleList of GPTBlock), ln_f = LayerNorm(d_model), head = nn.Linear(d_model, vocab_size, bias=False).",
    "hint.gpt_tied": "After creating head, write self.head.weight = self.tok_emb.weight.",
    "hint.gpt_forward": "x = drop(tok_emb(idx) + pos_emb(positions)); each block; then ln_f and head.",
    "hint.gpt_cache": "Positions continue after the cached tokens: torch.arange(T_past, T_past + T), with T_past = cache[0][0].shape[-2]; give block i the cache's entry i.",
    "hint.gpt_max_len": "Before embedding, raise ValueError when T_past + T > max_len.",
    "hint.lm_loss": "Compare logits[:, :-1] with idx[:, 1:], and leave pad targets out (ignore_index=pad_id).",
    "hint.sample": "Return torch.cat([idx, new_tokens], dim=1): (batch, T + max_new_tokens).",
    "hint.sample_greedy": "temperature == 0: take logits[:, -1].argmax(-1) at every step, no draw.",
    "hint.sample_cache": "logits, cache = model(idx) once; then logits, cache = model(next_token, cache) for each new token, inside torch.no_grad() and model.eval(); restore the mode at the end.",
    "hint.sample_filters": "top-k: keep the k largest logits; top-p: sort the probabilities, keep a token while the probability ranked above it is below p; set the rest to −inf before the softmax.",
    "hint.sample_temperature": "Divide the logits by the temperature before the softmax, then torch.multinomial(probs, 1, generator=generator).",
    "hint.lmckpt": "Train longer (TRAIN_STEPS) or on a GPU, check lm_loss's shift, and save the trained model with save_lm.",
    "why.gpt_no_causal": "No causal mask: each position attends to later positions too, so the model sees the token it must predict.",
    "why.cache_no_offset": "The mask has no offset: with a cache of T_past keys, new query t is position T_past + t and may see keys 0 .. T_past + t, not 0 .. t.",
    "why.cache_attend_before_append": "The new queries attend to the cached keys only: append the new keys and values to the cache first, then attend.",
    "why.mlp_relu": "The activation is a ReLU: GPT's MLP uses the GELU, nn.GELU().",
    "why.post_ln": "This is a post-LN block (norm after each addition, as in stage 06): GPT normalizes first, x + attn(ln1(x)).",
    "why.untied_head": "The head has its own weight: tie it to the token embedding (self.head.weight = self.tok_emb.weight).",
    "why.pos_after_blocks": "The position embedding is added after the blocks: add it to the token embedding, before the first block.",
    "why.cache_positions_restart": "With a cache the positions restart at 0: the new tokens are at positions T_past, T_past + 1, …",
    "why.loss_none_pad": "With pad_id=None every target counts, token 0 too: leave targets out only when a pad_id is given.",
    "why.loss_not_shifted": "The loss is not shifted: logits at t must be scored against idx at t + 1 (logits[:, :-1] with idx[:, 1:]).",
    "why.top_p_drops_crossing": "The token that crosses top_p is left out: the nucleus keeps it, so that the kept probability reaches p.",
    "why.temperature_after_softmax": "The temperature is applied after the softmax (probabilities / τ): multinomial renormalizes, so it changes nothing. Divide the logits.",
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
    # --- issue 11 (hostile input: malformed notebooks, special files, checkpoint bounds) ----------
    "hostile.not_notebook": "{name} is not a notebook this grader can read ({why}); save it again from Jupyter and hand it in again.",
    "hostile.special_file": "{path} is not a regular file (a link, FIFO, device or socket); hand in the file itself.",
    "hostile.linked_folder": "{path} is a link to another folder; hand in the folder itself.",
    "hostile.grading_failed": "This submission could not be graded ({error}); it scores 0 until it is graded again.",
    "ckpt.header": "{name} has a safetensors header the grader refuses: {why}.",
    # --- issue 11 items 7, 8, 2 (per-item time budget; computed constants; notebook bounds) ------
    "report.item_out_of_time": (
        "Your code ran out of time in this item, so its {n} remaining check(s) were not run and count as failed."
    ),
    "notebook.too_large": "{name} is {size} MB; the grader reads notebooks up to {limit} MB (clear the outputs and save again).",
    "notebook.too_deep": "{name} is nested deeper than a notebook can be; save it again from Jupyter.",
    "notebook.too_many_cells": "{name} has {n} cells; the grader reads notebooks of up to {limit} cells.",
    "notebook.cell_too_long": "Cell {cell} has {n} characters of code; the grader reads cells of up to {limit}.",
    "notebook.code_too_long": "The notebook has {n} characters of code; the grader reads up to {limit}.",
    "notebook.cell_too_complex": "Cell {cell} has more code than the grader parses in one cell ({n} syntax nodes, at most {limit}).",
    # --- issue 10 items 4-5 (static policy on the graded definitions, autograder/policy.py) -------
    "policy.forbidden": (
        "`{name}` calls {forbidden} ({construct}, line {line}). In this item you write that "
        "computation yourself, so the item scores 0."
    ),
    "policy.dynamic": (
        "`{name}` calls {forbidden}, or could unseen: it looks a name up at run time with {construct} "
        "(line {line}). In this item eval, exec, importlib, getattr with a computed name, torch._C, "
        "torch.overrides and sys.modules count as the forbidden call, so the item scores 0. Call what "
        "you need by its name."
    ),
    "policy.internals": (
        "`{name}` calls PyTorch's internals, {construct} (line {line}). The course's own building blocks "
        "are written that way so that a copy of one is no answer, and the item scores 0. Write it with "
        "torch, nn and F."
    ),
    "policy.reflection": (
        "`{name}` reaches code without naming it, with {construct} (line {line}). The grader cannot "
        "tell whose code that runs (the course's own answers live in the same process), so the item "
        "scores 0. Call what you need by its name."
    ),
    "policy.local": (
        "`{name}` imports {construct} (line {line}), a module that is not part of Python or of the "
        "course's environment. The grader reads only the notebook, so the item scores 0: put that code "
        "in the notebook."
    ),
    "policy.course": (
        "`{name}` uses the course's own code, {construct} (line {line}). Only `check` and "
        "`carry_forward` may be used from `autograder`: write `{name}` yourself; the grader's code scores nothing."
    ),
    "policy.star": (
        "The notebook has {construct} (line {line}): it binds names the grader cannot list, so it "
        "cannot tell what `{name}` calls, and the item scores 0. Import what you use by name "
        "(`import torch`, `from math import sqrt`)."
    ),
    # --- issue 10 items 6-7 (nbgrader autograde records the hardened scores, autograder/instructor/nbgrader_hardened.py)
    "nbgrader.kernel_differs": (
        "(When the notebook ran, this check gave {kernel}; the recorded score, {score}, comes from the "
        "course's sandboxed grading of your definitions.)"
    ),
    "nbgrader.kernel_died": "The notebook's kernel stopped before this check finished, so it could not run here.",
    "nbgrader.hardened_failed": "The sandboxed grading of this notebook failed ({error}), so this item scores 0 until it is graded again.",
    "nbgrader.hardened_timeout": "The sandboxed grading of this notebook took over {seconds} s, so this item scores 0 until it is graded again.",
    # issue 14 item 1: the feedback column of a Moodle grade import (autograder/instructor/lms_export.py)
    "lms.feedback_item": "{title}: {score} / {max}",
    # issue 14 item 3: the class report (instructors; autograder/instructor/class_report.py)
    "classreport.title": "Class report",
    "classreport.intro": "{students} students, {submissions} graded submissions. Read from the stored results; nothing was graded again.",
    "classreport.summary": "{n} handed in ({graded} graded); mean score {mean:.2f} / {max:g} points.",
    "classreport.below": "Students below {threshold:g}% of a stage's points, or with nothing handed in",
    "classreport.distribution": "Score distribution",
    "classreport.ungradable": "Submissions that could not be graded",
    "classreport.items": "Items most students fail",
    "classreport.misconceptions": "Named misconceptions, by how many students made them",
    "classreport.checks": "Pass rate of every check",
    "classreport.none": "None.",
    "classreport.nobody": "Nobody handed this stage in.",
    "classreport.not_handed_in": "not handed in",
    "classreport.axis_points": "points (of {max:g})",
    "classreport.axis_students": "students",
    "classreport.axis_full_marks": "% of submissions with full marks",
    "classreport.col_student": "student",
    "classreport.col_reason": "why",
    "classreport.col_rank": "#",
    "classreport.col_item": "item",
    "classreport.col_failed": "without full marks",
    "classreport.col_mean": "mean points",
    "classreport.col_students": "students",
    "classreport.col_items": "items",
    "classreport.col_sentence": "likely cause",
    "classreport.col_check": "check",
    "classreport.col_passed": "passed",
    "classreport.col_stage": "stage",
    "classreport.col_score": "score",
    # issue 14 item 4: the similarity list (instructors; autograder/instructor/similarity.py)
    "similarity.title": "Similar submissions: {stage}",
    "similarity.notice": (
        "A list to review, never a penalty: similar code is not proof of copying (short exercises have few "
        "good solutions). Read each pair side by side and talk to the students before you conclude anything."
    ),
    "similarity.method": (
        "{n} submissions compared on their graded definitions, with the released skeleton removed and names, "
        "whitespace, comments and docstrings normalised (winnowing, as MOSS does; copydetect, k = {k}, "
        "window = {window}). Similarity: the share of each one's own code found in the other."
    ),
    "similarity.col_rank": "#",
    "similarity.col_pair": "pair",
    "similarity.col_score": "similarity",
    "similarity.col_shares": "share of A in B / B in A",
    "similarity.unreadable": "Submissions that could not be read (not compared)",
    "similarity.none": "No pair of submissions shares code beyond the skeleton.",
    # issue 10 item 2: the export's public checks replay recorded expected values
    "fail.expected_missing": (
        "This check has no recorded expected value for `{function}` on these inputs, so it cannot "
        "be graded here. Your instructor must run `python -m autograder record-expected` and export again."
    ),
    "fail.block_unknown_input": (
        "The checks' trusted `{function}` got an input that correct code never gives it, so it cannot "
        "run here: look at what your code passes to `{function}`."
    ),
    "fail.expected_refused": (
        "`{function}` here holds the checks' recorded values, not a formula: your code cannot use it. "
        "Write the computation yourself."
    ),
    # issue 11 item 8: computed module-level constants in hardened grading (notebook.plan, worker load)
    "sandbox.constant.raised": (
        "While grading, the module-level statement at {where} (`{code}`) raised {error}; it was skipped "
        "and the rest of your notebook was graded."
    ),
    "sandbox.constant.timeout": (
        "While grading, the module-level statement at {where} (`{code}`) did not finish within {seconds:g} s; "
        "it was stopped and the rest of your notebook was graded. Keep slow work inside functions."
    ),
    "sandbox.constant.skipped": (
        "While grading, the module-level statements from {where} (`{code}`) on were not run: together they "
        "may take {seconds:g} s. Keep slow work inside functions."
    ),
    # --- stage 09: the encoder-only BERT (graders/public/test_09_encoder_only.py, bert_oracles.py) ---
    "emb.parameters": "has tok_emb, pos_emb, seg_emb (nn.Embedding), norm (your LayerNorm) and dropout",
    "emb.oracle": "matches LN(tok_emb[tokens] + pos_emb[positions] + seg_emb[segments])",
    "emb.default_segments": "without segments, every position is in segment 0",
    "emb.positions": "learned positions 0 ... T-1, up to max_len",
    "emb.dropout": "dropout acts in training mode only, at the rate given, after the LayerNorm",
    "bert.parameters": "has embeddings (BertEmbeddings) and layers (an nn.ModuleList of EncoderLayers)",
    "bert.oracle": "matches a stack of nn.TransformerEncoderLayer (post-LN) on the embeddings, with the padding mask",
    "bert.padding": "[PAD] tokens change nothing for the real tokens",
    "bert.pad_id": "uses its pad_id argument for the padding mask",
    "bert.pool": "pool(hidden) is the state of [CLS], at position 0",
    "bert.dropout": "dropout acts in training mode only, at the rate given",
    "mask.contract": "returns (inputs, labels): int64 tensors of the tokens' shape, tokens unchanged",
    "mask.specials": "never chooses a special token ([CLS], [SEP], [PAD], [MASK])",
    "mask.labels": "labels hold the original token at the chosen positions and -100 elsewhere",
    "mask.rate": "chooses each ordinary token with probability prob",
    "mask.split": "of the chosen: 80 % [MASK], 10 % a random ordinary word, 10 % unchanged",
    "mask.seeded": "all its randomness comes from the generator",
    "mlm.parameters": "has dense, norm and decoder, with the contract's parameter names and shapes",
    "mlm.tied": "the decoder's weight is the token embedding's weight (one tensor)",
    "mlm.oracle": "matches LN(gelu(dense(h))) · Eᵀ + b",
    "mlmloss.masked_only": "matches F.cross_entropy over the positions whose label is not -100",
    "mlmloss.gradient": "its gradient is 0 at the positions whose label is -100",
    "cls.parameters": "has bert, dropout and classifier (nn.Linear(d_model, num_classes))",
    "cls.oracle": "matches classifier(state of [CLS]) of the given BERT",
    "cls.fine_tunes": "fine-tuning trains BERT too: a gradient reaches its parameters",
    "cls.dropout": "dropout acts in training mode only, at the rate given",
    "bert_ckpt.save": "save_classifier writes a safetensors file with every tensor and the config as JSON in its metadata",
    "bert_ckpt.loads": "agreement.safetensors loads into the grader's BERT classifier",
    "bert_ckpt.valid_70": "accuracy ≥ 70 % on the public valid split",
    "bert_ckpt.valid_85": "accuracy ≥ 85 % on the public valid split",
    "bert_ckpt.valid_95": "accuracy ≥ 95 % on the public valid split",
    "bert_ckpt.test_70": "accuracy ≥ 70 % on the hidden test split",
    "bert_ckpt.test_85": "accuracy ≥ 85 % on the hidden test split",
    "bert_ckpt.test_95": "accuracy ≥ 95 % on the hidden test split",
    "bert_ckpt.accuracy_low": "Accuracy {accuracy:.1f} % on {split}, below {threshold:g} %.",
    "bert_ckpt.baseline": "always answering the most common label scores {baseline:.1f} % here",
    "ckpt.bert_vocab": "The checkpoint's config has vocab_size {got}; the task's vocabulary has {expected} tokens. Use agreement.VOCAB_SIZE.",
    "fail.emb_dropout_place": "In training mode the embeddings are not dropout(LN(x)): apply dropout last, after the LayerNorm.",
    "fail.mask_pair": "mask_tokens should return a pair (inputs, labels), but returned {got:a}.",
    "fail.mask_in_place": "mask_tokens changed the tokens it was given: work on a copy (tokens.clone(), torch.where).",
    "fail.mask_rate": "Wrong count of {what}.",
    "fail.mask_specials": "{n} special-token positions were chosen (changed, or labelled with something other than -100).",
    "fail.mask_labels_everywhere": "Every position has a label: the positions that were not chosen must be labelled -100.",
    "fail.mask_labels_value": "Some labels differ from the original token at their position.",
    "fail.mask_labels_missing": "{n} positions were changed in the inputs but are labelled -100: every position you change must be chosen.",
    "fail.mask_random_special": "A random replacement is a special token: draw the random words from the ordinary words only.",
    "fail.mask_not_seeded": "Two calls with generators of the same seed gave different results.",
    "fail.mask_fixed": "Generators of different seeds gave the same choice of positions.",
    "fail.mlm_not_tied": "{what} is not the token embedding's weight: the head is not tied.",
    "fail.mask_random_words": "{n} of the {words} ordinary words were never drawn as the random replacement ({ids}): draw it uniformly from every ordinary word, for each position on its own.",
    "fail.mask_prob_one": "With prob = 1.0 every ordinary token is chosen and labelled with its id, the unchanged 10 % too; {n} positions disagree.",
    "fail.cls_frozen": "No gradient reaches BERT's parameters through the classifier: fine-tuning trains the encoder too (no torch.no_grad() or .detach() around bert).",
    "hint.emb_parameters": "tok_emb = nn.Embedding(vocab_size, d_model), pos_emb = nn.Embedding(max_len, d_model), seg_emb = nn.Embedding(num_segments, d_model), norm = LayerNorm(d_model), dropout = nn.Dropout(dropout).",
    "hint.emb_sum": "Add the three embeddings, positions torch.arange(T), then self.dropout(self.norm(x)).",
    "hint.emb_segments": "segments=None means torch.zeros_like(tokens): segment 0's vector is still added.",
    "hint.bert_parameters": "embeddings = BertEmbeddings(vocab_size, d_model, max_len, 2, dropout); layers = nn.ModuleList of num_layers new EncoderLayer(d_model, num_heads, d_ff, dropout).",
    "hint.bert_forward": "x = embeddings(tokens, segments), then every layer: x = layer(x, mask); no final norm.",
    "hint.bert_mask": "Build the mask from the tokens, padding_mask(tokens, self.pad_id), and pass it to every layer.",
    "hint.bert_pad_id": "Keep pad_id in __init__ (self.pad_id) and use it for the mask, not a literal 0.",
    "hint.bert_pool": "pool returns hidden[:, 0]: [CLS] is the first token.",
    "hint.mask_contract": "Return (inputs, labels), both (batch, T) int64, made with torch.where or on tokens.clone().",
    "hint.mask_labels": "labels = torch.where(chosen, tokens, -100); change inputs only where chosen.",
    "hint.mask_split": "Draw one uniform number per chosen position: below 0.8 → [MASK], 0.8 to 0.9 → a random ordinary word, above → unchanged.",
    "hint.mask_generator": "Pass generator=generator to every torch.rand / torch.randint call, and use no other randomness.",
    "hint.mlm_parameters": "dense = nn.Linear(d_model, d_model), norm = LayerNorm(d_model), decoder = nn.Linear(d_model, vocab_size); don't store the embedding itself.",
    "hint.mlm_tie": "After creating decoder: self.decoder.weight = embedding.weight.",
    "hint.mlm_forward": "decoder(norm(F.gelu(dense(hidden)))).",
    "hint.mlm_loss": "F.cross_entropy(logits.reshape(-1, vocab), labels.reshape(-1), ignore_index=-100).",
    "hint.cls_parameters": "self.bert = bert, self.dropout = nn.Dropout(dropout), self.classifier = nn.Linear(d_model, num_classes).",
    "hint.cls_forward": "classifier(dropout(bert.pool(bert(tokens, segments)))).",
    "hint.bert_ckpt_save": "save_file({name: tensor.detach().cpu().contiguous() for name, tensor in model.state_dict().items()}, str(path), metadata={\"config\": json.dumps(config)}).",
    "fail.bert_ckpt_names": "The saved tensors are not the model's state dict (names as model.state_dict() has them).",
    "hint.bert_ckpt_train": "Train with TRAIN_FULL = True (pre-training, then fine-tuning) and hand in the agreement.safetensors it writes.",
    "why.emb_no_segment": "The segment embedding is not added: x = tok_emb(tokens) + pos_emb(positions) + seg_emb(segments) (segment 0 when segments is None).",
    "why.emb_no_norm": "The LayerNorm is missing: BERT normalizes the sum of the three embeddings, then applies dropout.",
    "why.bert_mask_ignored": "The padding mask does not reach the layers: every real token attends to [PAD]. Pass padding_mask(tokens, pad_id) to each layer.",
    "why.cls_last": "The sentence is read from the last position; [CLS] is the first token: hidden[:, 0].",
    "why.cls_mean": "The states are averaged over the positions; BERT takes the state of [CLS]: hidden[:, 0].",
    "why.mask_specials": "Special tokens are chosen too: exclude every id in special_ids before choosing.",
    "why.mask_no_8010": "Every chosen position becomes [MASK]: BERT keeps 10 % unchanged and puts a random word in 10 %.",
    "why.mlm_untied": "The decoder has its own weight: tie it to the token embedding, self.decoder.weight = embedding.weight.",
    "why.mlm_relu": "The transform uses ReLU; BERT's MLM head uses GELU (F.gelu).",
    "why.mlm_loss_all_positions": "The loss counts every position, not only the masked ones: ignore the labels that are -100 (ignore_index=-100).",
}

from .catalogue_es import ES, TITLES_ES  # noqa: E402 - the Spanish edition, every key of EN (tests/test_catalogue_es.py)
from .phrases_es import PHRASES_ES  # noqa: E402 - every phrase() template in Spanish (tests/test_catalogue_es.py)

CATALOGUES: dict[str, dict[str, str]] = {"en": EN, "es": ES}
# phrase(): the English template is its own key (gettext's msgid); English needs no table.
PHRASES: dict[str, dict[str, str]] = {"en": {}, "es": PHRASES_ES}


# A student export says which language it was made in (export-student-repo --lang es), so the
# student's own Jupyter reports in it without any setting.
LANGUAGE_FILE = Path(__file__).with_name("LANGUAGE")


def language() -> str:
    """The course's language: ``AUTOGRADER_LANG`` (nbgrader_config.py sets it), else the export's."""
    lang = os.environ.get("AUTOGRADER_LANG", "")
    if not lang and LANGUAGE_FILE.is_file():
        lang = LANGUAGE_FILE.read_text(encoding="utf-8").strip()
    return lang if lang in CATALOGUES else "en"


# --- the indefinite article (issue 11.9: "should be an MultiHeadAttention") --------------------
# Chosen by how the word sounds, not how it is spelt. Acronyms are read letter by letter.
_VOWEL_SOUND_LETTERS = set("AEFHILMNORSX")  # "an MLP", "an RNN", "an FFN", "an LSTM"
_A_BEFORE_VOWEL = re.compile(r"(?i)^(uni|usa|use|usu|uti|ure|uro|eu|ewe|one|once|ubi)")  # "a Unit", "a one"
_AN_BEFORE_CONSONANT = re.compile(r"(?i)^(hour|honest|honou?r|heir)")  # silent h


def with_article(word: object) -> str:
    """``word`` after "a" or "an" as it is read aloud: "a MultiHeadAttention", "an Identity",
    "an MLP", "a ModuleList", "a Unit", "an hour", "a float", "an int"."""
    w = str(word)
    head = re.sub(r"^[^0-9A-Za-z]+", "", w)  # `Linear`, (tensor ...), "quoted"
    if not head:
        return f"a {w}"
    caps = re.match(r"[A-Z]{2,}(?![a-z])|[A-Z]{2,}(?=[A-Z][a-z])", head)
    if caps or (len(head) == 1 and head.isalpha()):  # an acronym, or a single letter: "an x"
        an = head[0].upper() in _VOWEL_SOUND_LETTERS
    elif head[0].isdigit():
        an = head[0] == "8" or re.match(r"(11|18)(?!\d)", head) is not None  # "an 8-bit", "an 11"
    elif _A_BEFORE_VOWEL.match(head):
        an = False
    else:
        an = head[0].lower() in "aeiou" or _AN_BEFORE_CONSONANT.match(head) is not None
    return f"{'an' if an else 'a'} {w}"


# Languages that write 9,11 and 1.024 where English writes 9.11 and 1,024.
DECIMAL_COMMA = {"es"}


_SWAP_MARKS = str.maketrans({",": ".", ".": ","})


def _localised(formatted: str) -> str:
    return formatted.translate(_SWAP_MARKS) if language() in DECIMAL_COMMA else formatted


def number(value: float, spec: str = "g") -> str:
    """A number as the course's language writes it in prose: ``number(9.11)`` is "9.11" in English,
    "9,11" in Spanish (scores, seconds, sizes; never a value that stands for code)."""
    return _localised(format(value, spec))


class _Formatter(string.Formatter):
    """``str.format`` plus two things: ``{cls:a}`` is ``cls`` with its English article ("a
    Linear"; another language's table writes its own article, or none, instead of ``:a``), and a
    number with a format spec takes the language's decimal and thousands marks: in a sentence
    (``{score:g}``, ``{mb:,d}``, ``{bleu:.1f}``) always, in a phrase only when digits are grouped
    (``{n:,d}`` parameters), since a phrase's other numbers are values as Python prints them, beside
    array excerpts ("2·(x + pe) = 11.21"). A number without a spec, or a value a grader formatted
    itself, is left as it is."""

    def __init__(self, *, grouped_only: bool = False) -> None:
        super().__init__()
        self.grouped_only = grouped_only

    def format_field(self, value: object, format_spec: str) -> str:
        if format_spec == "a":
            return with_article(value)
        formatted = super().format_field(value, format_spec)
        is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if format_spec and is_number and ("," in format_spec or not self.grouped_only):
            return _localised(formatted)
        return formatted


_FORMATTER = _Formatter()
_PHRASE_FORMATTER = _Formatter(grouped_only=True)


def title(key: str, english: str) -> str:
    """A stage's or item's title (``stage.<id>``, ``item.<id>``) in the current language."""
    return TITLES_ES.get(key, english) if language() == "es" else english


def text(key: str, /, **params: object) -> str:
    """The sentence for ``key`` in the current language, with ``params`` filled in."""
    table = CATALOGUES[language()]
    template = table.get(key) or EN[key]  # a missing translation falls back to English
    return _FORMATTER.format(template, **params) if params else template


def phrase(template: str, /, **params: object) -> str:
    """A phrase a grader puts into a sentence, in the current language: ``phrase("the output under
    {mask}", mask=...)`` names what was checked, ``phrase("boolean tensor")`` what was expected.

    The catalogue's keys are for whole sentences; a grader names hundreds of values, each once, so
    their English template is their own key (as gettext's msgid) and ``phrases_es.PHRASES_ES`` holds
    the Spanish. ``template`` must be a literal string: tests/test_catalogue_es.py finds every call
    and fails on a template the table lacks, or one whose placeholders differ.
    """
    table = PHRASES.get(language(), {})
    template = table.get(template, template)  # a missing translation stays English
    return _PHRASE_FORMATTER.format(template, **params) if params else template
