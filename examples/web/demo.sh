#!/usr/bin/env bash
# sysfence's main job on the bundled four-layer policy (base → web → region-eu → exceptions-eu):
# lint it, compile it for x86_64, inspect the filter, and run a real program under it.
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
