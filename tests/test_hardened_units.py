"""Hardened grading's pieces that need no sandbox: the wire format, finding and sharding
submissions, reading a notebook's definitions, and the reports."""

from __future__ import annotations

import ast
import json
import math
import socket
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

import hardened_kit as hk
from autograder.grading import batch, outputs
from autograder import checkpoint, notebook, registry, runner
from autograder.graders import oracles, torch_oracles
from autograder.graders import training_oracles as training
from autograder.report import item_text
from autograder.results import GraderResult, ItemResult
from autograder.sandbox import protocol
from autograder.sandbox.proxy import _failure, _write_back, trusted_names
from autograder.failures import ForbiddenCall, StudentCodeError
from autograder.student import LocalStudent


def roundtrip(value, *, strict=True):
    tree, bufs = protocol.encode(value, strict=strict)
    blob = json.loads(json.dumps(tree))  # the tree is plain JSON
    return protocol.decode(blob, [memoryview(bytes(b)) for b in bufs])


# --- values ----------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["bool", "int8", "int32", "int64", "uint8", "float16", "float32", "float64",
                                   "complex128"])
def test_arrays_cross_as_bytes_with_dtype_and_shape(dtype):
    x = (np.arange(24).reshape(2, 3, 4) % 3).astype(dtype)
    y = roundtrip(x)
    assert type(y) is np.ndarray and y.dtype == x.dtype and y.shape == x.shape
    assert np.array_equal(x, y)


def test_layout_survives_so_view_after_transpose_behaves_the_same():
    t = torch.randn(2, 3, 4, 5).transpose(1, 2)
    u = roundtrip(t)
    assert u.stride() == t.stride() and torch.equal(u, t)
    with pytest.raises(RuntimeError):  # not contiguous, there as here: view() refuses to flatten it
        t.view(-1)
    with pytest.raises(RuntimeError):
        u.view(-1)
    f = np.asfortranarray(np.random.default_rng(0).normal(size=(3, 4)))
    assert roundtrip(f).flags.f_contiguous


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16, torch.int64, torch.bool])
def test_tensors_cross_with_requires_grad(dtype):
    t = torch.arange(6).reshape(2, 3).to(dtype)
    if dtype.is_floating_point:
        t.requires_grad_()
    u = roundtrip(t)
    assert type(u) is torch.Tensor and u.dtype == t.dtype and u.shape == t.shape
    assert u.requires_grad == t.requires_grad and u.is_leaf
    assert torch.equal(u.detach(), t.detach())


def test_plain_data_keeps_its_types():
    value = {"a": (1, 2.5, [None, True, "x"]), 3: {"nested": (float("nan"), float("-inf"))},
             "c": complex(1, 2), "s": slice(1, None, 2), "e": Ellipsis, "dt": torch.float64,
             "dev": torch.device("cpu"), "size": torch.Size([2, 3]), "np": np.float32(1.5), "b": b"\x00\x01"}
    back = roundtrip(value)
    assert back["a"] == (1, 2.5, [None, True, "x"]) and isinstance(back["a"], tuple)
    assert math.isnan(back[3]["nested"][0]) and back[3]["nested"][1] == float("-inf")
    assert back["c"] == complex(1, 2) and back["s"] == slice(1, None, 2) and back["e"] is Ellipsis
    assert back["dt"] is torch.float64 and back["dev"] == torch.device("cpu") and back["size"] == torch.Size([2, 3])
    assert back["np"].dtype == np.float32 and back["np"] == 1.5 and back["b"] == b"\x00\x01"


def test_student_objects_arrive_inert():
    class AlwaysEqual:
        def __eq__(self, other):
            return True

    class Liar(torch.Tensor):
        pass

    back = roundtrip({"eq": AlwaysEqual(), "sub": torch.zeros(2).as_subclass(Liar),
                      "obj": np.array([object()], dtype=object)}, strict=False)
    assert isinstance(back["eq"], protocol.StudentObject) and type(back["eq"]).__name__ == "AlwaysEqual"
    assert not back["eq"] == 0 and not back["eq"] == "anything"  # noqa: SIM201 - no claim of equality survives
    assert type(back["sub"]) is torch.Tensor  # a plain tensor: the subclass stayed behind
    assert isinstance(back["obj"], protocol.StudentObject)
    with pytest.raises(protocol.EncodeError):  # the grader never sends what it cannot describe
        protocol.encode(AlwaysEqual(), strict=True)


