"""MBPP+ (EvalPlus v0.2.0, 378 tasks); base and plus tests reported apart.

The release stores test inputs as JSON, which has no tuples, sets or complex numbers; the
argument types each task expects are restored here (per task, as EvalPlus does) before the
inputs reach the reference solution and the candidate.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from benchmarks.code_exec import COMPLETION_STOPS, IOBenchmark, read_jsonl
from harness.core.data import DataFile
from harness.core.types import Sample
from scorers.execution import IOTask


def _tuples(x: Any) -> Any:
    return tuple(_tuples(i) for i in x) if isinstance(x, list) else x


def _each_arg_tuple(args: list) -> list:
    return [tuple(a) for a in args]


def _each_arg_list_of_tuples(args: list) -> list:
    return [[tuple(a) for a in arg] for arg in args]


ARG_TYPES: dict[str, tuple[set[int], Callable[[list], Any]]] = {
    "args_are_tuples": (
        {
            2,
            116,
            132,
            143,
            222,
            261,
            273,
            394,
            399,
            421,
            424,
            429,
            470,
            560,
            579,
            596,
            616,
            630,
            726,
            740,
            744,
            809,
        },
        _each_arg_tuple,
    ),
    "args_are_lists_of_tuples": (
        {63, 64, 70, 94, 120, 237, 272, 299, 400, 409, 417, 438, 473, 614, 780},
        _each_arg_list_of_tuples,
    ),
    "first_is_list_of_tuples": ({75, 413, 444, 753}, lambda a: [[tuple(x) for x in a[0]], a[1]]),
    "second_is_tuple": ({106, 750}, lambda a: [a[0], tuple(a[1])]),
    "first_is_tuple": ({250, 405, 446, 617, 720, 763, 808}, lambda a: [tuple(a[0]), *a[1:]]),
    "tuples_of_tuples": ({259, 401, 445}, lambda a: [tuple(tuple(x) for x in arg) for arg in a]),
    "first_tuple_of_mixed": (
        {278},
        lambda a: [tuple(tuple(x) if isinstance(x, list) else x for x in a[0])],
    ),
    "first_tuple_then_two": ({307}, lambda a: [tuple(a[0]), a[1], a[2]]),
    "dict_of_tuples": ({722}, lambda a: [{k: tuple(v) for k, v in a[0].items()}, *a[1:]]),
    "float_and_complex": ({124}, lambda a: [float(a[0]), complex(a[1])]),
    "complex": ({252}, lambda a: [complex(a[0])]),
    # EvalPlus turns empty inner lists into {} here; kept so results stay comparable.
    "list_of_sets": (
        {115},
        lambda a: [[set(x) if isinstance(x, list) and x else {} for x in a[0]]],
    ),
    "all_tuples": ({580, 615, 791}, lambda a: list(_tuples(a))),
}

SPECIAL_ORACLES = {
    "similar_elements": "set_eq",
    "find_char_long": "set_eq",
    "common_in_nested_lists": "set_eq",
    "extract_singly": "set_eq",
    "larg_nnum": "set_eq",
    "intersection_array": "set_eq",
    "find_dissimilar": "set_eq",
    "Diff": "set_eq",
    "check_str": "not_none",
    "text_match_three": "not_none",
    "text_starta_endb": "not_none",
    "are_equivalent": "always",
    "sum_div": "or_zero",
    "surface_Area": "pyramid_surface",
    "digit_distance_nums": "padded_digits",
}


def restore_types(task_number: int, inputs: list) -> list:
    for numbers, convert in ARG_TYPES.values():
        if task_number in numbers:
            return [convert(args) for args in inputs]
    return inputs


class MbppPlus(IOBenchmark):
    name = "mbpp-plus"
    description = "MBPP+ (EvalPlus), base and plus tests, pass@k by sandboxed execution"
    size_hint = 378
    completion_stops = tuple(s for s in COMPLETION_STOPS if s != "\ndef ")
    data_files = {
        "problems": DataFile(
            mirror_path="mbppplus/MbppPlus.jsonl.gz",
            sha256="af43697e8791c4c149bdfd6b489d8b5412507551ac20e28a439f650b8225db63",
            source_repo="github:evalplus/mbppplus_release",
            revision="dadf43da556a00f7bacd71cb154f2932757d9144",
            url="https://raw.githubusercontent.com/evalplus/mbppplus_release/"
            "dadf43da556a00f7bacd71cb154f2932757d9144/MbppPlus.jsonl.gz",
        )
    }

    def _records(self) -> list[dict]:
        return read_jsonl(self.files()["problems"].path)

    def load(self) -> list[Sample]:
        return [
            self.make_sample(r["task_id"], r["prompt"], r["entry_point"]) for r in self._records()
        ]

    def io_tasks(self) -> dict[str, IOTask]:
        tasks = {}
        for r in self._records():
            number = int(r["task_id"].split("/")[-1])
            tasks[r["task_id"]] = IOTask(
                task_id=r["task_id"],
                reference_code=r["canonical_solution"],
                entry_point=r["entry_point"],
                base_inputs=restore_types(number, r["base_input"] or []),
                plus_inputs=restore_types(number, r["plus_input"] or []),
                atol=float(r.get("atol") or 0.0),
                oracle=SPECIAL_ORACLES.get(r["entry_point"]),
            )
        return tasks
