"""Expected values as data (issue 10 item 2): the recorder, the replaying stubs, and the sync of the
committed values (autograder/graders/public/expected/) with what `record-expected` gives now."""

from __future__ import annotations

import json
import types

import numpy as np
import pytest
import torch

from autograder.instructor import record_expected
from autograder.catalogue import text
from autograder.failures import GraderFailure
from autograder.graders import replay

COMMAND = "python -m autograder record-expected"


# --- sync ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("stage_id", record_expected.stages_to_record())
def test_the_committed_values_were_recorded_from_todays_graders_and_reference(stage_id):
    path = replay.EXPECTED / f"{stage_id}.json"
    assert path.is_file(), f"no recorded values for {stage_id}: run `{COMMAND}` and commit {path.parent}"
    recorded = json.loads(path.read_text())["sources"]
    assert recorded == record_expected.sources_hash(stage_id), (
        f"the public graders, oracles or reference of {stage_id} changed since its expected values were "
        f"recorded: run `{COMMAND}` and commit autograder/graders/public/expected/")


def _contents(store: replay.Store) -> dict:
    return {k: (e["structure"], json.dumps(e["result"], sort_keys=True), sorted(e["grads"]))
            for k, e in store.calls.items()}


# Another NumPy or PyTorch build may round a float64 result differently in its last bits (its own
# SIMD exp, another BLAS kernel order): far below any grader's tolerance (1e-6 and up), so the sync
# asks for the same calls, structures and gradient keys exactly and the same numbers to ~10 ulps.
LAST_BITS = {"rtol": 1e-13, "atol": 1e-15}


def test_recording_a_stage_again_gives_exactly_the_committed_values(tmp_path):
    stage_id = "01_dot_product_attention"  # quick to record; the hash test covers the others
    record_expected.record([stage_id], folder=tmp_path)
    committed = replay.Store.load_files(replay.EXPECTED / f"{stage_id}.json")
    fresh = replay.Store.load_files(tmp_path / f"{stage_id}.json")
    assert _contents(fresh) == _contents(committed), f"run `{COMMAND}`"
    for key, entry in fresh.calls.items():
        old = committed.calls[key]["result_arrays"]
        assert [(a.dtype, a.shape) for a in entry["result_arrays"]] == [(a.dtype, a.shape) for a in old], key
        for new_array, old_array in zip(entry["result_arrays"], old):
            np.testing.assert_allclose(new_array, old_array, **LAST_BITS, err_msg=f"{key}: run `{COMMAND}`")


def test_the_sync_check_sees_a_changed_value(tmp_path):
    stage_id = "01_dot_product_attention"
    committed = replay.Store.load_files(replay.EXPECTED / f"{stage_id}.json")
    array = next(a for e in committed.calls.values() for a in e["result_arrays"] if a.dtype.kind == "f" and a.size and np.abs(a).max() > 0.1)
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(array * (1 + 1e-9), array, **LAST_BITS)  # a change no tolerance hides
    np.testing.assert_allclose(np.nextafter(array, np.inf), array, **LAST_BITS)  # one ulp: another build


def test_the_sources_hash_sees_a_grader_change(tmp_path):
    stage_id = "01_dot_product_attention"
    repo = tmp_path / "repo"
    for rel in ["autograder/graders/public/test_01_dot_product_attention.py", "autograder/graders/oracles.py",
                "autograder/graders/torch_oracles.py", "autograder/graders/transformer_oracles.py",
                "autograder/graders/blocks.py", "solutions/01_dot_product_attention/dot_product_attention.ipynb"]:
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_bytes((record_expected.REPO / rel).read_bytes())
    (repo / "tests/mutants").mkdir(parents=True)
    (repo / "tests/mutants" / stage_id).symlink_to(record_expected.MUTANTS / stage_id)
    same = record_expected.sources_hash(stage_id, repo)
    assert same == record_expected.sources_hash(stage_id)  # a faithful copy hashes the same
    oracles = repo / "autograder/graders/oracles.py"
    oracles.write_text(oracles.read_text().replace("x.max(axis=axis", "x.min(axis=axis"))
    assert record_expected.sources_hash(stage_id, repo) != same
    grader = repo / "autograder/graders/public/test_01_dot_product_attention.py"
    oracles.write_text((record_expected.REPO / "autograder/graders/oracles.py").read_text())
    grader.write_text(grader.read_text().replace("seed=10)", "seed=11)"))
    assert record_expected.sources_hash(stage_id, repo) != same


# --- the recorder and the stubs, on a small oracle module ---------------------------------------
@pytest.fixture
def recorded(monkeypatch):
    """A store holding scale(x) and trusted_double(x) for one fixed input."""
    store = replay.Store()
    x = np.arange(6.0).reshape(2, 3)
    store.add("fake_oracles", "scale", (), {"x": x, "factor": 2.0}, x * 2.0)
    store.add("fake_oracles", "trusted_double", (), {"x": x}, x * 2.0)
    monkeypatch.setattr(replay, "_STORE", store)
    return store, x


