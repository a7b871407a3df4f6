"""Stage 07's trusted pieces and oracles agree with independent ones, and its instruments see what they claim."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from autograder.graders import training_oracles as o
from autograder.graders import transformer_oracles as t

@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny tensors: one thread (two fighting over a busy machine are many times slower)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


CONFIG = dict(src_vocab=11, tgt_vocab=13, d_model=16, num_heads=2, num_layers=2, d_ff=24, dropout=0.0, max_len=32)


def test_reference_transformer_matches_the_functional_oracle():
    """The model checkpoints are loaded into is the course's model: same logits as stage 06's oracle."""
    model = o.random_model(CONFIG, 1)
    p = t.random_weights({k: tuple(v.shape) for k, v in model.state_dict().items()}, seed=2)
    model.load_state_dict(p)
    batch = o.make_batch([[4, 5, 6], [7, 8]], [[4, 5, 6, 7], [9]], 0, 1, 2)
    got = model(batch["src"], batch["tgt_in"], batch["src_mask"], batch["tgt_mask"])
    _, _, want = t.transformer(p, batch["src"], batch["tgt_in"], batch["src_mask"], batch["tgt_mask"], 2, 2)
    torch.testing.assert_close(got, want)


def test_loss_oracles():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(3, 5, 9, generator=g, dtype=torch.float64)
    y = torch.randint(1, 9, (3, 5), generator=g)
    y[0, 3:] = 0
    want = F.cross_entropy(logits.reshape(-1, 9), y.reshape(-1), ignore_index=0, label_smoothing=0.2)
    torch.testing.assert_close(o.loss(logits, y, 0, 0.2), want)
    torch.testing.assert_close(o.trusted_loss(logits, y, 0, 0.2), want)
    # the hand-written smoothing is PyTorch's: undo the wrong denominator of "divide_by_all"
    torch.testing.assert_close(o.mistake_loss(logits, y, 0, 0.2, "divide_by_all") * y.numel() / (y != 0).sum(), want)
    with pytest.raises(ValueError):  # it ships to students: no kind computes the right loss
        o.mistake_loss(logits, y, 0, 0.2, "none")
    for kind in ("pad_included", "k_minus_1", "divide_by_all", "no_smoothing"):
        assert not torch.allclose(o.mistake_loss(logits, y, 0, 0.2, kind), want), kind


def test_noam_formula_and_its_mistakes():
    assert o.noam(0, 512, 4000) == o.noam(1, 512, 4000)
    assert math.isclose(o.noam(1, 512, 4000), 512 ** -0.5 * 4000 ** -1.5, rel_tol=1e-12)  # float rounding only
    assert math.isclose(o.noam(10000, 512, 4000), 512 ** -0.5 * 10000 ** -0.5, rel_tol=1e-12)
    assert max(range(1, 9000), key=lambda s: o.noam(s, 512, 4000)) == 4000
    for kind in ("no_warmup", "off_by_one", "warmup_power", "no_d_model"):
        assert o.mistake_noam(100, 512, 4000, kind) != o.noam(100, 512, 4000), kind


def test_batch_layout():
    b = o.make_batch([[5, 6], [7]], [[8], [9, 10, 11]], 0, 1, 2)
    assert b["src"].tolist() == [[5, 6, 2], [7, 2, 0]]
    assert b["tgt_in"].tolist() == [[1, 8, 2, 0], [1, 9, 10, 11]]
    assert b["tgt_out"].tolist() == [[8, 2, 0, 0], [9, 10, 11, 2]]
    assert b["tgt_mask"].shape == (2, 1, 4, 4) and b["tgt_mask"][0, 0, 3].tolist() == [True, True, True, False]


def test_greedy_oracle_on_the_copy_model():
    src = torch.tensor([[4, 5, 6, 2, 0], [7, 2, 0, 0, 0]])
    model = o.CopyModel(13, 0, 2, after=12)
    mask = o.padding_mask(src, 0)
    assert o.greedy(model, src, mask, 10, 1, 2).tolist() == [[1, 4, 5, 6, 2], [1, 7, 2, 2, 2]]
    assert o.greedy(model, src, mask, 10, 1, 2, pad_eos=False).tolist() == [[1, 4, 5, 6, 2], [1, 7, 2, 12, 12]]
    assert o.greedy(model, src, mask, 7, 1, 2, stop=False).shape == (2, 7)
    assert o.greedy(o.CopyModel(13, 0, 2, after=12, never_eos=True), src, mask, 6, 1, 2).shape == (2, 6)


def test_greedy_grader_model_is_sensitive_to_the_causal_mask():
    """The random model of the greedy grader decodes differently without the causal mask (else the check is blind)."""
    model = o.random_model(o.GREEDY_CONFIG, o.GREEDY_SEED).eval()
    src = torch.tensor(o.GREEDY_SRC)
    mask = o.padding_mask(src, 0)
    right = o.greedy(model, src, mask, 10, 1, 2)
    for mistake in ({"causal": False}, {"position": "first"}):
        assert not torch.equal(right, o.greedy(model, src, mask, 10, 1, 2, **mistake)), mistake


def test_reference_step_mistakes_differ_and_clipping_is_active():
    model = o.random_model(CONFIG, 720)
    batch = o.make_batch([[4, 5, 6, 7], [8, 9], [10, 4, 6]], [[5, 6, 7], [8, 9, 10, 11, 12], [4]], 0, 1, 2)
    stale = [torch.randn_like(p) for p in model.parameters()]
    right = o.flat(o.reference_step(model, batch, lr=0.5, pad_id=0, smoothing=0.1, max_norm=0.05, stale=stale)[0])
    for kind in ("no_zero_grad", "clip_after_step", "no_clip"):
        wrong = o.flat(o.reference_step(model, batch, lr=0.5, pad_id=0, smoothing=0.1, max_norm=0.05, stale=stale,
                                        mistake=kind)[0])
        assert not torch.allclose(right, wrong, rtol=1e-6, atol=1e-9), kind


def test_recording_model_sees_autocast_and_grad_mode():
    model = o.random_model(CONFIG, 3, dtype=torch.float32, cls=o.Recording)
    src = torch.tensor([[4, 5, 2]])
    with torch.autocast("cpu", dtype=torch.bfloat16):
        model.encode(src)
    with torch.no_grad():
        model.encode(src)
    assert [(c["autocast"], c["grad"]) for c in model.calls] == [(True, True), (False, False)]
    assert model.calls[0]["autocast_dtype"] == torch.bfloat16
