"""Issue 11 (items 2, 3, 5): a malformed or hostile submission gets a zero row that says why, a
results.json and a CSV row, and never stops the batch, a resumed run or a regrade.

The hostile files are made here (FIFOs, non-UTF-8 names and 1,100-deep trees cannot be committed).
"""

from __future__ import annotations

import csv
import json
import os
import struct
from pathlib import Path

import pytest

from kit import REPO
from autograder.grading import batch, outputs
from autograder import checkpoint, registry
from autograder.graders import translation_bleu as bleu
from autograder.instructor import submissions
from autograder.sandbox import cage

S1 = registry.STAGES[0].id
NB = registry.stage(S1).notebook
LIMITS = cage.Limits(call_seconds=5.0, grace_seconds=1.0, function_seconds=30.0, submission_seconds=120.0)


def _reference() -> dict:
    return submissions.fill(submissions.load(REPO / "assignments" / S1 / NB), submissions.load(REPO / "solutions" / S1 / NB))


def _malformed(ref: dict) -> dict[str, str]:
    """Seven malformed notebook texts (the eighth and ninth attacks are a name and a tree)."""
    def edit(fn):
        nb = json.loads(json.dumps(ref))
        fn(nb)
        return json.dumps(nb)

    cell = next(i for i, c in enumerate(ref["cells"]) if c["cell_type"] == "code")
    return {
        "cell_not_object": edit(lambda nb: nb["cells"].insert(0, 7)),
        "source_numbers": edit(lambda nb: nb["cells"][cell].__setitem__("source", [1, 2])),
        "metadata_list": edit(lambda nb: nb["cells"][cell].__setitem__("metadata", [])),
        "nbgrader_string": edit(lambda nb: nb["cells"][cell].__setitem__("metadata", {"nbgrader": "x"})),
        "deep_json": '{"cells": ' + "[" * 100_000 + "]" * 100_000 + "}",
        "huge_int": '{"cells": [], "n": ' + "9" * 5000 + "}",
        "surrogate": edit(lambda nb: nb["cells"].insert(cell + 1, {
            "cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
            "source": "raise ValueError('\udc80 bad')\n"})),
    }


def _put(root: Path, student: str, text: str | None = None) -> Path:
    folder = root / student / S1
    folder.mkdir(parents=True)
    if text is not None:
        (folder / NB).write_text(text, encoding="utf-8", errors="surrogatepass")
    return folder


def _deep_tree(folder: Path, request, depth: int = 1100) -> None:
    """``depth`` nested folders ``d/d/…`` (built and removed through directory fds: the path passes
    PATH_MAX, and pytest's recursive clean-up of old temporary folders would hit the recursion limit)."""
    fds = [os.open(folder, os.O_RDONLY | os.O_DIRECTORY)]
    for _ in range(depth):
        os.mkdir("d", dir_fd=fds[-1])
        fds.append(os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fds[-1]))
    for fd in fds[1:]:
        os.close(fd)

    def remove() -> None:
        chain = [fds[0]]
        while True:
            try:
                chain.append(os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=chain[-1]))
            except OSError:
                break
        while len(chain) > 1:
            os.close(chain.pop())
            os.rmdir("d", dir_fd=chain[-1])
        os.close(chain[0])

    request.addfinalizer(remove)


# --- fast checks of the pieces ----------------------------------------------------------------------
@pytest.mark.parametrize("name", list(_malformed({"cells": [{"cell_type": "code", "source": "", "metadata": {}}]})))
def test_check_notebook_refuses_each_malformed_notebook(name):
    bad = _malformed({"cells": [{"cell_type": "code", "source": "x = 1", "metadata": {}, "outputs": []}]})[name]
    if name == "surrogate":  # well-formed: its surrogate only shows when the cell runs
        batch.check_notebook(NB, bad.encode("utf-8", "surrogatepass"))
        return
    with pytest.raises(batch.SubmissionProblem):
        batch.check_notebook(NB, bad.encode("utf-8", "surrogatepass"))


def test_check_notebook_accepts_the_reference_and_brackets_in_strings():
    batch.check_notebook(NB, json.dumps(_reference()).encode())
    deep_in_string = {"cells": [{"cell_type": "code", "metadata": {}, "source": "[" * 500, "outputs": []}]}
    batch.check_notebook(NB, json.dumps(deep_in_string).encode())
    assert batch._json_depth(b'{"a": "[[[[", "b": [[1]]}') == 3  # a depth counter that counts strings fails here


