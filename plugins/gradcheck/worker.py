"""A post's process: runs one post's executed blocks, like a notebook, and ends with it.

``launcher.py`` gives each post a fresh process (forked from a warm parent, or spawned)
and calls ``run_child``; no post ever runs in a process another post has touched. For each
block the child sends, in order, on a pipe made for this post alone (see ``channel.py``):

    ("start", block_index, seconds_allowed)   before each block
    ("block", block_result)                    after each block (also when it failed)
    ("done", post_info)                        at the end of the post

so that a post which kills the process (``os._exit``, a segfault, a memory bomb the
kernel stops) still reports the blocks that finished, and the runner knows which block
was running. Everything sent is plain JSON data.
"""

from __future__ import annotations

import ast
import builtins
import json
import linecache
import numbers
import os
import random
import signal
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

# the runner puts this package under a private name; both spellings work
from . import channel, figures, shapes
from .limits import OUTPUT_LIMIT, BlockTimeout, CappedWriter, OutputLimit, limit_memory

TRUNCATED_SHOWN = 20_000


def _register_source(rel: str, blocks: list[dict]) -> None:
    """Make tracebacks show the post's lines: a fake file with each block at its place."""
    last = max((b["line"] + b["code"].count("\n") for b in blocks), default=0)
    lines = ["\n"] * (last + 1)
    for block in blocks:
        for i, text in enumerate(block["code"].splitlines()):
            lines[block["line"] - 1 + i] = text + "\n"
    linecache.cache[rel] = (len("".join(lines)), None, lines, rel)


