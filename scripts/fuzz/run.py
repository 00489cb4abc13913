#!/usr/bin/env python3
"""ModelPress's fuzz harness: mutates the seed corpus (fixtures/fuzz/seeds and the fixture
models), runs the binary on every mutant in a fresh folder, and classifies the outcome.

Outcomes:
  ok        exit 0
  refused   exit 1 or 2 with a message naming the mutant's file, or for a weights +
            architecture pair its companion (the contract for bad input)
  unnamed   exit 1 or 2, but the message does not name the file
  internal  exit 3 (an internal error: a ModelPress bug, reported cleanly)
  crash     killed by a signal, or an exit code outside 0-3
  hang      still running after --timeout seconds (then killed)
  memory    peak RSS of the process tree above --max-rss-mb
  leftover  temporary or partial files left behind after the run
The last six are findings. Same --seed and --count, same mutants (the report lists the
strategy and a digest of each finding).

  run.py --binary B --count N [--formats a,b] [--jobs J] [--save DIR] [--json FILE]
  run.py --binary B --per-format N --formats a,b    # N mutants of each listed format
  run.py --binary B --replay fixtures/fuzz/regressions   # every file must be refused
"""

from __future__ import annotations

import argparse
import concurrent.futures
import functools
import hashlib
import itertools
import json
import os
import random
import resource
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from formats import BY_NAME, FORMATS, Format  # noqa: E402
from mutators import mutate  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
FINDINGS = ("unnamed", "internal", "crash", "hang", "memory", "leftover")
OUTCOMES = ("ok", "refused") + FINDINGS


@dataclass
class Result:
    """One run of the binary on one input."""

    format: str
    case: str          # "<seed name>#<index>" or the regression file's name
    strategy: str
    outcome: str
    exit_code: int | None
    seconds: float
    peak_rss_mb: float
    digest: str
    message: str       # the last lines of stderr


def seed_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    if path.suffix in (".yaml", ".yml"):
        data = data.replace(b"@ROOT@", str(ROOT).encode())
    return data


def run_binary(binary: str, args: list[str], cwd: Path, timeout: float, address_limit_mb: int) -> tuple[int | None, int | None, float, float, str]:
    """Runs `binary args` in its own process group; returns (exit code, signal, seconds,
    peak RSS MB of the process and its waited-for children, stderr)."""
    stderr_path = cwd / "stderr.txt"
    env = dict(os.environ, TMPDIR=str(cwd / "tmp"), CI="true")

    def limits() -> None:
        os.setsid()
        limit = address_limit_mb << 20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    start = time.monotonic()
    with open(stderr_path, "wb") as err, open(os.devnull, "wb") as out:
        pid = os.fork()
        if pid == 0:  # child
            try:
                os.chdir(cwd)
                os.dup2(out.fileno(), 1)
                os.dup2(err.fileno(), 2)
                limits()
                os.execve(binary, [binary] + args, env)
            finally:
                os._exit(127)
    deadline = start + timeout
    delay = 0.002
    while True:
        waited, status, usage = os.wait4(pid, os.WNOHANG)
        if waited == pid:
            break
        if time.monotonic() > deadline:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            _, status, usage = os.wait4(pid, 0)
            return None, None, time.monotonic() - start, usage.ru_maxrss / 1024, stderr_path.read_text(errors="replace")
        time.sleep(delay)
        delay = min(delay * 2, 0.02)
    seconds = time.monotonic() - start
    try:
        os.killpg(pid, signal.SIGKILL)  # any grandchild left running
    except (ProcessLookupError, PermissionError):
        pass
    code = os.waitstatus_to_exitcode(status)
    text = stderr_path.read_text(errors="replace")
    if code < 0:
        return None, -code, seconds, usage.ru_maxrss / 1024, text
    return code, None, seconds, usage.ru_maxrss / 1024, text


def leftovers(case_dir: Path) -> list[str]:
    """Temporary files and partial outputs left after the run."""
    found = [str(p.relative_to(case_dir)) for p in (case_dir / "tmp").rglob("*")]
    for p in case_dir.rglob("*"):
        if ".partial" in p.name or p.name.startswith(".tmp"):
            found.append(str(p.relative_to(case_dir)))
    return found


