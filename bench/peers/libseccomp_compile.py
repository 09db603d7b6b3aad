#!/usr/bin/python3
"""libseccomp peer: builds a filter with libseccomp (Debian python3-seccomp) from a JSON spec and exports
its raw BPF. sysfence's differential tests use it as the oracle for filter decisions and the compile
benchmark as the speed/size peer. Run it with /usr/bin/python3 (the Debian interpreter that has the
`seccomp` module), not a pyenv python.

Input (stdin, JSON):
  {
    "defaultAction": Action,            -- required
    "badArchAction": Action,            -- optional; libseccomp's default is KILL (kill_thread)
    "arches": ["SCMP_ARCH_X86_64", "X32", ...],   -- SCMP_ARCH_* or seccomp.Arch names; required, non-empty
    "optimize": 1 | 2,                  -- CTL_OPTIMIZE: 1 = priority-ordered list, 2 = binary tree
    "unknownSyscalls": "error" | "skip",  -- optional, default "error" (fail closed)
    "rules": [ { "syscall": "name" | number, "action": Action, "errno"?: number,
                 "conditions": [ { "index": 0..5, "op": "eq"|"ne"|"lt"|"le"|"gt"|"ge"|"masked_eq",
                                   "value": int | "decimal string", "mask"?: int | string } ] } ]
  }
  Action is either an object shaped like sysfence's Action ({"kind": "errno", "errno": 1},
  {"kind": "trace", "data": 7}, {"kind": "allow"}, ...) or a string ("allow", "errno", "SCMP_ACT_ERRNO", ...)
  whose errno/data comes from the sibling "errno" field. 64-bit values travel as decimal strings because
  JSON numbers lose precision above 2^53.

--unknown-names instead reads {"arches": [...], "names": [...]} and prints, per arch, the names
libseccomp has no number for there (unknown to it, or absent on that arch); the tests pin the resulting
"too new for libseccomp" lists explicitly.

Output: the raw struct sock_filter array (export_bpf) on stdout, or in --out FILE; with --json, a JSON
object on stdout instead: {"bpf": base64, "skippedRules": [...], "unknownSyscalls": [...],
"buildSeconds": median seconds of filter build + export measured in-process with time.perf_counter over
--repeat runs (so a caller can separate libseccomp's own cost from interpreter start-up)}.

libseccomp behaviours this wrapper has to work around (observed with libseccomp 2.5.4):
  * A new filter contains the native arch; it is removed unless the spec lists it, so the filter checks
    exactly the ABIs asked for.
  * A rule whose action equals the default action is refused (EACCES / errno -13); such rules are no-ops
    and are skipped (reported in skippedRules).
  * A syscall name libseccomp 2.5.4 does not know (e.g. listns, newer than the library) is refused with
    EINVAL (errno -22); "unknownSyscalls": "skip" drops those rules and lists the names, "error" fails.
    A name it knows but some arch lacks (waitpid on x86_64) is accepted and left out on that arch.
  * A syscall given as a number is passed on as is; libseccomp refuses numbers in multi-arch filters
    (EFAULT), so sysfence always sends names.
  * ERRNO(4095) is refused (EINVAL) although the kernel's MAX_ERRNO is 4095; TRAP takes no data.
More behaviours (multiplexing, 32-bit truncation, merge bugs) are documented in libseccomp.ts.
"""

import base64
import ctypes
import ctypes.util
import json
import statistics
import sys
import tempfile
import time

try:
    import seccomp
except ImportError:  # pragma: no cover - environment problem, reported to the caller
    sys.stderr.write(
        "libseccomp_compile: the python seccomp module is missing; install it with "
        "`apt-get install -y python3-seccomp` and run this script with /usr/bin/python3\n"
    )
    sys.exit(3)


class SpecError(Exception):
    """The JSON spec is malformed; the message names the offending field."""


OPS = {
    "eq": seccomp.EQ,
    "ne": seccomp.NE,
    "lt": seccomp.LT,
    "le": seccomp.LE,
    "gt": seccomp.GT,
    "ge": seccomp.GE,
    "masked_eq": seccomp.MASKED_EQ,
}

U64_MAX = (1 << 64) - 1


def parse_u64(raw, where):
    """An unsigned 64-bit value from a JSON number or decimal string."""
    if isinstance(raw, bool) or not isinstance(raw, (int, str)):
        raise SpecError(f"{where}: expected an integer or a decimal string, got {raw!r}")
    value = int(raw, 0) if isinstance(raw, str) else raw
    if value < 0 or value > U64_MAX:
        raise SpecError(f"{where}: {value} is outside 0..2^64-1")
    return value


