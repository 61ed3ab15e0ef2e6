"""The shape the code keeps: ``experiments/`` wires configs to library calls (the computing is
``jaxdl``'s), in small functions and modules."""

import ast
import re
from pathlib import Path

EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments"
MODULES = sorted(EXPERIMENTS.rglob("*.py"))
# the calls that compute: gradients, compilation, vectorisation, XLA ops, optimisers, sklearn
COMPUTING = re.compile(r"\b(jax\.(grad|jit|vmap|lax)|import optax|from optax|sklearn)\b")


def test_experiments_compute_nothing_themselves():
    found = [
        f"{path.name}:{number}: {line.strip()}"
        for path in MODULES
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if COMPUTING.search(line)
    ]
    assert MODULES and not found, found


def test_experiments_functions_and_modules_are_small():
    long_functions = [
        f"{path.name}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for path in MODULES
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef) and node.end_lineno - node.lineno + 1 > 60
    ]
    long_modules = [
        f"{path.name} ({n} lines)"
        for path in MODULES
        if (n := len(path.read_text().splitlines())) > 450
    ]
    assert not long_functions and not long_modules, (long_functions, long_modules)
