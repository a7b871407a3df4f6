"""The registry is the one source of points: notebooks and graders must agree with it."""

from __future__ import annotations

import ast

import pytest

from kit import ASSIGNMENTS, SOLUTIONS, STAGE_IDS, notebook
from autograder import registry
from autograder.catalogue import EN
from autograder.notebook import is_check_cell, nbgrader_meta, read_cells
from autograder.runner import HIDDEN_DIR, PUBLIC_DIR


def _check_cells(path):
    return {nbgrader_meta(c)["grade_id"]: c for c in read_cells(path) if is_check_cell(c)}


@pytest.mark.parametrize("root", [SOLUTIONS, ASSIGNMENTS], ids=["solutions", "assignments"])
@pytest.mark.parametrize("stage_id", STAGE_IDS)
def test_check_cells_match_registry(root, stage_id):
    cells = _check_cells(notebook(root, stage_id))
    items = {i.id: i for i in registry.items_of(stage_id)}
    assert set(cells) == set(items), "every item has exactly one check cell, and no check cell is unknown"
    for item_id, cell in cells.items():
        assert float(nbgrader_meta(cell)["points"]) == items[item_id].points, item_id
        assert nbgrader_meta(cell).get("locked"), f"check cell {item_id} must be read-only"
        first_line = cell["source"].strip().splitlines()[0]
        assert first_line == f'check("{item_id}")', f"check cell {item_id} calls {first_line!r}"


@pytest.mark.parametrize("stage_id", STAGE_IDS)
def test_hidden_check_lines_are_stripped_from_the_release(stage_id):
    for item_id, cell in _check_cells(notebook(ASSIGNMENTS, stage_id)).items():
        assert "hidden=True" not in cell["source"] and "HIDDEN TESTS" not in cell["source"], item_id
    for item_id, cell in _check_cells(notebook(SOLUTIONS, stage_id)).items():
        assert f'check("{item_id}", hidden=True)' in cell["source"], f"{item_id} never runs its hidden graders"


def _grader_marks(path):
    """(item, title key) of every @grader(...) in a grader module, read without importing it."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "grader":
            yield node.args[0].value, node.args[1].value


@pytest.mark.parametrize("stage_id", STAGE_IDS)
def test_every_item_has_public_graders_and_titles_exist(stage_id):
    module = registry.stage(stage_id).grader_module
    public = list(_grader_marks(PUBLIC_DIR / module))
    hidden = list(_grader_marks(HIDDEN_DIR / module))
    for item in registry.items_of(stage_id):
        assert any(i == item.id for i, _ in public), f"{item.id} has no public grader"
    for item_id, title in public + hidden:
        assert registry.item(item_id).stage == stage_id
        assert title in EN, f"title key {title!r} is not in the catalogue"


def test_stage_points():
    assert {s.id: registry.max_points(s.id) for s in registry.STAGES} == {
        "01_dot_product_attention": 10, "02_qkv_projections": 10, "03_scaling_and_masking": 15,
        "04_multi_head_attention": 16, "05_positional_encoding": 11, "06_encoder_decoder": 28,
        "07_training": 32, "08_decoder_only": 35, "09_encoder_only": 35}
