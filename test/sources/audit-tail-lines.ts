/** Synthetic auditd lines for the tail tests: event `serial` is made by pid `serial`, so ids are checkable. */

/** One single-record event (type=SECCOMP, no EOE). */
function seccompLines(serial: number): string[] {
  return [
    `type=SECCOMP msg=audit(1700000000.${String(serial % 1000).padStart(3, '0')}:${serial}): auid=4294967295 uid=0 gid=0 ` +
      `ses=4294967295 pid=${serial} comm="w" exe="/usr/bin/w" sig=0 arch=c000003e syscall=39 compat=0 ` +
      `ip=0x7f00 code=0x7ffc0000`,
  ];
}

/** One three-record event: SYSCALL, PROCTITLE, EOE. */
function syscallLines(serial: number): string[] {
  const id = `msg=audit(1700000000.${String(serial % 1000).padStart(3, '0')}:${serial}):`;
  return [
    `type=SYSCALL ${id} arch=c000003e syscall=257 success=no exit=-13 a0=ffffff9c a1=55 a2=241 a3=1b6 ` +
      `items=0 ppid=1 pid=${serial} auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 ` +
      `fsgid=0 tty=(none) ses=4294967295 comm="sh" exe="/usr/bin/dash" key=(null)`,
    `type=PROCTITLE ${id} proctitle=7368`,
    `type=EOE ${id} `,
  ];
}

/** The log text (newline-terminated lines) of events first … first+count-1, alternating kinds. */
export function auditText(first: number, count: number): string {
  const lines: string[] = [];
  for (let serial = first; serial < first + count; serial += 1) {
    lines.push(...(serial % 2 === 0 ? seccompLines(serial) : syscallLines(serial)));
  }
  return lines.map((line) => `${line}\n`).join('');
}