@pytest.mark.parametrize("tree,bufs", [
    ({"$": "nd", "dtype": "object", "shape": [1], "b": 0}, [b"\0" * 8]),
    ({"$": "nd", "dtype": "float64", "shape": [3], "b": 0}, [b"\0" * 8]),
    ({"$": "nd", "dtype": "float64", "shape": [1], "b": 5}, [b"\0" * 8]),
    ({"$": "nd", "dtype": "float64", "shape": [-1], "b": 0}, [b"\0" * 8]),
    ({"$": "nd", "dtype": "float64", "shape": [2, 1], "perm": [0, 0], "b": 0}, [b"\0" * 16]),
    ({"$": "pt", "dtype": "float8", "shape": [1], "b": 0}, [b"\0"]),
    ({"$": "pickle", "v": "gASV"}, []),
    ([1, 2, 3], []),
    ({"$": "dict", "items": [[{"$": "list", "v": []}, 1]]}, []),
])
def test_malformed_values_are_refused(tree, bufs):
    with pytest.raises(protocol.ProtocolError):
        protocol.decode(tree, [memoryview(b) for b in bufs])


def test_bool_bytes_are_canonical():
    x = protocol.decode({"$": "nd", "dtype": "bool", "shape": [3], "b": 0}, [memoryview(b"\x00\x02\xff")])
    assert x.tolist() == [False, True, True] and x.view(np.uint8).tolist() == [0, 1, 1]


def test_frames_round_trip_and_limits():
    a, b = socket.socketpair()
    with a, b:
        protocol.send(a, {"op": "x", "n": 1}, [np.arange(3.0).tobytes(), b""])
        msg, bufs = protocol.recv(b)
        assert msg == {"op": "x", "n": 1} and [len(x) for x in bufs] == [24, 0]
        protocol.send(a, {"op": "big"}, [b"\0" * 1000])
        with pytest.raises(protocol.ProtocolError):
            protocol.recv(b, max_buffers=100)
    a, b = socket.socketpair()
    with a, b:
        a.sendall(struct.pack("!4sII", b"EVIL", 2, 0) + b"{}")
        with pytest.raises(protocol.ProtocolError):
            protocol.recv(b)
    a, b = socket.socketpair()
    with a, b:
        a.sendall(protocol.HEADER.pack(protocol.MAGIC, 8, 0) + b"[1, 2 ]\n")
        with pytest.raises(protocol.ProtocolError):
            protocol.recv(b)


# --- the proxy's bookkeeping --------------------------------------------------------------------
def test_trusted_blocks_travel_by_name_and_only_from_public_oracles():
    assert trusted_names(oracles.TRUSTED_BLOCKS) == {
        "softmax": "autograder.graders.oracles:trusted_softmax",
        "project_qkv": "autograder.graders.oracles:trusted_project_qkv"}
    assert trusted_names({"sdpa": torch_oracles.sdpa}) == {"sdpa": "autograder.graders.torch_oracles:sdpa"}
    for bad in (lambda x: x, np.exp, batch.discover):
        with pytest.raises(TypeError):
            trusted_names({"f": bad})


def test_failure_records_become_the_same_failures():
    f = _failure({"class": "ForbiddenCall", "message": "m", "evidence": None})
    assert type(f) is ForbiddenCall and f.message == "m"
    f = _failure({"class": "StudentCodeError", "message": "x" * 10_000, "error_types": ["ValueError", "Exception"],
                  "evidence": {"expected": "", "got": "", "details": ["in `f`, line 3"] * 50}})
    assert type(f) is StudentCodeError and len(f.message) <= 2000 and f.error_types == ("ValueError", "Exception")
    assert len(f.evidence.details) == 10
    assert type(_failure({"class": "SystemExit", "message": "m"})) is StudentCodeError  # never an arbitrary class
    assert type(_failure("garbage")) is StudentCodeError