def _stubs():
    def scale(x, factor=2.0):
        """stub"""

    def trusted_double(x):
        """stub"""

    for f in (scale, trusted_double):
        f.__module__ = "fake_oracles"
    return replay.oracle(scale), replay.block("double")(trusted_double)


def test_a_stub_replays_the_recorded_value_and_fills_in_defaults(recorded):
    _, x = recorded
    scale, _ = _stubs()
    np.testing.assert_array_equal(scale(x.copy()), x * 2.0)
    np.testing.assert_array_equal(scale(x, factor=2.0), x * 2.0)  # the same call, spelled out


def test_a_stub_has_no_value_for_an_unrecorded_input(recorded):
    _, x = recorded
    scale, _ = _stubs()
    with pytest.raises(GraderFailure) as exc:
        scale(x + 1.0)
    assert exc.value.message == text("fail.expected_missing", function="fake_oracles.scale")
    with pytest.raises(GraderFailure):
        scale(x, factor=3.0)


def test_a_stub_accepts_another_platforms_last_bit_but_nothing_more(recorded):
    _, x = recorded
    scale, _ = _stubs()
    np.testing.assert_array_equal(scale(x * (1 + 1e-15)), x * 2.0)
    with pytest.raises(GraderFailure):
        scale(x * (1 + 1e-6))


def test_a_stub_refuses_to_answer_while_student_code_runs(recorded):
    _, x = recorded
    scale, _ = _stubs()
    with replay.student_running(), pytest.raises(RuntimeError) as exc:
        scale(x)
    assert str(exc.value) == text("fail.expected_refused", function="scale")


def test_a_block_looks_up_the_nearest_recorded_input_else_runs_the_students_own(recorded):
    _, x = recorded
    _, block = _stubs()

    def own_double(x):  # the student's own, written differently
        return np.asarray(x) + np.asarray(x)

    with replay.student_running({"double": own_double}):
        np.testing.assert_array_equal(block(x + 1e-12), x * 2.0)  # close to a recorded input
        np.testing.assert_array_equal(block(x + 5.0), (x + 5.0) * 2)  # far: the student's own
    wrong = lambda x: np.asarray(x) * 3.0  # noqa: E731 - the student's own bug shows where it is
    with replay.student_running({"double": wrong}):
        np.testing.assert_array_equal(block(x + 5.0), (x + 5.0) * 3)


def test_a_block_is_never_its_own_fallback(recorded):
    _, x = recorded
    _, block = _stubs()
    for own in ({}, {"double": block}):  # no own definition; or `double = oracles.trusted_double`
        with replay.student_running(own), pytest.raises(RuntimeError) as exc:
            block(x + 5.0)
        assert str(exc.value) == text("fail.block_unknown_input", function="double")


def test_recording_stores_calls_and_gradients_then_replays_them():
    mod = types.ModuleType("fake_torch_oracles")

    def cube(t, power=3):
        return t ** power

    cube.__module__ = mod.__name__
    mod.cube = cube
    t = torch.tensor([1.0, 2.0, -1.5], dtype=torch.float64, requires_grad=True)
    probe = torch.tensor([0.5, 1.0, 2.0], dtype=torch.float64)
    with replay.recording([mod]) as rec:
        live = mod.cube(t)
        (grad_live,) = torch.autograd.grad((live * probe).sum(), t)
    assert mod.cube is cube  # restored
    assert len(rec.store.calls) == 1 and not rec.unrecordable

    def stub(t, power=3):
        """stub"""

    stub.__module__ = mod.__name__
    stub.__name__ = stub.__qualname__ = "cube"
    saved = replay._STORE
    replay._STORE = rec.store
    try:
        replayed = replay.oracle(stub)
        t2 = t.detach().clone().requires_grad_()
        out = replayed(t2)
        torch.testing.assert_close(out, live.detach())
        (grad,) = torch.autograd.grad((out * probe).sum(), t2)
        torch.testing.assert_close(grad, grad_live)
        with pytest.raises(GraderFailure):  # another grad_output was never recorded
            torch.autograd.grad((replayed(t2) * probe * 7).sum(), t2)
    finally:
        replay._STORE = saved


def test_the_expectations_evaluate_every_named_mistake_only_while_recording():
    from autograder import expect

    calls = []
    diagnoses = {"why.a": lambda: calls.append("a"), "why.b": lambda: 1 / 0}
    expect.expect_array(np.ones(2), np.ones(2), "x", diagnoses=diagnoses)
    assert calls == []
    saved, expect.FORCE_DIAGNOSES = expect.FORCE_DIAGNOSES, True
    try:
        expect.expect_array(np.ones(2), np.ones(2), "x", diagnoses=diagnoses)
    finally:
        expect.FORCE_DIAGNOSES = saved
    assert calls == ["a"]