def _post_traceback(exc: BaseException, rel: str) -> tuple[str, int | None]:
    """The traceback restricted to frames in the post (the runner's own frames are noise),
    and the post line where the error surfaced."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == rel]
    line = frames[-1].lineno if frames else getattr(exc, "lineno", None)
    text = "Traceback (most recent call last):\n" if frames else ""
    text += "".join(traceback.format_list(frames))
    text += "".join(traceback.format_exception_only(type(exc), exc))
    return text, line


def _check_options(function: str, options: dict[str, Any]) -> None:
    """A wrong type is the author's error at their line, not something for the page to
    trip over later: names must be strings, tolerances numbers."""
    for key in ("name", "eq"):
        value = options.get(key)
        if value is not None and not isinstance(value, str):
            raise TypeError(f"{function}: {key} must be a string, not {type(value).__name__}")
    for key in ("rtol", "atol", "n_sigma"):
        value = options.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Real)):
            raise TypeError(f"{function}: {key} must be a number, not {type(value).__name__}")


class Session:
    """One post's run: the namespace, the checks recorded, the sizes named."""

    def __init__(self, np: Any, checker: Any, job: dict[str, Any]) -> None:
        self.np = np
        self.checker = checker
        self.job = job
        self.rel: str = job["rel"]
        self.declared: dict[str, int] = {}
        self.trees: list[ast.Module] = []
        self.checks: list[dict[str, Any]] = []
        self.block: dict[str, Any] = {}
        self.namespace: dict[str, Any] = {
            "__name__": "__post__",
            "__builtins__": builtins,
            "np": np,
            "rng": np.random.default_rng(job["seed"]),
            "check_grad": self.check_grad,
            "check_vjp": self.check_vjp,
            "dims": self.dims,
        }

    # -- the API the author's code sees

    def dims(self, **sizes: int) -> None:
        """``dims(N=4, D=3)``: define N and D and name those sizes in tables."""
        for name, value in sizes.items():
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"dims: {name} must be an int, not {type(value).__name__}")
            self.namespace[name] = value
            self.declared[name] = value

    def check_grad(self, f: Any, x: Any, grad: Any, **options: Any) -> Any:
        return self._check(self.checker.check_grad, (f, x, grad), options)

    def check_vjp(self, f: Any, x: Any, upstream: Any, grad: Any, **options: Any) -> Any:
        return self._check(self.checker.check_vjp, (f, x, upstream, grad), options)

    def _check(self, function: Any, args: tuple, options: dict[str, Any]) -> Any:
        _check_options(function.__name__, options)
        frame = sys._getframe(2)  # the author's line that called check_grad/check_vjp
        line = frame.f_lineno if frame.f_code.co_filename == self.rel else None
        block_options = self.block.get("options", {})
        for key in ("rtol", "atol"):
            value = block_options.get(key)
            if value is None:
                value = self.job.get(key)
            if value is not None and options.get(key) is None:
                options[key] = value
        options.setdefault("sizes", self.sizes())
        symbols = options.pop("symbols", None)  # for the equation reader, not the checker
        started = time.perf_counter()
        result = function(*args, **options)
        record = result.to_dict()
        if record.get("error_map"):
            # a 100,000-entry map would bloat the pipe, the cache and the page: pool it here
            record["error_map"] = figures.pool_grid(record["error_map"])
        record["line"] = line
        record["time"] = round(time.perf_counter() - started, 4)
        record["trace"] = None
        scope = {**frame.f_globals, **frame.f_locals}  # the namespace at the time of the check
        record.update(_read_equation(self.job, record, function, args, options, scope, symbols))
        if line is not None:
            try:
                trace = shapes.trace_check(self.trees, line, scope, self.names(scope))
            except Exception:
                trace = None  # a trace is a courtesy; never fail a check over it
            record["trace"] = trace.text() if trace else None
        self.checks.append(record)
        return result

    # -- sizes

    def sizes(self) -> dict[str, int]:
        if self.declared:
            return dict(self.declared)
        return {
            k: v
            for k, v in self.namespace.items()
            if type(v) is int and not k.startswith("_") and v > 1
        }

    def names(self, scope: dict[str, Any] | None = None) -> dict[int, str]:
        return shapes.size_names(self.declared, scope or self.namespace)

    # -- running

    def arrays(self, tree: ast.Module) -> list[dict[str, Any]]:
        names = self.names()
        table = []
        for name in shapes.bound_names(tree):
            value = self.namespace.get(name)
            if isinstance(value, self.np.ndarray):
                table.append(
                    {
                        "name": name,
                        "shape": [int(d) for d in value.shape],
                        "named": shapes.named_shape(value.shape, names),
                        "dtype": str(value.dtype),
                    }
                )
        return table

    def run_block(self, block: dict[str, Any], seconds: float) -> dict[str, Any]:
        self.block = block
        self.checks = []
        seed = block["options"].get("seed")
        if seed is not None:  # ``python verify seed=N``: this block draws from a fresh rng
            self.namespace["rng"] = self.np.random.default_rng(seed)
        result: dict[str, Any] = {
            "index": block["index"],
            "kind": block["kind"],
            "line": block["line"],
            "checks": self.checks,
            "arrays": [],
            "output": "",
            "error": None,
            "error_kind": None,
            "error_line": None,
        }
        out = CappedWriter(OUTPUT_LIMIT)
        started = time.perf_counter()
        tree: ast.Module | None = None
        try:
            tree = ast.parse(block["code"], filename=self.rel)
            ast.increment_lineno(tree, block["line"] - 1)
            self.trees.append(tree)
            code = compile(tree, self.rel, "exec")
            old = sys.stdout, sys.stderr
            sys.stdout = sys.stderr = out
            signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.001))
            try:
                with self.np.errstate(all="warn"):
                    exec(code, self.namespace)  # noqa: S102 - running the post is the point
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
                sys.stdout, sys.stderr = old
        except SyntaxError as exc:
            line = (exc.lineno or 1) + (block["line"] - 1 if tree is None else 0)
            result.update(
                error=f'File "{self.rel}", line {line}\nSyntaxError: {exc.msg}',
                error_kind="syntax",
                error_line=line,
            )
        except BlockTimeout as exc:
            _, line = _post_traceback(exc, self.rel)
            limit = block["options"].get("timeout") or self.job["timeout"]
            result.update(
                error=f"timed out: the time limit is {limit:g} s (stopped at line {line})",
                error_kind="timeout",
                error_line=line,
            )
        except OutputLimit as exc:
            _, line = _post_traceback(exc, self.rel)
            result.update(
                error=f"{exc}; output cut off", error_kind="output", error_line=line
            )
        except SystemExit as exc:
            _, line = _post_traceback(exc, self.rel)
            result.update(
                error=f"the code called sys.exit({exc.code!r})",
                error_kind="exit",
                error_line=line,
            )
        except MemoryError as exc:
            _, line = _post_traceback(exc, self.rel)
            limit = self.job["memory_mb"]
            result.update(
                error=f"out of memory: the post may use {limit} MB (MemoryError at line {line})",
                error_kind="memory",
                error_line=line,
            )
        except BaseException as exc:  # the author's bug: show it like Python would
            text, line = _post_traceback(exc, self.rel)
            if (
                isinstance(exc, AssertionError)
                and self.checks
                and self.checks[-1]["line"] == line
                and self.checks[-1]["status"] != "pass"
            ):
                pass  # ``assert check_grad(...)``: the failed check already says it
            else:
                result.update(error=text, error_kind="exception", error_line=line)
        output = out.take()
        if len(output) > TRUNCATED_SHOWN:
            output = output[:TRUNCATED_SHOWN] + "\n… (output cut off)\n"
        result["output"] = output
        result["time"] = round(time.perf_counter() - started, 4)
        if tree is not None and result["error_kind"] != "syntax":
            result["arrays"] = self.arrays(tree)
        return result


