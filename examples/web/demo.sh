#!/usr/bin/env bash
# sysfence's main job on the bundled four-layer policy (base → web → region-eu → exceptions-eu):
# lint it, compile it for x86_64, inspect the filter, and run a real program under it; then the
# learning loop on a small python3 job (record with eBPF, learn, enforce), exports and a review report.
set -euo pipefail
cd "$(dirname "$0")"
sysfence() { node ../../bin/sysfence.js "$@"; }
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "lint the layered policy (fails on errors only)"
sysfence check exceptions.yaml --fail-on error

step "compile one filter for an x86_64 kernel"
sysfence compile exceptions.yaml --arch x86_64 --format bpf -o out.bpf

step "which rule decides socket(AF_NETLINK), and why"
sysfence explain exceptions.yaml socket AF_NETLINK

step "the compiled filter's first instructions"
sysfence disasm out.bpf --arch x86_64 | head -12

step "run the compiled filter on a few syscalls"
for call in "read 0" "socket 2" "socket 16" "personality 0xffffffff" "personality 8" "ptrace 16"; do
  # shellcheck disable=SC2086
  printf '%-24s -> %s\n' "$call" "$(sysfence emu out.bpf --arch x86_64 $call)"
done

step "python3 under the policy: IPv4 works, netlink is refused, ptrace kills the process"
set +e
sysfence run --policy exceptions.yaml -- /usr/bin/python3 -c '
import ctypes, socket
socket.socket(socket.AF_INET).close()
print("AF_INET socket: ok")
try:
    socket.socket(socket.AF_NETLINK, socket.SOCK_RAW)
except OSError as error:
    print("AF_NETLINK socket:", error)
print("calling ptrace(PTRACE_ATTACH, 1) ...", flush=True)
ctypes.CDLL(None).ptrace(16, 1, 0, 0)
print("not reached")
'
status=$?
set -e
echo "exit status $status (128 + SIGSYS 31: killed by the filter)"
[ "$status" -eq 159 ]

SCRIPT='import hashlib, json, os; print(json.dumps({"digest": hashlib.sha256(b"sysfence").hexdigest()[:12], "pid": os.getpid() > 0}))'

step "learn: record a python3 job with eBPF (counted in the kernel), then write a policy from the trace"
sysfence record -o out.trace.json -- /usr/bin/python3 -c "$SCRIPT"
sysfence learn out.trace.json -o out.learned.yaml --name demo-job --tolerance 10%
grep -c '^  - ' out.learned.yaml | sed 's/^/rules in the learned policy: /'

step "the job runs under its learned policy; starting a shell from it is refused"
sysfence run --policy out.learned.yaml -- /usr/bin/python3 -c "$SCRIPT"
sysfence run --policy out.learned.yaml -- /usr/bin/python3 -c '
import os
try:
    os.execv("/bin/sh", ["/bin/sh", "-c", "id"])
except OSError as error:
    print("exec /bin/sh:", error)
'

step "export: the learned policy as a systemd drop-in and OCI JSON, the layered one as AppArmor and audit rules"
sysfence convert out.learned.yaml --to systemd -o out.systemd.conf 2>/dev/null
sysfence convert out.learned.yaml --to oci -o out.oci.json 2>/dev/null
sysfence convert exceptions.yaml --to apparmor -o out.apparmor 2>/dev/null
sysfence convert exceptions.yaml --to auditd --exe /usr/bin/python3 -o out.audit.rules 2>/dev/null
grep -m2 '^SystemCall[A-Za-z]*=.' out.systemd.conf
grep -c '^-a' out.audit.rules | sed 's/^/audit rules: /'

step "review the learned policy against what the job did"
sysfence review out.learned.yaml --trace out.trace.json -o out.review.html
sysfence review out.learned.yaml --trace out.trace.json -o out.review.md
head -12 out.review.md
echo "reports: examples/web/out.review.html, out.review.md"