def test_discovery_does_not_depend_on_a_student_id(tmp_path):
    ref = json.dumps(_reference())
    for student in (S1, "ada", "ben"):  # a student whose id is the stage id
        _put(tmp_path, student, ref)
    subs, _ = batch.discover([tmp_path])
    assert sorted(s.student for s in subs) == sorted([S1, "ada", "ben"])
    one, _ = batch.discover([tmp_path / "ada" / S1])
    assert [s.key for s in one] == [f"ada/{S1}"]


def test_links_fifos_and_non_utf8_names(tmp_path):
    ref = json.dumps(_reference())
    good = _put(tmp_path, "ada", ref)
    os.symlink(good, tmp_path / "ada" / "link-target-unused")
    (tmp_path / "cara").mkdir()
    os.symlink(REPO / "solutions" / S1, tmp_path / "cara" / S1)  # an assignment folder that is a link
    fifo = _put(tmp_path, "dan", ref)
    os.mkfifo(fifo / checkpoint.CHECKPOINT_NAME)
    odd = os.fsdecode(b"eve\xff")
    weird = _put(tmp_path, odd, ref)
    (weird / os.fsdecode(b"data\xfe.txt")).write_bytes(b"x")
    subs = {s.student: s for s in batch.discover([tmp_path])[0]}
    assert set(subs) >= {"ada", "cara", "dan"} and batch.safe_id(odd) in subs
    with pytest.raises(batch.SubmissionProblem):
        batch.collect_files(subs["cara"])
    with pytest.raises(batch.SubmissionProblem):  # and it returns: nothing opened the FIFO for reading
        batch.collect_files(subs["dan"])
    files, _ = batch.collect_files(subs[batch.safe_id(odd)])
    assert all(name.encode("utf-8") for name, _ in files)
    batch.fingerprint(subs[batch.safe_id(odd)], hidden=False)
    assert (batch.stage_checkpoint(subs["dan"], tmp_path / "cache") / checkpoint.CHECKPOINT_NAME).exists() is False


def test_deep_trees_are_data(tmp_path, request):
    folder = _put(tmp_path, "ada", json.dumps(_reference()))
    _deep_tree(folder, request)
    sub = batch.discover([tmp_path])[0][0]
    files, nb = batch.collect_files(sub)
    assert nb == NB and len(files) == 1
    batch.fingerprint(sub, hidden=False)