def test_in_place_changes_are_written_back_like_a_local_call():
    x = np.zeros(3)
    _write_back((x,), {}, ["a", 0], np.ones(3))
    assert x.tolist() == [1, 1, 1]
    t = torch.zeros(2, requires_grad=True)
    _write_back((), {"t": t}, ["k", "t"], torch.ones(2))
    assert t.tolist() == [1, 1]
    _write_back((x,), {}, ["a", 0], np.ones(5))  # another shape: ignored
    _write_back((x,), {}, ["a", 7], np.ones(3))  # no such argument: ignored


# --- submissions ------------------------------------------------------------------------------
S1, S3 = "01_dot_product_attention", "03_scaling_and_masking"


def _class(root: Path) -> Path:
    for student in ("ada", "ben", "cy"):
        hk.write(root, student, S1, "{}")
    hk.write(root, "ada", S3, "{}")
    (root / "ada" / "not_an_assignment").mkdir()
    (root / ".hidden").mkdir()
    return root


def test_discover_reads_nbgrader_layout_a_student_folder_or_an_assignment(tmp_path):
    root = _class(tmp_path)
    subs, warnings = batch.discover([root])
    assert [s.key for s in subs] == ["ada/01_dot_product_attention", "ada/03_scaling_and_masking",
                                     "ben/01_dot_product_attention", "cy/01_dot_product_attention"]
    assert any("not_an_assignment" in w for w in warnings)
    assert [s.key for s in batch.discover([root / "ada"])[0]] == [s.key for s in subs[:2]]
    assert [s.key for s in batch.discover([root / "ben" / S1])[0]] == ["ben/01_dot_product_attention"]


def test_shards_split_the_class_without_overlap(tmp_path):
    subs, _ = batch.discover([_class(tmp_path)])
    parts = [batch.shard(subs, i, 3) for i in (1, 2, 3)]
    assert sorted(s.key for p in parts for s in p) == sorted(s.key for s in subs)
    assert all(len(p) in (1, 2) for p in parts)
    assert batch.shard(list(reversed(subs)), 2, 3) == parts[1]  # deterministic
    for bad in ("0/3", "4/3", "1-3", "x/y"):
        with pytest.raises(ValueError):
            batch.parse_shard(bad)


def test_collect_files_refuses_a_linked_notebook_and_skips_other_links(tmp_path):
    folder = tmp_path / "eve" / S1
    folder.mkdir(parents=True)
    (folder / "notes.txt").write_text("mine")
    (folder / "data").symlink_to("/etc")
    (folder / "peek.txt").symlink_to("/etc/hostname")
    (folder / ".ipynb_checkpoints").mkdir()
    (folder / ".ipynb_checkpoints" / "x.ipynb").write_text("{}")
    sub = batch.Submission("eve", S1, folder)
    with pytest.raises(batch.SubmissionProblem, match="No dot_product_attention.ipynb"):
        batch.collect_files(sub)
    (folder / "dot_product_attention.ipynb").symlink_to(hk.SOLUTIONS / S1 / "dot_product_attention.ipynb")
    with pytest.raises(batch.SubmissionProblem, match="symbolic link"):
        batch.collect_files(sub)
    (folder / "dot_product_attention.ipynb").unlink()
    (folder / "renamed.ipynb").write_text("{}")
    (folder / "big.bin").write_bytes(b"\0" * ((batch.MAX_FILE_MB << 20) + 1))
    files, nb = batch.collect_files(sub)
    assert nb == "renamed.ipynb" and sorted(n for n, _ in files) == ["notes.txt", "renamed.ipynb"]  # big.bin stays


def _strip(tree: ast.AST) -> str:
    return ast.dump(tree, include_attributes=False)


@pytest.mark.parametrize("path", sorted(hk.SOLUTIONS.glob("*/*.ipynb")) + sorted(hk.ASSIGNMENTS.glob("*/*.ipynb")),
                         ids=lambda p: f"{p.parent.parent.name}/{p.parent.name[:2]}")
def test_definitions_keep_line_numbers_and_are_exactly_code_definitions(path):
    cells = batch.definition_cells(path)
    mine = "\n".join(c["source"] for c in cells)
    assert _strip(ast.parse(mine)) == _strip(ast.parse(notebook.code_definitions(path)))
    originals = notebook.read_cells(path)
    for cell in cells:  # every kept line is where the student wrote it
        original = originals[int(cell["name"].strip("<>").split()[1]) - 1]["source"].splitlines()
        for node in ast.parse(cell["source"]).body:
            assert original[node.lineno - 1].strip() == cell["source"].splitlines()[node.lineno - 1].strip()


