/* pool_harness: drives runtime/threads.c the way the generated code does (fork a microtask,
 * take a static share of a loop in it) and prints how the iterations were spread.
 * Usage: pool_harness THREADS ITERATIONS [MODE]
 *   (default)  each iteration sleeps, so every thread of the team gets a core even on a busy
 *              machine; every iteration must run once, a region inside a region on its caller;
 *   uneven     the first half of the iterations (the caller's share) sleeps, the rest is free:
 *              prints how many of the slow ones the other threads took;
 *   idle       one region, then the process idles: prints the CPU time the pool spent idling. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

typedef void (*microtask)(int32_t *, int32_t *, ...);
void __kmpc_fork_call(void *loc, int32_t argc, microtask fn, ...);
void __kmpc_for_static_init_8u(void *loc, int32_t gtid, int32_t sched, int32_t *last,
                               uint64_t *lower, uint64_t *upper, uint64_t *stride, uint64_t incr,
                               uint64_t chunk);
void __kmpc_for_static_fini(void *loc, int32_t gtid);
void __kmpc_barrier(void *loc, int32_t gtid);
int mlc_set_num_threads(int n);

#define MAX 1000
static int hits[MAX];
static pthread_t who[MAX];
static int calls, nested_hits, uneven;

static void nested(int32_t *gtid, int32_t *btid) {
  (void)gtid, (void)btid;
  __atomic_fetch_add(&nested_hits, 1, __ATOMIC_RELAXED);
}

static void body(int32_t *gtid, int32_t *btid, int *n) {
  (void)btid;
  __atomic_fetch_add(&calls, 1, __ATOMIC_RELAXED);
  uint64_t lower = 0, upper = (uint64_t)*n - 1, stride = 1;
  int32_t last = 0;
  __kmpc_for_static_init_8u(NULL, *gtid, 34, &last, &lower, &upper, &stride, 1, 0);
  for (uint64_t i = lower; i < lower + (upper - lower + 1); ++i) {
    __atomic_fetch_add(&hits[i], 1, __ATOMIC_RELAXED);
    who[i] = pthread_self();
    if (!uneven || (int)i < *n / 2) usleep(uneven ? 20000 : 5000);
  }
  __kmpc_for_static_fini(NULL, *gtid);
  __kmpc_fork_call(NULL, 0, (microtask)nested); /* inside a region: runs on this thread */
  __kmpc_barrier(NULL, *gtid);
}

static double cpu_seconds(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + 1e-6 * (u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 2, n = argc > 2 ? atoi(argv[2]) : 10;
  const char *mode = argc > 3 ? argv[3] : "";
  if (n > MAX) n = MAX;
  uneven = strcmp(mode, "uneven") == 0;
  printf("threads=%d\n", mlc_set_num_threads(threads));
  if (strcmp(mode, "idle") == 0) {
    __kmpc_fork_call(NULL, 1, (microtask)body, &n);
    double before = cpu_seconds();
    usleep(300000);
    printf("idle_cpu_ms=%.0f\n", 1e3 * (cpu_seconds() - before));
    return 0;
  }
  int regions = uneven ? 1 : 3;
  for (int region = 0; region < regions; ++region) __kmpc_fork_call(NULL, 1, (microtask)body, &n);
  int bad = 0, distinct = 0, taken = 0;
  pthread_t seen[64];
  for (int i = 0; i < n; ++i) {
    bad += hits[i] != regions;
    taken += i < n / 2 && !pthread_equal(who[i], pthread_self());
    int known = 0;
    for (int j = 0; j < distinct; ++j) known |= pthread_equal(seen[j], who[i]);
    if (!known && distinct < 64) seen[distinct++] = who[i];
  }
  printf("wrong_counts=%d threads_used=%d nested_ok=%d\n", bad, distinct, nested_hits == calls);
  if (uneven) printf("slow_taken_by_others=%d\n", taken);
  return bad != 0;
}
