"""The registry of graded items: the one source of points.

An *item* is what one check cell grades (usually one function the student writes). Each item
belongs to a stage (the nbgrader assignment id, which is the folder name under ``solutions/``)
and is worth a number of points. The nbgrader metadata of the check cell must carry the same
``grade_id`` and ``points`` (``tests/test_registry.py`` checks this).

Graders (pytest tests under ``autograder/graders``) name the item they belong to; the public
graders ship to students, the hidden ones stay in the instructor's repository.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .catalogue import title as _translated_title


@dataclass(frozen=True)
class Stage:
    id: str  # nbgrader assignment id, e.g. "01_dot_product_attention"
    notebook: str  # notebook file name inside the stage folder
    english_title: str

    @property
    def title(self) -> str:
        """The title in the course's language (catalogue_es.TITLES_ES in Spanish)."""
        return _translated_title(f"stage.{self.id}", self.english_title)

    @property
    def number(self) -> str:
        return self.id.split("_", 1)[0]

    @property
    def grader_module(self) -> str:
        """File name of this stage's grader modules (public and hidden)."""
        return f"test_{self.id}.py"


@dataclass(frozen=True)
class Item:
    id: str  # also the nbgrader grade_id of the check cell
    stage: str
    points: float
    english_title: str
    # Fully qualified torch functions the student's code must not call for this item:
    # using one scores zero for the item and the report says which.
    forbidden: tuple[str, ...] = field(default=())

    @property
    def title(self) -> str:
        """The title in the course's language (catalogue_es.TITLES_ES in Spanish)."""
        return _translated_title(f"item.{self.id}", self.english_title)


STAGES: tuple[Stage, ...] = (
    Stage("01_dot_product_attention", "dot_product_attention.ipynb", "Dot-product self-attention"),
    Stage("02_qkv_projections", "qkv_projections.ipynb", "Queries, keys and values"),
    Stage("03_scaling_and_masking", "scaling_and_masking.ipynb", "Scaling and masking"),
    Stage("04_multi_head_attention", "multi_head_attention.ipynb", "Multi-head attention"),
    Stage("05_positional_encoding", "positional_encoding.ipynb", "Positional encoding"),
    Stage("06_encoder_decoder", "encoder_decoder.ipynb", "Encoder and decoder"),
    Stage("07_training", "training.ipynb", "Training the Transformer"),
    Stage("08_decoder_only", "decoder_only.ipynb", "A decoder-only GPT"),
    Stage("09_encoder_only", "encoder_only.ipynb", "An encoder-only BERT"),
)

_SDPA = "torch.nn.functional.scaled_dot_product_attention"
_MHA_FORWARD = "torch.nn.functional.multi_head_attention_forward"  # what nn.MultiheadAttention calls
_LAYER_NORM = "torch.nn.functional.layer_norm"  # what nn.LayerNorm calls