def test_a_cell_that_does_not_parse_runs_nothing(tmp_path):
    nb = {"cells": [{"cell_type": "code", "metadata": {}, "source": "import os\nos.system('boom')\ndef f(:\n"}]}
    path = tmp_path / "x.ipynb"
    path.write_text(json.dumps(nb))
    [cell] = batch.definition_cells(path)
    assert cell["source"].startswith("raise SyntaxError(") and "os.system" not in cell["source"]


# --- reports ----------------------------------------------------------------------------------
def _result() -> outputs.SubmissionResult:
    soft, dpa = registry.item("softmax"), registry.item("dot_product_attention")
    from autograder.failures import Evidence

    items = [
        ItemResult(soft, [GraderResult("softmax", "test_softmax_formula", "matches", "public"),
                          GraderResult("softmax", "test_softmax_secret_case", "secret", "hidden", status="failed",
                                       message="Wrong values in softmax of a 1-D vector.",
                                       evidence=Evidence("[0.1]", "[0.2]", ["max |error| = 0.1"]))]),
        ItemResult(dpa, [GraderResult("dot_product_attention", "test_dpa_formula", "formula", "public", weight=2,
                                      status="failed", message="Wrong values.", evidence=Evidence("[1]", "[2]"),
                                      hint="Use a softmax.")]),
    ]
    return outputs.SubmissionResult("ada", S1, items, isolation={"level": "bwrap", "description": "sandboxed"},
                                    notes=["a note"], fingerprint="f", duration_s=1.0)


def test_gradescope_results_hide_hidden_graders_source_and_evidence():
    data = outputs.gradescope(_result())
    assert data["score"] == 2.0 and {t["name"] for t in data["tests"]} >= {"A numerically stable softmax: secret (hidden check)"}
    hidden = next(t for t in data["tests"] if "secret" in t["name"])
    assert hidden["status"] == "failed" and hidden["visibility"] == "after_published"
    assert "Wrong values" in hidden["output"] and "0.2" not in hidden["output"]
    assert "test_softmax_secret_case" not in json.dumps(data["tests"])
    public = next(t for t in data["tests"] if t["name"].endswith("formula"))
    assert "expected: [1]" in public["output"] and "Use a softmax." in public["output"]
    assert sum(t["max_score"] for t in data["tests"]) == pytest.approx(10)
    assert set(data["tests"][0]) >= {"name", "score", "max_score", "status", "output", "visibility"}


def test_the_result_model_round_trips_through_results_json(tmp_path):
    r = _result()
    outputs.write_submission(tmp_path, r)
    back = outputs.read_submission(tmp_path, "ada", S1)
    assert back.to_json() == r.to_json()
    assert [item_text(x) for x in back.items] == [item_text(x) for x in r.items]
    assert sorted(p.name for p in (tmp_path / "ada" / S1).iterdir()) == ["classroom.json", "report.md", "results.json"]
    classroom = json.loads((tmp_path / "ada" / S1 / "classroom.json").read_text())
    assert classroom["version"] == 1 and classroom["status"] == "fail" and classroom["max_score"] == 10
    assert [t["status"] for t in classroom["tests"]] == ["fail", "fail"]
    report = (tmp_path / "ada" / S1 / "report.md").read_text()
    assert "sandboxed" in report and "\n\n| item |" in report  # a blank line: the table is not in the list


def test_class_csv_and_gradebook(tmp_path):
    r = _result()
    other = outputs.SubmissionResult("ben", S1, [ItemResult(registry.item(i.id)) for i in registry.items_of(S1)])
    rows = list(__import__("csv").reader(outputs.class_csv([r, other]).splitlines()))
    assert rows[0][:3] == ["student", f"{S1}:softmax", f"{S1}:dot_product_attention"]
    assert rows[1][0] == "ada" and rows[1][3] == "2" and rows[2][0] == "ben"
    pytest.importorskip("nbgrader")
    from nbgrader.api import Gradebook

    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    assert outputs.write_gradebook(url, [r, other]) == 4
    assert outputs.write_gradebook(url, [r]) == 2  # again: updated, not duplicated
    with Gradebook(url) as gb:
        assert gb.find_grade("softmax", "dot_product_attention", S1, "ada").score == 2.0
        assert gb.find_submission(S1, "ben").score == 0
        assert gb.find_assignment(S1).max_score == 10


