/*
 * enforce-loop: the benchmark's syscall loop. Installs a raw seccomp filter (or none), then times
 * ITERATIONS calls of syscall(NR, ARG...) and prints the best of ROUNDS rounds in nanoseconds per call.
 * The same binary loads every filter, so between runs only the filter differs.
 *
 *   enforce-loop FILTER_FILE|none ROUNDS ITERATIONS NR [ARG...]
 *
 * Output: one line "ns_per_call=<float>". Exit status 2 on bad usage or when the filter is refused.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAX_INSNS 4096

static void fail(const char *what) {
  fprintf(stderr, "enforce-loop: %s: %s\n", what, strerror(errno));
  exit(2);
}

static long parse_number(const char *text) {
  char *end = NULL;
  errno = 0;
  long value = (long)strtoull(text, &end, 0);
  if (errno != 0 || end == text || *end != '\0') {
    fprintf(stderr, "enforce-loop: not a number: %s\n", text);
    exit(2);
  }
  return value;
}

static void install_filter(const char *path) {
  static struct sock_filter insns[MAX_INSNS + 1];
  FILE *file = fopen(path, "rb");
  if (file == NULL) fail(path);
  size_t count = fread(insns, sizeof(struct sock_filter), MAX_INSNS + 1, file);
  fclose(file);
  if (count == 0 || count > MAX_INSNS) {
    fprintf(stderr, "enforce-loop: %s: %zu instructions\n", path, count);
    exit(2);
  }
  struct sock_fprog prog = {.len = (unsigned short)count, .filter = insns};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail("prctl(PR_SET_NO_NEW_PRIVS)");
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) fail("seccomp");
}

/* clock_gettime(CLOCK_MONOTONIC) goes through the vDSO: no syscall, so no filter run, inside the timing. */
static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc < 5 || argc > 11) {
    fprintf(stderr, "usage: enforce-loop FILTER_FILE|none ROUNDS ITERATIONS NR [ARG...]\n");
    return 2;
  }
  long rounds = parse_number(argv[2]);
  long iterations = parse_number(argv[3]);
  long nr = parse_number(argv[4]);
  long a[6] = {0, 0, 0, 0, 0, 0};
  for (int i = 5; i < argc; i++) a[i - 5] = parse_number(argv[i]);
  if (strcmp(argv[1], "none") != 0) install_filter(argv[1]);

  double best = 0;
  for (long round = 0; round < rounds; round++) {
    double start = now_ns();
    for (long i = 0; i < iterations; i++) syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
    double per_call = (now_ns() - start) / (double)iterations;
    if (round == 0 || per_call < best) best = per_call;
  }
  printf("ns_per_call=%.2f\n", best);
  return 0;
}