def run_case(binary: str, fmt: Format, make, args: argparse.Namespace, work: Path) -> tuple[Result, bytes]:
    """Makes one input, runs it, and classifies the outcome; returns the input only for findings."""
    name, case, strategy, data = make()
    case_dir = Path(tempfile.mkdtemp(prefix="case-", dir=work))
    (case_dir / "tmp").mkdir()
    (case_dir / "out").mkdir()
    mutant = case_dir / name
    mutant.write_bytes(data)
    for companion, seed in fmt.companions.items():
        shutil.copyfile(ROOT / seed, case_dir / companion)
    if fmt.name == "weights-h5":  # the architecture JSON sits beside the weights as <stem>.json
        os.replace(case_dir / "model.json", case_dir / (name.removesuffix(".weights.h5") + ".json"))
    command = [a.format(file=str(mutant), out=str(case_dir / "out"), root=str(ROOT), dir=str(case_dir))
               for a in fmt.command]
    code, sig, seconds, rss, stderr = run_binary(binary, command, case_dir, args.timeout, args.address_limit_mb)
    lines = [line for line in stderr.splitlines() if line.strip()]
    message = "\n".join(lines[-3:])
    if code is None and sig is None:
        outcome = "hang"
    elif sig is not None or code not in (0, 1, 2, 3):
        outcome = "crash"
        message = f"signal {sig}" if sig is not None else f"exit {code}: {message}"
    elif rss > args.max_rss_mb:
        outcome = "memory"
    elif code == 3:
        outcome = "internal"
    elif code == 0:
        outcome = "ok"
    else:
        # a weights + architecture pair may be named by either file
        names = [name, *fmt.companions, *(p.name for p in case_dir.glob(name.split(".")[0] + ".*"))]
        outcome = "refused" if any(n in stderr for n in names) else "unnamed"
    left = leftovers(case_dir)
    if outcome in ("ok", "refused") and left:
        outcome, message = "leftover", "left behind: " + ", ".join(left[:5])
    digest = hashlib.sha256(data).hexdigest()[:16]
    shutil.rmtree(case_dir, ignore_errors=True)
    result = Result(fmt.name, case, strategy, outcome, code, round(seconds, 3), round(rss, 1), digest, message)
    return result, data if outcome in FINDINGS else b""


def mutants(fmt: Format, count: int, seed: int):
    """`count` deterministic mutants of the format's seeds, each as (format, make), where
    make() returns (file name, case, strategy, bytes). Mutants are made in the workers, one
    at a time: the harness stays small, and a forked run's peak RSS includes the harness's."""
    seeds = [(Path(s).name, seed_bytes(ROOT / s)) for s in fmt.seeds]

    def make(index: int):
        rng = random.Random(f"{seed}:{fmt.name}:{index}")
        seed_name, data = seeds[index % len(seeds)]
        strategy, mutant = mutate(fmt.kind, data, rng)
        return f"mutant{index}{fmt.suffix}", f"{seed_name}#{index}", strategy, mutant

    for index in range(count):
        yield fmt, functools.partial(make, index)


def replay_cases(directory: Path):
    """The regression corpus: cases.json lists each file with its format."""
    cases = json.loads((directory / "cases.json").read_text())
    for entry in cases:
        file = entry["file"]
        yield BY_NAME[entry["format"]], lambda file=file: (file, file, "regression", seed_bytes(directory / file))