def test_stages_whose_graders_are_not_sandbox_ready_are_skipped_loudly(tmp_path, monkeypatch):
    """The flag is read from the grader modules themselves: a stage whose module declares it is skipped."""
    public, hidden = tmp_path / "graders" / "public", tmp_path / "graders" / "hidden"
    public.mkdir(parents=True)
    hidden.mkdir()
    module = registry.stage(S3).grader_module
    (public / module).write_text("import pytest\n\nSANDBOX_READY = False  # hands the student objects\n")
    (public / registry.stage(S1).grader_module).write_text("SANDBOX_READY = True\n")
    monkeypatch.setattr(runner, "PUBLIC_DIR", public)
    monkeypatch.setattr(runner, "HIDDEN_DIR", hidden)
    assert not batch.sandbox_ready(S3) and batch.sandbox_ready(S1)
    hk.write(tmp_path / "in", "ada", S3, "{}")
    report = batch.run([tmp_path / "in"], tmp_path / "out", gradebook=None, progress=False, log=lambda s: None)
    assert report.discovered == 0 and report.isolation is None
    assert any(S3 in w and "SANDBOX_READY" in w for w in report.warnings)
    assert not (tmp_path / "out" / "ada").exists()
    (hidden / module).write_text("SANDBOX_READY = True\n")  # the public module's flag still counts
    assert not batch.sandbox_ready(S3)
    (public / module).write_text("SANDBOX_READY = True\n")
    assert batch.sandbox_ready(S3)


def test_every_stage_of_the_course_is_graded_in_the_sandbox():
    assert [s.id for s in registry.STAGES if not batch.sandbox_ready(s.id)] == []


# --- stage 07's recipes --------------------------------------------------------------------------
CONFIG = dict(src_vocab=7, tgt_vocab=9, d_model=8, num_heads=2, num_layers=1, d_ff=12, dropout=0.0, max_len=16)


def test_references_are_written_by_the_grader_only_and_resolved_by_the_worker_only():
    class Handle(protocol.Reference):
        def wire_id(self):
            return 7

    tree, _ = protocol.encode({"model": Handle()}, strict=True)
    assert tree["items"][0][1] == {"$": "ref", "id": 7}
    with pytest.raises(protocol.ProtocolError, match="unexpected reference"):  # the grader's decoder names nothing
        protocol.decode(tree, [])
    assert protocol.decode(tree, [], resolve_ref={7: "the model"}.__getitem__) == {"model": "the model"}
    with pytest.raises(protocol.ProtocolError, match="unknown object"):
        protocol.decode({"$": "ref", "id": 8}, [], resolve_ref={7: "the model"}.__getitem__)
    answer, _ = protocol.encode(Handle(), strict=False)  # a worker's answer holding one: an inert stand-in
    assert answer == {"$": "obj", "type": "Handle"}


def test_recipes_and_readers_travel_by_name_from_the_training_oracles():
    assert trusted_names({"f": training.trusted_model, "r": training.state_of, "c": training.CopyModel}) == {
        "f": "autograder.graders.training_oracles:trusted_model",
        "r": "autograder.graders.training_oracles:state_of",
        "c": "autograder.graders.training_oracles:CopyModel"}