ITEMS: tuple[Item, ...] = (
    Item("softmax", "01_dot_product_attention", 4, "A numerically stable softmax"),
    Item("dot_product_attention", "01_dot_product_attention", 6, "Parameter-free self-attention"),
    Item("project_qkv", "02_qkv_projections", 3, "Projecting x to queries, keys and values"),
    Item("self_attention", "02_qkv_projections", 3, "Self-attention with W_q, W_k, W_v"),
    Item("cross_attention", "02_qkv_projections", 4, "Cross-attention: queries from z"),
    Item(
        "scaled_dot_product_attention",
        "03_scaling_and_masking",
        9,
        "Scaled dot-product attention with masks",
        forbidden=(_SDPA,),
    ),
    Item("causal_mask", "03_scaling_and_masking", 3, "The causal mask"),
    Item("padding_mask", "03_scaling_and_masking", 3, "The padding mask"),
    Item("qkv_parameter_count", "04_multi_head_attention", 2, "The slides' parameter table"),
    Item("split_heads", "04_multi_head_attention", 2, "Splitting into heads"),
    Item("merge_heads", "04_multi_head_attention", 2, "Merging the heads"),
    Item(
        "multi_head_attention",
        "04_multi_head_attention",
        10,
        "The MultiHeadAttention module",
        forbidden=(_SDPA, _MHA_FORWARD),
    ),
    Item("sinusoidal_positional_encoding", "05_positional_encoding", 5, "The sinusoidal encoding"),
    Item("positional_encoding", "05_positional_encoding", 6, "The PositionalEncoding module"),
    Item("layer_norm", "06_encoder_decoder", 4, "Layer normalization", forbidden=(_LAYER_NORM,)),
    Item("feed_forward", "06_encoder_decoder", 3, "The position-wise MLP"),
    # the layers' own built-ins: a trusted block may call them (blocks.py), the student's code may not
    Item("encoder_layer", "06_encoder_decoder", 5, "The encoder layer", forbidden=(_MHA_FORWARD,)),
    Item("decoder_layer", "06_encoder_decoder", 5, "The decoder layer", forbidden=(_MHA_FORWARD,)),
    Item("encoder_decoder", "06_encoder_decoder", 4, "Stacks of layers: Encoder and Decoder",
         forbidden=(_MHA_FORWARD,)),
    Item("transformer", "06_encoder_decoder", 7, "The Transformer", forbidden=(_MHA_FORWARD,)),
    Item("make_batch", "07_training", 4, "Batches with padding, masks and shifted targets"),
    Item("label_smoothed_loss", "07_training", 4, "Label-smoothed cross-entropy that ignores padding",
         forbidden=("torch.nn.functional.cross_entropy",)),
    Item("noam_lr", "07_training", 3, "The Noam learning-rate schedule"),
    Item("train_step", "07_training", 6, "One training step"),
    Item("greedy_decode", "07_training", 5, "Greedy decoding"),
    Item("translation_checkpoint", "07_training", 10, "Your trained translator"),
    # stage 08: the trusted blocks (blocks.CausalSelfAttention, GPTBlock) compute with these built-ins
    Item("causal_self_attention", "08_decoder_only", 7, "Causal self-attention with a KV cache",
         forbidden=(_SDPA, _MHA_FORWARD)),
    Item("mlp", "08_decoder_only", 3, "The GELU MLP"),
    Item("gpt_block", "08_decoder_only", 5, "The pre-LN GPT block", forbidden=(_SDPA, _MHA_FORWARD)),
    Item("gpt", "08_decoder_only", 7, "The GPT model", forbidden=(_SDPA, _MHA_FORWARD)),
    Item("lm_loss", "08_decoder_only", 3, "The next-token loss"),
    Item("sample", "08_decoder_only", 5, "Sampling: temperature, top-k, top-p"),
    Item("lm_checkpoint", "08_decoder_only", 5, "Your trained language model"),
    # stage 09: the trusted blocks (blocks.BertEmbeddings, BERT) compute with these built-ins
    Item("bert_embeddings", "09_encoder_only", 5, "BERT's embeddings: token, position, segment",
         forbidden=(_LAYER_NORM,)),
    Item("bert", "09_encoder_only", 6, "The encoder-only BERT and [CLS]", forbidden=(_MHA_FORWARD,)),
    Item("mask_tokens", "09_encoder_only", 6, "Masking for MLM: the 80/10/10 rule"),
    Item("mlm_head", "09_encoder_only", 4, "The MLM head, tied to the embeddings"),
    Item("mlm_loss", "09_encoder_only", 3, "The loss over masked positions"),
    Item("sentence_classifier", "09_encoder_only", 3, "A classifier on [CLS]"),
    Item("agreement_checkpoint", "09_encoder_only", 8, "Your fine-tuned agreement classifier"),
)

_ITEMS_BY_ID = {item.id: item for item in ITEMS}
_STAGES_BY_ID = {stage.id: stage for stage in STAGES}


class UnknownItem(KeyError):
    def __str__(self) -> str:  # KeyError quotes its argument; we want a sentence
        return str(self.args[0])


def item(item_id: str) -> Item:
    try:
        return _ITEMS_BY_ID[item_id]
    except KeyError:
        known = ", ".join(sorted(_ITEMS_BY_ID))
        raise UnknownItem(f"There is no graded item called {item_id!r}. Known items: {known}.") from None


def stage(stage_id: str) -> Stage:
    try:
        return _STAGES_BY_ID[stage_id]
    except KeyError:
        known = ", ".join(_STAGES_BY_ID)
        raise UnknownItem(f"There is no stage called {stage_id!r}. Known stages: {known}.") from None


def items_of(stage_id: str) -> tuple[Item, ...]:
    stage(stage_id)
    return tuple(i for i in ITEMS if i.stage == stage_id)


def max_points(stage_id: str) -> float:
    return float(sum(i.points for i in items_of(stage_id)))
