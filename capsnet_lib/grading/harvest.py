"""The harvest cell: the code the grader adds after an answer cell, and how its file is read.

The cell evaluates the exercise's probes in the student's kernel, converts each value to a
plain form (float64 arrays, strings) there, and writes them with ``np.savez`` to a file whose
name is random. The grader reads the file as soon as the cell has run (before any later cell
of the student's can touch it), with ``allow_pickle=False``: nothing the student's code
returned reaches the grader as a Python object.
"""

from __future__ import annotations

import io
import json
import secrets
import zipfile
from pathlib import Path

import numpy as np

from capsnet_lib.grading.spec import ARRAY, ARRAYS, TEXT, Exercise

NOTES = "__notes__"  # the key of the JSON object of errors, probe -> message
MAX_BYTES = 256 * 2**20  # a harvest larger than this, compressed or not, is refused
MAX_PARTS = 1000  # the most arrays an "arrays" probe may hold
MARK = "# capsnet_lib.grading: harvest"  # the first line of every harvest cell

_TEMPLATE = """{mark} {number} (added by the grader)
def __capsnet_grader_harvest():
    import json
    import numpy

    inputs = json.loads({inputs!r})
    probes = json.loads({probes!r})
    scope = dict(globals())
    scope.update(np=numpy, I=inputs)
    try:
        import capsnet_lib, keras, tensorflow

        scope.update(cl=capsnet_lib, keras=keras, tf=tensorflow)
    except Exception:
        pass
    arrays, notes, failed = {{}}, {{}}, None
    try:
        exec({prelude!r}, scope)
    except Exception as error:
        failed = type(error).__name__ + ": " + str(error)
    for name, (kind, expression) in probes.items():
        try:
            if failed:
                raise RuntimeError(failed)
            value = eval(expression, scope)
            if value is None:
                raise NotImplementedError("still None")
            if kind == "text":
                if type(value) is not type(""):
                    raise TypeError("expected a string, got " + type(value).__name__)
                arrays[name] = numpy.array(value)
            elif kind == "arrays":
                parts = list(value)
                for k, part in enumerate(parts):
                    arrays[name + "#" + str(k)] = numpy.array(numpy.asarray(part, numpy.float64))
                arrays[name + "#count"] = numpy.array(float(len(parts)))
            elif kind == "array":
                arrays[name] = numpy.array(numpy.asarray(value))
            else:
                arrays[name] = numpy.array(numpy.asarray(value, numpy.float64))
        except Exception as error:
            notes[name] = (failed or type(error).__name__ + ": " + str(error))[:300]
    numpy.savez({path!r}, __notes__=numpy.array(json.dumps(notes)), **arrays)


__capsnet_grader_harvest()
del __capsnet_grader_harvest
"""


class Missing:
    """A probe without a value: the reason (an error the student's code raised, ...)."""

    def __init__(self, reason: str):
        self.reason = reason

    def __repr__(self) -> str:
        return f"Missing({self.reason!r})"


def harvest_cell_source(exercise: Exercise, inputs: dict, folder: Path) -> tuple[str, Path]:
    """The harvest cell for ``exercise`` and the random path (``.npz``) it writes to."""
    path = folder / f"{secrets.token_hex(16)}.npz"
    probes = {
        name: [exercise.probe(name).kind, exercise.probe(name).expression]
        for name in exercise.probes
    }
    source = _TEMPLATE.format(
        mark=MARK,
        number=exercise.number,
        inputs=json.dumps(inputs),
        probes=json.dumps(probes),
        prelude=exercise.prelude,
        path=str(path),
    )
    return source, path


def read_harvest(exercise: Exercise, path: Path) -> dict:
    """The plain values a harvest cell wrote: probe name -> array, ``str``, list or :class:`Missing`.

    Anything not in the expected form (a file that is missing, too large, pickled, or holds
    the wrong kind of array) is a :class:`Missing` with its reason; the file is deleted.
    """
    names = list(exercise.probes)
    if not path.is_file():
        return dict.fromkeys(names, Missing("the grader's harvest cell did not run to its end"))
    try:
        if path.stat().st_size > MAX_BYTES:
            raise ValueError("too large")
        stored = _read_npz(path)
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        return dict.fromkeys(names, Missing(f"the harvested values could not be read ({error})"))
    finally:
        path.unlink(missing_ok=True)
    try:
        notes = json.loads(str(stored.pop(NOTES)))
    except (KeyError, ValueError):
        notes = {}
    return {name: _value(exercise.probe(name).kind, name, stored, notes) for name in names}


def _read_npz(path: Path) -> dict:
    """The arrays of an ``.npz``, each member decompressed at most to what is left of
    :data:`MAX_BYTES` (a small file that inflates to gigabytes is refused, not read)."""
    stored, left = {}, MAX_BYTES
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
        if len(members) > MAX_PARTS + 64:
            raise ValueError(f"{len(members)} arrays")
        for member in members:
            with archive.open(member) as stream:
                data = stream.read(left + 1)
            left -= len(data)
            if left < 0:
                raise ValueError(f"larger than {MAX_BYTES // 2**20} MiB once decompressed")
            key = member.filename.removesuffix(".npy")
            stored[key] = np.lib.format.read_array(io.BytesIO(data), allow_pickle=False)
    return stored


def _value(kind: str, name: str, stored: dict, notes: dict):
    if name in notes:
        return Missing(str(notes[name]))
    if kind == ARRAYS:
        count = stored.get(name + "#count")
        if count is None or count.dtype != np.float64 or count.shape != ():
            return Missing("no value")
        if not (np.isfinite(count) and 0 <= count <= MAX_PARTS and count == int(count)):
            return Missing(f"a count of {float(count):g} parts (at most {MAX_PARTS})")
        parts = [stored.get(f"{name}#{k}") for k in range(int(count))]
        if any(part is None or part.dtype != np.float64 for part in parts):
            return Missing("not a list of numeric arrays")
        return parts
    value = stored.get(name)
    if value is None:
        return Missing("no value")
    if kind == TEXT:
        if value.dtype.kind != "U" or value.shape != ():
            return Missing("not a string")
        return str(value)
    if kind == ARRAY:
        if value.dtype.kind not in "biuf":
            return Missing("not numbers")
        return value
    if value.dtype != np.float64:
        return Missing("not numbers")
    return value
