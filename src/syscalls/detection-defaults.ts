/**
 * What the monitor's built-in rules look for by default, as data: the rule ids and the name lists that
 * tell an attack from routine work. The monitor's rules and the Falco exporter both read them here, so
 * a Falco site and a sysfence monitor agree on what a web server, a shell or a time daemon is.
 */

/** The built-in monitor rules, by their stable ids (alerts, Falco tags and runbooks key on them). */
export const BUILTIN_RULE_IDS = [
  'rate-breaker',
  'baseline-deviation',
  'dropper-exec',
  'spawn-burst',
  'vfork-exec',
  'ptrace-inject',
  'time-tamper',
] as const;

/** Directories where a freshly written executable is suspicious (dropper-exec). */
export const WRITABLE_DIRS: readonly string[] = ['/tmp', '/dev/shm', '/var/tmp', '/run/user'];

/** JVMs and web servers: a shell spawned by one is Log4Shell-style (vfork-exec). A trailing * is a prefix. */
export const SERVER_NAMES: readonly string[] = [
  'java',
  'nginx',
  'httpd',
  'apache2',
  'node',
  'nodejs',
  'php-fpm*',
  'php-cgi*',
  'tomcat*',
  'catalina*',
  'jsvc',
  'uwsgi',
  'gunicorn*',
  'lighttpd',
  'caddy',
];

/** Shells, interpreters and downloaders a compromised server starts (vfork-exec). */
export const INTERPRETER_NAMES: readonly string[] = [
  'sh',
  'bash',
  'dash',
  'zsh',
  'ksh',
  'ash',
  'csh',
  'tcsh',
  'busybox',
  'curl',
  'wget',
  'python*',
  'perl*',
  'ruby*',
  'php',
  'lua*',
  'nc',
  'ncat',
  'netcat',
  'socat',
  'telnet',
];

/** Executables whose job is to set the clock (time-tamper exceptions). */
export const TIME_DAEMONS: readonly string[] = [
  '/usr/sbin/ntpd',
  '/usr/sbin/chronyd',
  '/usr/lib/systemd/systemd-timesyncd',
  '/lib/systemd/systemd-timesyncd',
  '/usr/sbin/openntpd',
  '/usr/sbin/ptp4l',
  '/usr/sbin/phc2sys',
];
