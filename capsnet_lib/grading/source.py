"""Source rules, read from the notebook as handed in: never from the student's kernel.

An exercise that asks for a function (``Exercise.writes``) is judged on the code of the
notebook file: the function must be written with ``def`` in the exercise's answer cell, and
its rules (``Exercise.numpy_only``, or the names a verdict forbids) apply to everything the
function reaches there: the function itself, and every top-level statement of the notebook
that binds a name it uses, and so on (``_turn = tf.transpose`` one line above the function
is reached; ``squash = cl.squash`` is not a function written by the student).
"""

from __future__ import annotations

import ast
import builtins

from capsnet_lib.grading.spec import Wrong

# a name bound or a module changed this way cannot be followed by reading the code
DYNAMIC = {"exec", "eval", "globals", "locals", "vars", "setattr", "__import__", "compile"}
NUMPY_MODULES = {"numpy", "math"}  # what "NumPy only" lets a function import and use


def _parse(source: str) -> ast.Module:
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError:
        return ast.Module(body=[], type_ignores=[])


def _bound(statement: ast.stmt) -> set[str]:
    """The top-level names ``statement`` binds."""
    if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {statement.name}
    if isinstance(statement, ast.Import | ast.ImportFrom):
        return {(alias.asname or alias.name).split(".")[0] for alias in statement.names}
    names = set()
    for node in ast.walk(statement):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            names.add(node.id)
    return names


def _free_names(node: ast.AST) -> set[str]:
    """The names ``node`` reads that it does not bind itself (parameters, locals)."""
    read, local = set(), set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            (read if isinstance(sub.ctx, ast.Load) else local).add(sub.id)
        elif isinstance(sub, ast.arg):
            local.add(sub.arg)
        elif isinstance(sub, ast.Import | ast.ImportFrom):
            local |= {(a.asname or a.name).split(".")[0] for a in sub.names}
        elif (
            isinstance(sub, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            and sub is not node
        ):
            local.add(sub.name)
    return read - local


def _modules(statement: ast.AST) -> set[str]:
    """The top-level packages ``statement`` imports, anywhere in it."""
    found = set()
    for node in ast.walk(statement):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            found.add((node.module or "").split(".")[0] if node.level == 0 else ".")
    return found


class Submission:
    """The code cells of a notebook as handed in, up to an exercise's last answer cell."""

    def __init__(self, nb, answers: dict[str, list[int]], is_check) -> None:
        self.nb, self.answers = nb, answers
        self.trees = {
            index: _parse(cell.source)
            for index, cell in enumerate(nb.cells)
            if cell.cell_type == "code" and not is_check(cell)
        }

    def reached(self, number: str, name: str, numpy_only: bool = False) -> str:
        """The source of ``name`` and of all it reaches, or :class:`Wrong` (see the module)."""
        cells = self.answers.get(number) or []
        if not cells:
            raise Wrong("its answer cell was not found")
        last = max(cells)
        statements = [
            (index, statement)
            for index, tree in sorted(self.trees.items())
            if index <= last
            for statement in tree.body
        ]
        binding = [s for s in statements if name in _bound(s[1])]
        if (
            not binding
            or binding[-1][0] not in cells
            or not isinstance(binding[-1][1], ast.FunctionDef)
        ):
            raise Wrong(f"`{name}` must be written with def in the exercise's answer cell")
        for _, statement in statements:
            for node in ast.walk(statement):
                if isinstance(node, ast.Name) and node.id in DYNAMIC:
                    raise Wrong(f"the notebook uses {node.id}(), so its code cannot be read")
                if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store | ast.Del):
                    if isinstance(node.value, ast.Name) and node.value.id in _bound_imports(
                        statements
                    ):
                        raise Wrong(f"the notebook changes the module {node.value.id}")
        seen, todo, parts = set(), [binding[-1]], []
        while todo:
            index, statement = todo.pop()
            if id(statement) in seen:
                continue
            seen.add(id(statement))
            parts.append(ast.unparse(statement))
            for used in sorted(_free_names(statement)):
                found = [s for s in statements if used in _bound(s[1])]
                if found:
                    todo += found
                elif numpy_only and not hasattr(builtins, used):
                    raise Wrong(f"NumPy only: `{used}` is not defined in the notebook")
        if numpy_only:
            for part in parts:
                other = _modules(ast.parse(part)) - NUMPY_MODULES
                if other:
                    raise Wrong(f"NumPy only, but `{name}` reaches {', '.join(sorted(other))}")
        return "\n\n".join(reversed(parts))


def _bound_imports(statements) -> set[str]:
    return {
        name
        for _, statement in statements
        if isinstance(statement, ast.Import | ast.ImportFrom)
        for name in _bound(statement)
    }


def modules_in(source: str) -> set[str]:
    """The top-level packages that ``source`` imports."""
    return _modules(ast.parse(source))
