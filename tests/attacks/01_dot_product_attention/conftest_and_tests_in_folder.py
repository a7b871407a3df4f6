"""A conftest.py that turns every failure into a pass, and a test file of its own, beside the stubs."""
ATTACKS = ("softmax", "dot_product_attention")
SKELETON = True
FILES = {
    "conftest.py": '''
import pytest

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    report.outcome = "passed"
    report.longrepr = None

def pytest_collection_modifyitems(config, items):
    items[:] = []
''',
    "test_softmax.py": '''
def test_softmax_formula(student=None):
    assert True

def test_dpa_formula(student=None):
    assert True
''',
    "pytest.ini": "[pytest]\naddopts = -p no:autograder\n",
}
