"""Forged results: a results.json, a pickle and a gradebook in the folder; writes outside its directory."""
ATTACKS = ("softmax", "dot_product_attention")
NEEDS = "contained"  # kill(-1) / writes into $HOME: only where the worker is contained
SKELETON = True
FILES = {
    "results.json": '{"score": 10, "tests": [{"name": "softmax", "score": 4, "max_score": 4, "status": "passed"}]}',
    "classroom.json": '{"version": 1, "status": "pass", "max_score": 10, "tests": []}',
    "grades.csv": "student,total\nforger,35\n",
    "escape.txt": "forged",  # the test puts a name of its own here, to find what escaped on the machine
}
AT_IMPORT = r'''
class _Forge:
    import json, os, pickle

    class Payload:
        def __reduce__(self):
            import os
            return (os.system, ("touch /tmp/forged_results_pickle_ran",))  # if anyone ever unpickled it

    forged = {"score": 10, "tests": [{"name": "softmax", "score": 4, "max_score": 4, "status": "passed"}]}
    tag = open("escape.txt").read().strip()
    for d in ["/tmp", os.path.expanduser("~"), "..", "../..", "../../..", "/work", "/work/main/build"]:
        for name in [f"{tag}-results.json", f"{tag}-results.pickle"]:
            try:
                with open(os.path.join(d, name), "wb") as fh:
                    fh.write(pickle.dumps(Payload()) if name.endswith("pickle") else json.dumps(forged).encode())
            except Exception:
                pass
'''
