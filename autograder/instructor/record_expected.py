"""``python -m autograder record-expected``: the public checks' expected values, as data.

Runs every stage's PUBLIC graders on the reference solution (``solutions/``) with the replayed
oracle modules wrapped (``graders/replay.recording``) and every named mistake forced
(``expect.FORCE_DIAGNOSES``), then writes ``autograder/graders/public/expected/<stage>.{json,npz}``.
The student export ships those files and stub oracle modules that look values up; the
instructor's repository keeps computing with the live oracles. ``tests/test_expected_values.py``
fails when the committed data no longer matches what this command records now.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

from .. import expect, registry
from ..graders import replay

REPO = Path(__file__).resolve().parents[2]

# The oracle modules whose functions ship as recorded values (graders/replay.py). What a module
# declares in ``INPUTS`` (input builders) or ``AS_CODE`` (name -> why) still ships as code.
REPLAYED = ("autograder.graders.oracles", "autograder.graders.torch_oracles",
            "autograder.graders.transformer_oracles", "autograder.graders.blocks",
            "autograder.graders.gpt_oracles", "autograder.graders.bert_oracles",
            "autograder.graders.training_oracles")
# Stages whose mutant corpus is recorded too: in 01-05 the trusted blocks are replayed functions
# (blocks.STAGE_04, STAGE_05), which must know the inputs that realistic mistakes feed them; in 08
# the named mistakes' oracles are called on what the student's cache or sampler returned.
MUTANTS_RECORDED = ("01_dot_product_attention", "02_qkv_projections", "03_scaling_and_masking",
                    "04_multi_head_attention", "05_positional_encoding", "08_decoder_only")


def grader_file(stage_id: str, repo: Path = REPO) -> Path:
    return repo / "autograder" / "graders" / "public" / registry.stage(stage_id).grader_module


def uses_replayed(stage_id: str) -> bool:
    """Whether the stage's public graders import a replayed module (so they need its values)."""
    from .export import _graders_imported

    path = grader_file(stage_id)
    return path.is_file() and bool(replayed_uses(path))


def replayed_uses(path: Path) -> set[str]:
    """``module.name`` of every replayed function (or mapping of them) the grader file names through
    an import of a replayed module (``o.qkv_parameter_count``, ``blocks.STAGE_04``)."""
    import ast

    from ..graders import replay

    aliases: dict[str, str] = {}
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "autograder.graders":
            for a in node.names:
                if f"autograder.graders.{a.name}" in REPLAYED:
                    aliases[a.asname or a.name] = f"autograder.graders.{a.name}"
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
            mod = importlib.import_module(aliases[node.value.id])
            replayed = set(replay.public_functions(mod))
            value = getattr(mod, node.attr, None)
            inner = value.values() if isinstance(value, dict) else [value]
            if any(getattr(v, "__name__", None) in replayed and getattr(v, "__module__", None) == mod.__name__
                   for v in inner):
                found.add(f"{mod.__name__}.{node.attr}")
    return found


