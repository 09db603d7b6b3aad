#!/usr/bin/env bash
# Installs and starts what sysfence's tests and examples need on a Debian machine (run as root).
# Idempotent: safe to run on every CI run and on a developer machine that already has everything.
set -euo pipefail

PACKAGES=(
  gcc libc6-dev          # test helpers: small C programs that issue raw syscalls (x32, int 0x80)
  python3-seccomp        # libseccomp, the test oracle and benchmark peer (Debian's /usr/bin/python3)
  auditd                 # type=SECCOMP records for log-mode rollouts
  strace bpftrace        # recording sources
  runc apparmor          # ecosystem validation: OCI runtime, apparmor_parser
  python3                # a real workload to run under policies
  busybox                # a second real server (busybox httpd) for record → learn → run
  systemd                # systemd-analyze: validates exported unit drop-ins
  chromium               # headless browser for the review report test (driven by playwright-core)
  fonts-wqy-zenhei       # CJK glyphs, so the --lang zh report renders text rather than boxes
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# auditd: the kernel's audit records reach /var/log/audit/audit.log only while the daemon runs.
if ! pgrep -x auditd >/dev/null; then
  mkdir -p /var/log/audit
  /sbin/auditd || echo "setup: warning: auditd did not start; log-mode tests will say why"
fi

# tracefs: bpftrace attaches to tracepoints through it.
if [ ! -d /sys/kernel/tracing/events ]; then
  mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null || echo "setup: warning: could not mount tracefs"
fi
echo "setup: ok"