def test_a_trusted_object_is_the_recipe_and_reads_back_as_data():
    def step(model, opt, batch, **kwargs):  # a student's training step, changing the model in place
        opt.zero_grad()
        model(batch["src"], batch["tgt_in"], batch["src_mask"], batch["tgt_mask"]).sum().backward()
        opt.step()
        return kwargs["box"]

    step.__module__ = "__student__"
    oracle = training.random_model(CONFIG, 3)
    student = LocalStudent({"step": step})
    theirs = student.trusted_object(training.trusted_model, CONFIG, oracle.state_dict(), recording=True,
                                    training=False)
    sgd = student.trusted_object(training.optimizer, theirs, "SGD", lr=0.1)
    assert training.flat(theirs.read(training.state_of)).equal(training.flat(oracle.state_dict()))
    batch_ = training.make_batch([[4, 5]], [[6, 7, 8]], 0, 1, 2)
    box = [1, 2]
    assert student.function("step")(theirs, sgd, batch_, box=box) is box  # no handle inside: passed as it is
    after = theirs.read(training.state_of)
    assert not training.flat(after).equal(training.flat(oracle.state_dict()))  # the grader's copy is untouched
    assert [c["training"] for c in theirs.read(training.calls_of)] == [False, False]  # encode, decode
    assert all(g is not None for g in theirs.read(training.grads_of))
    with pytest.raises(ValueError):
        training.optimizer(oracle, "LBFGS")


def test_a_writable_path_reads_back_as_its_bytes_and_leaves_nothing(tmp_path):
    def save(path):
        Path(path).write_bytes(b"weights")

    save.__module__ = "__student__"
    student = LocalStudent({"save": save})
    path = student.trusted_object(training.writable_path, "model.safetensors")
    student.function("save")(path)
    folder = Path(path._obj).parent
    assert path.read(training.take_file) == b"weights" and not folder.exists()
    untouched = student.trusted_object(training.writable_path, "model.safetensors")
    assert untouched.read(training.take_file) is None


def test_the_handed_in_checkpoint_is_copied_by_content_and_never_through_a_link(tmp_path):
    cache = tmp_path / "cache"
    subs = []
    for name in ("ada", "ben", "eve", "cy"):
        folder = tmp_path / name / "07_training"
        folder.mkdir(parents=True)
        subs.append(batch.Submission(name, "07_training", folder))
    (subs[0].folder / checkpoint.CHECKPOINT_NAME).write_bytes(b"same")
    (subs[1].folder / checkpoint.CHECKPOINT_NAME).write_bytes(b"same")
    (subs[2].folder / checkpoint.CHECKPOINT_NAME).symlink_to(subs[0].folder / checkpoint.CHECKPOINT_NAME)
    ada, ben, eve, cy = (batch.stage_checkpoint(s, cache) for s in subs)
    assert ada == ben and (ada / checkpoint.CHECKPOINT_NAME).read_bytes() == b"same"
    assert not (eve / checkpoint.CHECKPOINT_NAME).exists() and not (cy / checkpoint.CHECKPOINT_NAME).exists()
    with batch.submission_dir(ada):
        assert checkpoint.submitted_path() == ada / checkpoint.CHECKPOINT_NAME


def test_an_oversized_checkpoint_is_refused_by_its_size_without_a_copy(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoint, "MAX_CHECKPOINT_BYTES", 1 << 20)
    folder = tmp_path / "ada" / "07_training"
    folder.mkdir(parents=True)
    (folder / checkpoint.CHECKPOINT_NAME).write_bytes(b"\0" * (3 << 20))
    staged = batch.stage_checkpoint(batch.Submission("ada", "07_training", folder), tmp_path / "cache")
    stand_in = staged / checkpoint.CHECKPOINT_NAME
    assert stand_in.stat().st_size == 3 << 20 and stand_in.stat().st_blocks * 512 < (1 << 20)  # sparse: nothing copied
    with pytest.raises(checkpoint.CheckpointError, match="3 MB, more than the 1 MB"):
        checkpoint.read_config(stand_in)