def _replayed_imports(path: Path) -> set[str]:
    """The replayed modules a Python file imports (``from autograder.graders import blocks``,
    ``from autograder.graders.transformer_oracles import x``, ``import autograder.graders.oracles``)."""
    import ast

    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module == "autograder.graders":
            found |= {f"autograder.graders.{a.name}" for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return found & set(REPLAYED)


def replayed_modules_of(path: Path, repo: Path = REPO) -> list[str]:
    """The replayed modules a grader file depends on: those it imports and, transitively, those they
    import (blocks.py computes with transformer_oracles). A stage's recorded values depend on these only,
    so a new oracle module (stage 08's gpt_oracles) leaves the other stages' recordings valid."""
    todo, seen = list(_replayed_imports(path)), set()
    while todo:
        mod = todo.pop()
        if mod not in seen:
            seen.add(mod)
            todo += _replayed_imports(repo / (mod.replace(".", "/") + ".py"))
    return [m for m in REPLAYED if m in seen]


def sources_hash(stage_id: str, repo: Path = REPO) -> str:
    """What the recorded values depend on: the stage's public graders, the replayed oracle modules they use,
    the reference notebook's code cells (and the stage's mutants, whose block inputs are recorded).
    The expectation helpers are left out: their hints and wording change no value."""
    h = hashlib.sha256()
    files = [grader_file(stage_id, repo), *(repo / (m.replace(".", "/") + ".py") for m in replayed_modules_of(
        grader_file(stage_id, repo), repo))]
    if stage_id in MUTANTS_RECORDED:  # the mutants' inputs to the trusted blocks are recorded too
        files += sorted((repo / "tests" / "mutants" / stage_id).glob("*.py"))
    for path in files:
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    nb = json.loads((repo / "solutions" / stage_id / registry.stage(stage_id).notebook).read_text())
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            src = cell.get("source", "")
            h.update(("".join(src) if isinstance(src, list) else str(src)).encode() + b"\0")
    return h.hexdigest()


MUTANTS = REPO / "tests" / "mutants"


def record_stage(stage_id: str) -> tuple[replay.Store, list[str]]:
    """The recorded calls of one stage's public graders on the reference, and what could not be
    recorded. Raises if the reference does not score full public marks (values would be wrong).

    In a stage of ``MUTANTS_RECORDED`` the mutant corpus (``tests/mutants/<stage>``) is graded too: a trusted
    block's outputs for the inputs that realistic mistakes give it (scaled scores, the wrong
    axis) are recorded, so that those mistakes keep their partial credit and named misconception
    in the export, where the block has no formula to compute an unseen input with.
    """
    from ..notebook import load_namespace
    from ..runner import run_items
    from ..student import LocalStudent

    notebook = REPO / "solutions" / stage_id / registry.stage(stage_id).notebook
    extras = [""]
    if stage_id in MUTANTS_RECORDED and (MUTANTS / stage_id).is_dir():
        extras += [p.read_text(encoding="utf-8") for p in sorted((MUTANTS / stage_id).glob("*.py"))]
    modules = [importlib.import_module(m) for m in REPLAYED]
    items = [i.id for i in registry.items_of(stage_id)]
    saved = expect.FORCE_DIAGNOSES
    expect.FORCE_DIAGNOSES = True
    # A stage whose reference hands in a file besides the notebook (stage 08's checkpoint: its checks
    # replay nothing, but the reference must score full marks) is recorded beside that file.
    handin, env_before = REPO / "tests" / "handin" / stage_id, os.environ.get("AUTOGRADER_SUBMISSION_DIR")
    if handin.is_dir():
        os.environ["AUTOGRADER_SUBMISSION_DIR"] = str(handin)
    try:
        with replay.recording(modules) as rec:
            for n, extra in enumerate(extras):
                results = run_items(LocalStudent(load_namespace(notebook, extra)), items, hidden=False)
                short = [f"{r.item.id}: {r.score}/{r.max_points}" for r in results if r.score < r.max_points]
                if n == 0 and short:
                    raise RuntimeError(f"the reference of {stage_id} does not score full public marks: "
                                       f"{', '.join(short)}")
    finally:
        expect.FORCE_DIAGNOSES = saved
        if env_before is None:
            os.environ.pop("AUTOGRADER_SUBMISSION_DIR", None)
        else:
            os.environ["AUTOGRADER_SUBMISSION_DIR"] = env_before
    return rec.store, sorted(set(rec.unrecordable))


def stages_to_record() -> list[str]:
    return [s.id for s in registry.STAGES if uses_replayed(s.id)]


def record(stage_ids: Sequence[str] | None = None, folder: Path = replay.EXPECTED) -> dict[str, int]:
    """Record and write the stages' files; returns stage -> number of recorded calls."""
    counts = {}
    for sid in stage_ids or stages_to_record():
        store, unrecordable = record_stage(sid)
        if unrecordable:
            raise RuntimeError(f"{sid}: calls that cannot be stored as data: {'; '.join(unrecordable)}")
        store.save(folder, sid, {"sources": sources_hash(sid)})
        counts[sid] = len(store.calls)
    return counts


def main(args) -> int:
    counts = record(args.stage)
    for sid, n in counts.items():
        print(f"{sid}: {n} recorded oracle calls")
    print(f"Expected values written to {replay.EXPECTED.relative_to(REPO)}/ (commit them with the graders).")
    return 0