def table(results: list[Result]) -> str:
    """Counts by format and outcome, as a Markdown table."""
    names = [f.name for f in FORMATS if any(r.format == f.name for r in results)]
    rows = ["| format | mutants | " + " | ".join(OUTCOMES) + " | max s | max RSS MB |",
            "|---|" + "---:|" * (len(OUTCOMES) + 3)]
    for name in names + ["all"]:
        mine = [r for r in results if name in ("all", r.format)]
        counts = [sum(r.outcome == o for r in mine) for o in OUTCOMES]
        label = f"**{name}**" if name == "all" else name
        rows.append(f"| {label} | {len(mine)} | " + " | ".join(map(str, counts))
                    + f" | {max(r.seconds for r in mine):.2f} | {max(r.peak_rss_mb for r in mine):.0f} |")
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=str(ROOT / ".build/release/modelpress"))
    parser.add_argument("--count", type=int, default=100, help="mutants in all, spread evenly over the formats")
    parser.add_argument("--per-format", type=int, help="mutants of each chosen format (instead of --count)")
    parser.add_argument("--formats", default="", help="comma-separated format names (default: all)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--max-rss-mb", type=float, default=512.0)
    parser.add_argument("--address-limit-mb", type=int, default=8192, help="RLIMIT_AS of each run, a safety net")
    parser.add_argument("--replay", type=Path, help="run the regression corpus in this folder instead of mutants")
    parser.add_argument("--save", type=Path, help="copy every finding's input here, with a JSON sidecar")
    parser.add_argument("--json", type=Path, help="write every result here")
    args = parser.parse_args()
    binary = str(Path(args.binary).resolve())

    if args.replay:
        work_items = list(replay_cases(args.replay))
        total = len(work_items)
    else:
        chosen = [BY_NAME[n] for n in args.formats.split(",") if n] or FORMATS
        if args.per_format is not None:
            args.count = args.per_format * len(chosen)
        per_format, extra = divmod(args.count, len(chosen))
        work_items = itertools.chain.from_iterable(
            mutants(fmt, per_format + (1 if i < extra else 0), args.seed) for i, fmt in enumerate(chosen))
        total = args.count

    results: list[Result] = []
    work = Path(tempfile.mkdtemp(prefix="modelpress-fuzz-"))
    interactive = sys.stderr.isatty()
    started = time.monotonic()

    def handle(outcome: tuple[Result, bytes], done: int) -> None:
        result, data = outcome
        results.append(result)
        if result.outcome in FINDINGS:
            print(f"FINDING {result.outcome}: {result.format} {result.case} ({result.strategy}, "
                  f"{result.digest}): {result.message.splitlines()[-1] if result.message else ''}",
                  file=sys.stderr, flush=True)
            if args.save:
                args.save.mkdir(parents=True, exist_ok=True)
                stem = f"{result.format}-{result.outcome}-{result.digest}"
                (args.save / (stem + BY_NAME[result.format].suffix)).write_bytes(data)
                (args.save / (stem + ".json")).write_text(json.dumps(result.__dict__, indent=2))
        if interactive:
            print(f"\r{done}/{total} inputs", end="", file=sys.stderr, flush=True)
        elif done % 500 == 0 or done == total:
            print(f"{done}/{total} inputs, {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)

    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
            pending = iter(work_items)
            in_flight: set[concurrent.futures.Future] = set()

            def submit(n: int) -> None:  # a few inputs per worker in flight, never all of them
                for fmt, make in itertools.islice(pending, n):
                    in_flight.add(pool.submit(run_case, binary, fmt, make, args, work))

            submit(4 * args.jobs)
            done = 0
            while in_flight:
                finished, _ = concurrent.futures.wait(in_flight, return_when=concurrent.futures.FIRST_COMPLETED)
                in_flight.difference_update(finished)
                submit(len(finished))
                for future in finished:
                    done += 1
                    handle(future.result(), done)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if interactive:
        print(file=sys.stderr)
    results.sort(key=lambda r: (r.format, r.case))
    if args.json:
        args.json.write_text(json.dumps([r.__dict__ for r in results], indent=1))
    print(table(results))
    print(f"\n{len(results)} inputs in {time.monotonic() - started:.0f} s, seed {args.seed}, "
          f"{sum(r.outcome in FINDINGS for r in results)} findings; the harness's own peak RSS, "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB, is an upper bound on what each "
          f"run's peak includes from the fork")
    if args.replay:
        bad = [r for r in results if r.outcome != "refused"]
        for r in bad:
            print(f"regression {r.case}: {r.outcome} (exit {r.exit_code}): {r.message}")
        return 1 if bad else 0
    return 1 if any(r.outcome in FINDINGS for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