def parse_action(raw, sibling_errno, where):
    """A libseccomp action from an Action object or a name (+ errno/data from the rule)."""
    if isinstance(raw, dict):
        kind = raw.get("kind")
        data = raw.get("errno", raw.get("data", 0))
    elif isinstance(raw, str):
        kind = raw.lower()
        if kind.startswith("scmp_act_"):
            kind = kind[len("scmp_act_"):]
        data = sibling_errno if sibling_errno is not None else 0
    else:
        raise SpecError(f"{where}: an action is an object with 'kind' or a name, got {raw!r}")
    if not isinstance(data, int) or data < 0 or data > 0xFFFF:
        raise SpecError(f"{where}: action data {data!r} is not 0..65535")
    if kind == "allow":
        return seccomp.ALLOW
    if kind == "errno":
        return seccomp.ERRNO(data)
    if kind in ("kill_process",):
        return seccomp.KILL_PROCESS
    if kind in ("kill_thread", "kill"):
        return seccomp.KILL
    if kind == "trap":
        if data != 0:
            raise SpecError(f"{where}: libseccomp's TRAP carries no data (got {data})")
        return seccomp.TRAP
    if kind == "log":
        return seccomp.LOG
    if kind == "trace":
        return seccomp.TRACE(data)
    if kind in ("notify", "user_notif"):
        return seccomp.NOTIFY
    raise SpecError(f"{where}: unknown action {kind!r}")


def parse_arch(raw, where):
    """A seccomp.Arch from SCMP_ARCH_X86_64 / X86_64 spellings."""
    if not isinstance(raw, str):
        raise SpecError(f"{where}: an arch is a string, got {raw!r}")
    name = raw.upper()
    if name.startswith("SCMP_ARCH_"):
        name = name[len("SCMP_ARCH_"):]
    arch = getattr(seccomp.Arch, name, None)
    if arch is None or name == "NATIVE":
        raise SpecError(f"{where}: unknown libseccomp arch {raw!r}")
    return arch


def parse_condition(raw, where):
    """A seccomp.Arg from {index, op, value, mask?}."""
    index = raw.get("index")
    if not isinstance(index, int) or not 0 <= index <= 5:
        raise SpecError(f"{where}.index: expected 0..5, got {index!r}")
    op = OPS.get(raw.get("op"))
    if op is None:
        raise SpecError(f"{where}.op: expected one of {sorted(OPS)}, got {raw.get('op')!r}")
    value = parse_u64(raw.get("value"), f"{where}.value")
    if raw.get("op") == "masked_eq":
        # libseccomp: SCMP_A0(SCMP_CMP_MASKED_EQ, mask, value) tests (arg & mask) == value.
        return seccomp.Arg(index, op, parse_u64(raw.get("mask"), f"{where}.mask"), value)
    return seccomp.Arg(index, op, value)


NR_SCMP_ERROR = -1


def syscall_known(arches, syscall):
    """True unless libseccomp cannot name the syscall at all. A name it knows but an arch lacks resolves to
    a negative pseudo number there (waitpid on x86_64: -10073) and libseccomp skips that arch itself; a name
    it does not know resolves to __NR_SCMP_ERROR (-1) everywhere and add_rule fails with EINVAL."""
    if isinstance(syscall, int):
        return True
    return any(seccomp.resolve_syscall(arch, syscall) != NR_SCMP_ERROR for arch in arches)


def as_signed32(value):
    """AUDIT_ARCH values as the signed ints python-seccomp uses."""
    return value - (1 << 32) if value >= (1 << 31) else value


def new_filter(spec, arches):
    """An empty filter with the spec's default/bad-arch actions, optimizer level and exactly its arches."""
    default = parse_action(spec.get("defaultAction"), spec.get("defaultErrno"), "defaultAction")
    flt = seccomp.SyscallFilter(default)
    if "badArchAction" in spec:
        flt.set_attr(
            seccomp.Attr.ACT_BADARCH,
            parse_action(spec["badArchAction"], spec.get("badArchErrno"), "badArchAction"),
        )
    optimize = spec.get("optimize", 1)
    if optimize not in (1, 2):
        raise SpecError(f"optimize: expected 1 or 2, got {optimize!r}")
    flt.set_attr(seccomp.Attr.CTL_OPTIMIZE, optimize)
    # system_arch() is unsigned while seccomp.Arch values are signed 32-bit ints; compare as signed.
    native = as_signed32(seccomp.system_arch())
    for arch in arches:
        if not flt.exist_arch(arch):
            flt.add_arch(arch)
    if native not in [as_signed32(int(a)) for a in arches]:
        flt.remove_arch(native)
    return flt, default