def test_the_stub_module_of_the_course_holds_no_formula():
    import ast

    from autograder.graders import oracles

    tree = ast.parse(replay.stub_source(oracles))
    defs = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert set(oracles.INPUTS) <= set(defs)
    for name in replay.public_functions(oracles):
        body = defs[name].body
        assert len(body) == 1 and isinstance(body[0], ast.Expr), name  # a docstring, nothing else


def test_the_later_stages_stubs_replay_their_functions_and_keep_the_declared_code():
    import ast

    from autograder.graders import blocks, transformer_oracles

    for mod in (blocks, transformer_oracles):
        tree = ast.parse(replay.stub_source(mod))
        defs = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        assert set(mod.AS_CODE) | set(getattr(mod, "INPUTS", ())) <= set(defs)
        for name in replay.public_functions(mod):
            assert len(defs[name].body) == 1 and isinstance(defs[name].body[0], ast.Expr), name
    assert {"split_heads", "merge_heads", "scaled_dot_product_attention",
            "sinusoidal_positional_encoding"} <= set(replay.public_functions(blocks))
    assert "qkv_parameter_count" in replay.public_functions(transformer_oracles)
    # a class the module does not declare as code has no stub form: the export refuses it
    undeclared = types.ModuleType("fake_blocks")
    undeclared.AS_CODE = {}
    import inspect
    saved = inspect.getsource
    inspect.getsource = lambda m: "class Block:\n    pass\n"
    try:
        with pytest.raises(replay.Unrecordable):
            replay.stub_source(undeclared)
    finally:
        inspect.getsource = saved


def test_recording_reaches_the_blocks_a_mapping_hands_out():
    mod = types.ModuleType("fake_blocks")

    def double(x):
        return x * 2

    double.__module__ = mod.__name__
    mod.double = double
    mod.STAGE = {"double": double}
    with replay.recording([mod]) as rec:
        mod.STAGE["double"](torch.ones(2))  # how student code reaches a block: through a mapping
    assert mod.STAGE["double"] is double  # restored
    assert [k[1] for k in rec.store.calls] == ["double"]


def test_a_block_replayed_on_a_graph_gives_a_result_on_the_graph_laid_out_as_recorded(monkeypatch):
    # A block's output feeds the next block, whose input was recorded as requiring grad; and a
    # transposed result must stay transposed, so that a student's .view() on it fails as at home.
    x = torch.arange(24.0).reshape(2, 3, 4).requires_grad_()
    store = replay.Store()
    live = x.detach().transpose(-1, -2)
    store.add("fake_blocks", "swap", (), {"x": x}, (live, live.sum(-1)))
    monkeypatch.setattr(replay, "_STORE", store)

    def swap(x):
        """stub"""

    swap.__module__ = "fake_blocks"
    block = replay.block("swap")(swap)
    out, total = block(x)
    torch.testing.assert_close(out, live)
    assert out.requires_grad and total.requires_grad
    assert not out.is_contiguous() and out.stride() == live.stride()
    with pytest.raises(RuntimeError):
        out.view(2, 12)


def test_what_ships_as_code_is_declared_with_a_reason():
    import importlib

    for dotted in record_expected.REPLAYED:
        module = importlib.import_module(dotted)
        as_code = getattr(module, "AS_CODE", {})
        for name, why in as_code.items():
            assert hasattr(module, name), f"{dotted}.AS_CODE names {name}, which the module does not define"
            assert isinstance(why, str) and why.strip(), f"{dotted}.AS_CODE[{name!r}] says nothing"
        assert not set(replay.public_functions(module)) & set(as_code)  # nothing both replayed and kept
        # a class that is not declared cannot be stubbed (stub_source raises): nothing ships by omission
        classes = {n for n, v in vars(module).items() if isinstance(v, type) and v.__module__ == dotted
                   and not n.startswith("_")}
        assert classes <= set(as_code), f"{dotted}: classes that ship undeclared: {sorted(classes - set(as_code))}"


def test_a_scalar_result_keeps_its_zero_dimensions():
    # np.ascontiguousarray makes a 0-d array 1-d: a loss oracle replayed with shape (1,) failed the
    # shape check of stage 09's mlm_loss in the export for every student, the reference included
    arrays: list = []
    for value in (torch.tensor(1.5, dtype=torch.float64), np.float64(2.5) * np.ones(()), np.arange(6.0).reshape(2, 3).T):
        form = replay.encode(value, arrays)
        back = replay.decode(form, arrays)
        assert tuple(back.shape) == tuple(value.shape), (type(value), back.shape)
        np.testing.assert_array_equal(np.asarray(back), np.asarray(value))