def test_bwrap_never_binds_the_repository_and_masks_an_installed_engine(monkeypatch, tmp_path):
    from autograder.sandbox import cage

    cmd = cage.bwrap_command("bwrap", tmp_path, root=False, tmpfs_mb=16)
    binds = [cmd[i + 1] for i, c in enumerate(cmd) if c == "--ro-bind"]
    repo = str(hk.REPO)
    assert not any(repo == b or (repo + "/").startswith(b.rstrip("/") + "/") for b in binds), binds
    assert "--unshare-net" in cmd and "--unshare-pid" in cmd and "--unshare-user" in cmd
    # the sandbox's /tmp is mounted before the binds: a venv under the machine's /tmp stays visible
    own_tmp = next(i for i, c in enumerate(cmd) if c == "--tmpfs" and cmd[i + 1] == "/tmp")
    roots = set(cage._python_roots())
    assert roots and all(i > own_tmp for i, c in enumerate(cmd) if c == "--ro-bind" and cmd[i + 1] in roots)
    installed = Path(cage.sys.prefix) / "lib" / "site-packages" / "autograder"  # as if pip-installed there
    monkeypatch.setattr(cage, "PACKAGE", installed)
    cmd = cage.bwrap_command("bwrap", tmp_path, root=True, tmpfs_mb=16)
    assert str(installed) in [cmd[i + 1] for i, c in enumerate(cmd) if c == "--tmpfs"]
    assert "--unshare-user" not in cmd and cmd[cmd.index("--cap-add") + 1] == "CAP_SETUID"


def test_on_a_gpu_machine_the_sandbox_gets_the_gpu_and_a_heap_bound_cuda_can_start_under(monkeypatch, tmp_path):
    import resource

    from autograder.sandbox import cage, worker

    here = cage.bwrap_command("bwrap", tmp_path, root=True, tmpfs_mb=16)
    assert here.count("--dev-bind") == len(cage.gpu_device_nodes())  # none on a machine without a GPU
    nodes = ["/dev/nvidia0", "/dev/nvidia-uvm", "/dev/nvidiactl"]
    monkeypatch.setattr(cage, "gpu_device_nodes", lambda: nodes)
    cmd = cage.bwrap_command("bwrap", tmp_path, root=True, tmpfs_mb=16)
    bound = [cmd[i + 1] for i, c in enumerate(cmd) if c == "--dev-bind"]
    assert bound == nodes and cmd.index("--dev-bind") > cmd.index("--dev")  # on top of bwrap's own /dev
    assert worker.memory_limit(2048, 0)[0] == resource.RLIMIT_AS
    which, limit = worker.memory_limit(2048, 1)
    assert which == resource.RLIMIT_DATA and limit > 2048 << 20


def test_a_gpu_tensor_travels_with_a_device_mark_and_lands_where_the_receiver_can_put_it():
    tree, bufs = protocol.encode(torch.arange(3.0), strict=True)
    assert "dev" not in tree  # a CPU tensor: no mark
    marked = dict(tree, dev="cuda")
    got = protocol.decode(marked, [memoryview(bytes(b)) for b in bufs])
    assert got.tolist() == [0.0, 1.0, 2.0]
    assert got.device.type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(protocol.ProtocolError, match="bad device"):
        protocol.decode(dict(tree, dev="tpu"), [memoryview(bytes(b)) for b in bufs])


def test_nbgrader_reuses_a_stored_result_only_for_the_same_files(tmp_path):
    """``--HardenedScores.results``: a result an earlier ``grade --out`` stored stands in for grading
    again only where its fingerprint is that of the files now, and under isolation="bwrap" only if
    it was graded in bubblewrap."""
    import shutil

    from autograder.instructor import nbgrader_hardened as nh

    stage = registry.STAGES[0]
    folder = tmp_path / "submitted" / "ana" / stage.id
    folder.mkdir(parents=True)
    shutil.copy(hk.REPO / "assignments" / stage.id / stage.notebook, folder / stage.notebook)
    out = tmp_path / "graded"
    graded = outputs.SubmissionResult("ana", stage.id, [ItemResult(i) for i in registry.items_of(stage.id)],
                                      isolation={"level": "rlimits"}, fingerprint=nh.graded_view(folder, stage.id)[1])
    outputs.write_submission(out, graded)

    assert list(nh.stored_results({"ana": folder}, stage.id, out).results) == ["ana"]
    assert nh.stored_results({"ana": folder}, stage.id, out, isolation="bwrap").results == {}
    assert nh.stored_results({"ana": folder}, stage.id, out, hidden=False).results == {}  # a public-only grading
    assert nh.stored_results({"bea": folder}, stage.id, out).results == {}  # nobody else's result
    (folder / stage.notebook).write_text((folder / stage.notebook).read_text() + " ", encoding="utf-8")
    assert nh.stored_results({"ana": folder}, stage.id, out).results == {}  # other bytes: graded again