def build(spec):
    """Builds and exports the filter; returns (bpf bytes, skipped rules, unknown syscall names)."""
    raw_arches = spec.get("arches")
    if not isinstance(raw_arches, list) or not raw_arches:
        raise SpecError("arches: expected a non-empty list")
    arches = [parse_arch(a, f"arches[{i}]") for i, a in enumerate(raw_arches)]
    flt, default = new_filter(spec, arches)
    skipped, unknown = [], []
    policy = spec.get("unknownSyscalls", "error")
    for i, rule in enumerate(spec.get("rules", [])):
        where = f"rules[{i}]"
        action = parse_action(rule.get("action"), rule.get("errno"), f"{where}.action")
        syscall = rule.get("syscall")
        if not isinstance(syscall, (str, int)) or isinstance(syscall, bool):
            raise SpecError(f"{where}.syscall: expected a name or number, got {syscall!r}")
        if action == default:
            skipped.append({"rule": i, "why": "action equals the default action"})
            continue
        if not syscall_known(arches, syscall):
            if policy == "skip":
                unknown.append(syscall)
                skipped.append({"rule": i, "why": f"libseccomp does not know {syscall}"})
                continue
            raise SpecError(f"{where}.syscall: libseccomp {version()} does not know {syscall!r}")
        conditions = [
            parse_condition(c, f"{where}.conditions[{j}]") for j, c in enumerate(rule.get("conditions", []))
        ]
        try:
            flt.add_rule(action, syscall, *conditions)
        except RuntimeError as err:
            raise SpecError(f"{where}: libseccomp refused the rule for {syscall!r}: {err}") from err
    return export_bpf(flt), skipped, sorted(set(unknown))


def export_bpf(flt):
    """export_bpf writes to a file descriptor; an anonymous temporary file holds it (a pipe could fill)."""
    with tempfile.TemporaryFile() as out:
        flt.export_bpf(out)
        out.seek(0)
        return out.read()


def version():
    """The runtime libseccomp version (seccomp_version() through ctypes), for messages and reports."""
    try:
        lib = ctypes.CDLL(ctypes.util.find_library("seccomp") or "libseccomp.so.2")
        lib.seccomp_version.restype = ctypes.POINTER(ctypes.c_uint * 3)
        major, minor, micro = lib.seccomp_version().contents
        return f"{major}.{minor}.{micro}"
    except (OSError, AttributeError):
        return "unknown"


def timed_build(spec, repeat):
    """Builds `repeat` times; returns the last result and the median build + export time in seconds."""
    times = []
    result = None
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        result = build(spec)
        times.append(time.perf_counter() - start)
    return result, statistics.median(times)


def unknown_names(query):
    """For {"arches": [...], "names": [...]}: per arch (as given), the names libseccomp cannot resolve there."""
    names = query.get("names")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise SpecError("names: expected a list of syscall names")
    result = {}
    for i, raw in enumerate(query.get("arches") or []):
        arch = parse_arch(raw, f"arches[{i}]")
        result[raw] = [name for name in names if seccomp.resolve_syscall(arch, name) < 0]
    return result


def parse_cli(argv):
    """--out FILE, --json, --repeat N, --unknown-names."""
    options = {"out": None, "json": False, "repeat": 1, "unknown_names": False}
    args = list(argv)
    while args:
        flag = args.pop(0)
        if flag == "--out" and args:
            options["out"] = args.pop(0)
        elif flag == "--json":
            options["json"] = True
        elif flag == "--unknown-names":
            options["unknown_names"] = True
        elif flag == "--repeat" and args:
            options["repeat"] = int(args.pop(0))
        else:
            raise SpecError(
                f"usage: libseccomp_compile.py [--out FILE] [--json] [--repeat N] | --unknown-names; bad {flag!r}"
            )
    return options


def main():
    try:
        options = parse_cli(sys.argv[1:])
        spec = json.load(sys.stdin)
        if not isinstance(spec, dict):
            raise SpecError("the spec is a JSON object")
        if options["unknown_names"]:
            json.dump(unknown_names(spec), sys.stdout)
            return 0
        (bpf, skipped, unknown), seconds = timed_build(spec, options["repeat"])
    except (SpecError, ValueError) as err:
        sys.stderr.write(f"libseccomp_compile: {err}\n")
        return 2
    if options["out"]:
        with open(options["out"], "wb") as out:
            out.write(bpf)
    if options["json"]:
        json.dump(
            {
                "bpf": base64.b64encode(bpf).decode("ascii"),
                "skippedRules": skipped,
                "unknownSyscalls": unknown,
                "buildSeconds": seconds,
                "libseccompVersion": version(),
            },
            sys.stdout,
        )
    elif not options["out"]:
        sys.stdout.buffer.write(bpf)
    return 0


if __name__ == "__main__":
    sys.exit(main())