def _read_equation(job: dict[str, Any], record: dict[str, Any], function: Any, args: tuple,
                   options: dict[str, Any], scope: dict[str, Any], symbols: Any) -> dict:
    """The check's ``equation_*`` fields: the equation it names, read and evaluated."""
    from .tex import read_check  # imports numpy: only ever in the worker

    started = time.perf_counter()
    fields = read_check(job, record, function, args, options, scope, symbols)
    fields["equation_time"] = round(time.perf_counter() - started, 4)
    return fields


def _seed_globals(np: Any, seed: int) -> None:
    """The legacy global RNGs start where a fresh interpreter's seeded ones would."""
    np.random.seed(seed)
    random.seed(seed)


def _sendable(result: dict[str, Any]) -> dict[str, Any]:
    """``result`` if it is plain JSON data, else the block's error saying why not."""
    try:
        json.dumps(result)
    except (TypeError, ValueError) as exc:
        return dict(
            result,
            checks=[],
            arrays=[],
            output="",
            error=f"the block's results could not be sent: {exc}",
            error_kind="exception",
            error_line=result["line"],
        )
    return result


def run_post(np: Any, checker: Any, job: dict[str, Any], send: Callable[[Any], None]) -> None:
    started = time.perf_counter()
    session = Session(np, checker, job)
    _register_source(job["rel"], job["blocks"])
    _seed_globals(np, job["seed"])
    limit_memory(job["memory_mb"])
    budget = float(job["timeout"])
    for block in job["blocks"]:
        own = block["options"].get("timeout")
        seconds = float(own) if own else max(budget - (time.perf_counter() - started), 0.01)
        send(["start", block["index"], seconds])
        result = _sendable(session.run_block(block, seconds))
        send(["block", result])
        if result["error"]:
            break  # like a notebook's "run all": later blocks depend on this one
    names = session.names()
    send(
        [
            "done",
            {
                "sizes": session.sizes(),
                "size_names": {str(k): v for k, v in names.items()},
                "time": round(time.perf_counter() - started, 4),
            },
        ]
    )


def _sender(fd: int, token: bytes) -> Callable[[Any], None]:
    def send(message: Any) -> None:
        channel.write_all(fd, channel.encode(token, message))

    return send


def run_child(np: Any, checker: Any, job: dict[str, Any], result_fd: int) -> None:
    """Run the post and end the process: nothing of it may outlive the post."""
    code = 0
    try:
        run_post(np, checker, job, _sender(result_fd, bytes.fromhex(job["token"])))
    except BaseException:
        traceback.print_exc(file=sys.__stderr__)
        code = 70
    finally:
        os._exit(code)