def _code_cells(*sources: str) -> bytes:
    return json.dumps({"cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "source": s} for s in sources]}).encode()


def test_check_notebook_bounds_the_code_it_would_parse():
    batch.check_notebook(NB, _code_cells(*["x = 1\n"] * 200))  # a long but ordinary notebook
    one_line_calls = "f()\n" * (batch.MAX_CELL_CHARS // 4 + 1)
    with pytest.raises(batch.SubmissionProblem, match="characters of code"):
        batch.check_notebook(NB, _code_cells(one_line_calls))
    many_cells = ["f()\n" * (batch.MAX_CELL_CHARS // 5)] * (batch.MAX_CODE_CHARS // (batch.MAX_CELL_CHARS // 5 * 4) + 1)
    with pytest.raises(batch.SubmissionProblem, match="characters of code"):
        batch.check_notebook(NB, _code_cells(*many_cells))
    with pytest.raises(batch.SubmissionProblem, match="cells"):
        batch.check_notebook(NB, _code_cells(*[""] * (batch.MAX_CELLS + 1)))
    # markdown is never parsed as code: a long text costs nothing
    long_text = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": "a" * (batch.MAX_CODE_CHARS * 2)}]}
    batch.check_notebook(NB, json.dumps(long_text).encode())


def test_checkpoint_grading_runs_on_the_submission_clock(tmp_path):
    """A checkpoint whose evaluation outlasts the budget fails its check with a reason; it is not cached."""
    import time

    import torch
    from autograder.graders.training_oracles import Transformer

    config = dict(checkpoint.DEFAULT_CONFIG)
    torch.manual_seed(0)
    model = Transformer(**{k: config[k] for k in checkpoint.REQUIRED}, dropout=0.0)
    path = checkpoint.save(model, tmp_path / checkpoint.CHECKPOINT_NAME, config)
    with checkpoint.time_budget(0.0):
        time.sleep(0.01)
        with pytest.raises(checkpoint.CheckpointTimeout, match="time budget"):
            bleu.evaluate(path, "valid")
    assert bleu.evaluate(path, "valid").bleu >= 0.0  # without the budget the same file is graded


def _header_file(path: Path, header: dict) -> Path:
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw)
    return path


def test_checkpoint_header_bounds(tmp_path):
    with pytest.raises(checkpoint.CheckpointError):
        p = tmp_path / "big-header.safetensors"
        p.write_bytes(struct.pack("<Q", checkpoint.MAX_HEADER_BYTES + 1) + b"{}")
        checkpoint.read_header(p)
    many = {f"t{i}": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]} for i in range(checkpoint.MAX_TENSORS + 5)}
    with pytest.raises(checkpoint.CheckpointError):
        checkpoint.read_header(_header_file(tmp_path / "many.safetensors", many))
    expected = {"w": (4, 4)}
    checkpoint._check_header_shapes(tmp_path, {"w": {"shape": [4, 4]}}, expected)
    with pytest.raises(checkpoint.CheckpointError):  # a tensor larger than the model's is never decoded
        checkpoint._check_header_shapes(tmp_path, {"w": {"shape": [4, 10**9]}}, expected)
    with pytest.raises(checkpoint.CheckpointError):  # many small foreign tensors add up
        checkpoint._check_header_shapes(tmp_path, {f"x{i}": {"shape": [4, 4]} for i in range(3)}, expected)


def test_parameter_count_counts_both_ffns():
    from autograder.graders.training_oracles import Transformer

    config = dict(checkpoint.DEFAULT_CONFIG, d_model=32, num_layers=3, d_ff=300)
    model = Transformer(**{k: config[k] for k in checkpoint.REQUIRED}, dropout=0.0)
    assert checkpoint.parameter_count(config) == sum(p.numel() for p in model.parameters())
    half_ffn = checkpoint.parameter_count(config) - config["num_layers"] * 2 * config["d_model"] * config["d_ff"]
    assert half_ffn != sum(p.numel() for p in model.parameters())  # the old estimate fails here
    largest = dict(checkpoint.DEFAULT_CONFIG, d_model=512, num_heads=8, num_layers=6, d_ff=2048)
    assert checkpoint.parameter_count(largest) <= checkpoint.MAX_PARAMETERS
    assert checkpoint.parameter_count(dict(largest, d_ff=4096)) > checkpoint.MAX_PARAMETERS


# --- one batch: the hostile class beside honest students, then a resumed run --------------------------
@pytest.mark.slow
def test_hostile_class_is_graded_and_resumes(tmp_path, request):
    ref = _reference()
    root, out = tmp_path / "submitted", tmp_path / "out"
    texts = _malformed(ref)
    for name, bad in texts.items():
        _put(root, name, bad)
    _put(root, "ada", json.dumps(ref))
    _put(root, S1, json.dumps(ref))  # a student id equal to the stage id
    (root / "cara").mkdir(parents=True)
    os.symlink(REPO / "solutions" / S1, root / "cara" / S1)
    os.mkfifo(_put(root, "dan", json.dumps(ref)) / NB.replace(".ipynb", "-2.ipynb"))
    kw = dict(jobs=1, limits=LIMITS, isolation="auto", gradebook=None, progress=False, log=lambda s: None)
    report = batch.run([root], out, **kw)
    assert not report.failed, [(o.key, o.error) for o in report.failed]
    students = set(texts) | {"ada", S1, "cara", "dan"}
    rows = {r["student"]: r for r in csv.DictReader((out / "grades.csv").open(encoding="utf-8"))}
    assert set(rows) == students
    for s in students:
        stored = outputs.read_submission(out, s, S1)
        assert stored is not None, s
    full = registry.stage(S1)
    good = outputs.read_submission(out, "ada", S1)
    assert good.score == good.max_score and outputs.read_submission(out, S1, S1).score == good.max_score
    assert outputs.read_submission(out, "cara", S1).score == 0  # the linked solutions earn nothing
    for name in texts:
        r = outputs.read_submission(out, name, S1)
        assert r.notes, name
        if name != "surrogate":
            assert r.score == 0, name
    # added to a graded folder: a non-UTF-8 name and a 1,100-deep tree; the resumed run grades only them
    odd = _put(root, os.fsdecode(b"eve\xff"), json.dumps(ref))
    _deep_tree(_put(root, "fay", json.dumps(ref)), request)
    again = batch.run([root], out, **kw)
    assert not again.failed and again.graded == 2 and again.skipped == len(students), (again.graded, again.skipped)
    assert odd.exists() and outputs.read_submission(out, batch.safe_id(os.fsdecode(b"eve\xff")), S1).score == good.max_score
    assert full.id == S1
