/* threads.c: the part of the OpenMP runtime ABI (`__kmpc_*`) that mlc's parallel loops call.
 *
 * mlc-schedule makes the outer tile loop of large kernels an scf.forall; the llvm stage lowers
 * it through the OpenMP dialect, and LLVM's OpenMPIRBuilder emits calls to __kmpc_fork_call
 * (run a microtask on a team), __kmpc_global_thread_num, __kmpc_for_static_init_8u / _fini
 * (this thread's share of the loop) and __kmpc_barrier. This file implements exactly those,
 * on pthreads, inside the model's .so: no libomp/libgomp is needed, and every symbol here is
 * hidden, so a real OpenMP runtime in the same process (torch, numpy's BLAS) never clashes.
 *
 * The pool: N-1 worker threads, started on the first parallel region. A region's loop is cut
 * into N shares, one per thread of the team, exactly as a static schedule would; each share
 * is cut again into `SLOTS / N` slots (the team's thread numbers, as the loop sees them).
 * Thread t (the caller is 0) runs the slots of share t in order, then takes what is left of
 * the others' shares, so a worker that wakes late, or a slot that costs more, leaves no core
 * idle; on a busy machine the region degrades to the caller running every slot, not to
 * waiting for a descheduled worker. Results do not depend on who runs a slot. One region at
 * a time: a region that finds the pool busy (another thread calling mlc_run, or a region
 * nested in a region) runs on its caller alone, so concurrent mlc_run calls stay correct.
 * Between regions workers spin (a model's regions follow each other within microseconds, and
 * waking a sleeping thread costs tens of them), for SPIN_NS after the last region, then yield,
 * then sleep until the next.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define HIDDEN __attribute__((visibility("hidden")))
#define EXPORT __attribute__((visibility("default")))
#define MAX_THREADS 256
#define MAX_ARGS 16
#define SPINS 4000         /* pause loops before a wait checks the clock at all */
#define SPIN_NS 2000000    /* workers keep spinning this long after the last region */
#define YIELDS 200
#define SLOTS 16           /* slots a region is cut into (at least one a thread) */

typedef void (*mlc_microtask)(int32_t *, int32_t *, ...);

static __thread int32_t tls_tid;      /* this thread's number in its current team */
static __thread int32_t tls_team = 1; /* the size of that team; 1 outside a region */
static __thread int32_t tls_per = 1;  /* slots a share: the loop's static shares are team / per */

static atomic_int requested;          /* mlc_set_num_threads; 0 = the default */
static int default_threads;
static pthread_once_t default_once = PTHREAD_ONCE_INIT;

static pthread_mutex_t pool_busy = PTHREAD_MUTEX_INITIALIZER; /* held by the team's thread 0 */
static pthread_t workers[MAX_THREADS];
static int num_workers;

/* The region being run. `job_state` packs the region's number (bits 33-63), whether it still
 * takes helpers (bit 32) and how many workers have joined it (bits 0-31): a worker joins with
 * one compare-and-swap, so it never reads the fields of a region that has closed, and the
 * caller waits only for workers that joined. Share t's slots are [t * job_per, (t + 1) *
 * job_per); `share_next[t]` is the next one not yet taken, by whichever thread. */
static mlc_microtask job_fn;
static int job_argc, job_threads, job_per;
static void *job_args[MAX_ARGS];
static _Atomic uint64_t job_state;
static struct {
  _Alignas(64) atomic_int next;
} share_next[MAX_THREADS];
static atomic_int stopping;
static _Atomic uint64_t last_region_ns; /* when the last region ended (workers spin on) */
static atomic_int sleepers;             /* threads waiting on wake_cond */
static pthread_mutex_t wake_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake_cond = PTHREAD_COND_INITIALIZER;

#define OPEN ((uint64_t)1 << 32)
#define REGION(state) ((state) >> 33)
#define JOINED(state) ((uint32_t)(state))

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* Spins (SPINS pauses, and with `spin_from` until SPIN_NS after the later of the time it
 * holds and the start of this wait, yielding now and then), then yields (another thread of
 * the team may be waiting for this core), then sleeps on wake_cond until `done(arg)`. */
static void wait_until(int (*done)(const void *), const void *arg,
                       const _Atomic uint64_t *spin_from) {
  for (int i = 0; i < SPINS; ++i) {
    if (done(arg)) return;
    cpu_relax();
  }
  if (spin_from) {
    uint64_t start = now_ns();
    for (unsigned i = 1;; ++i) {
      if (done(arg)) return;
      cpu_relax();
      if (i % 64) continue;
      uint64_t from = atomic_load_explicit(spin_from, memory_order_relaxed);
      if (now_ns() - (from > start ? from : start) > SPIN_NS) break;
      /* Polite: on a machine with more runnable threads than cores, the core goes to them
       * (the caller's serial work among them) rather than to this spin; on a quiet one the
       * call returns at once. */
      sched_yield();
    }
  }
  for (int i = 0; i < YIELDS; ++i) {
    if (done(arg)) return;
    sched_yield();
  }
  pthread_mutex_lock(&wake_lock);
  atomic_fetch_add(&sleepers, 1);
  atomic_thread_fence(memory_order_seq_cst);
  while (!done(arg)) pthread_cond_wait(&wake_cond, &wake_lock);
  atomic_fetch_sub(&sleepers, 1);
  pthread_mutex_unlock(&wake_lock);
}

/* Wakes the sleepers, if any. A sleeper counts itself before its last look at `done` (both
 * sequentially consistent), so either it sees what changed or this sees it. */
static void wake_all(void) {
  if (atomic_load(&sleepers) == 0) return;
  pthread_mutex_lock(&wake_lock);
  pthread_cond_broadcast(&wake_cond);
  pthread_mutex_unlock(&wake_lock);
}

static void invoke(mlc_microtask fn, int32_t tid, int argc, void **a) {
  int32_t gtid = tid, btid = 0;
  switch (argc) {
    case 0: fn(&gtid, &btid); break;
    case 1: fn(&gtid, &btid, a[0]); break;
    case 2: fn(&gtid, &btid, a[0], a[1]); break;
    case 3: fn(&gtid, &btid, a[0], a[1], a[2]); break;
    case 4: fn(&gtid, &btid, a[0], a[1], a[2], a[3]); break;
    case 5: fn(&gtid, &btid, a[0], a[1], a[2], a[3], a[4]); break;
    case 6: fn(&gtid, &btid, a[0], a[1], a[2], a[3], a[4], a[5]); break;
    case 7: fn(&gtid, &btid, a[0], a[1], a[2], a[3], a[4], a[5], a[6]); break;
    case 8: fn(&gtid, &btid, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]); break;
    default:
      fn(&gtid, &btid, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11],
         a[12], a[13], a[14], a[15]);
  }
}

/* Runs the slots of share `mine`, then whatever is left of the other shares. */
static void run_slots(int mine) {
  int team = job_threads * job_per;
  for (int k = 0; k < job_threads; ++k) {
    int share = (mine + k) % job_threads, slot;
    while ((slot = atomic_fetch_add_explicit(&share_next[share].next, 1, memory_order_relaxed))
           < job_per) {
      tls_tid = share * job_per + slot;
      tls_team = team;
      tls_per = job_per;
      invoke(job_fn, tls_tid, job_argc, job_args);
    }
  }
  tls_tid = 0;
  tls_team = 1;
  tls_per = 1;
}

static int region_moved(const void *seen) {
  return REGION(atomic_load_explicit(&job_state, memory_order_acquire)) != *(const uint64_t *)seen
         || atomic_load_explicit(&stopping, memory_order_relaxed);
}

static void *worker_main(void *arg) {
  int number = (int)(intptr_t)arg; /* 1.. : its share when the team has that many threads */
  uint64_t seen = 0;
  for (;;) {
    wait_until(region_moved, &seen, &last_region_ns);
    if (atomic_load(&stopping)) return NULL;
    uint64_t state = atomic_load_explicit(&job_state, memory_order_acquire);
    seen = REGION(state);
    int joined = 0;
    while ((state & OPEN) && REGION(state) == seen && !joined)
      joined = atomic_compare_exchange_weak_explicit(&job_state, &state, state + 1,
                                                     memory_order_acq_rel, memory_order_acquire);
    if (!joined) continue;
    if (number < job_threads) run_slots(number); /* the team may be smaller than the pool */
    state = atomic_fetch_sub(&job_state, 1) - 1;
    if (JOINED(state) == 0) wake_all();
  }
}

/* Physical cores this process may run on: CPUs of the affinity mask with distinct
 * (package, core) ids; the CPU count when sysfs does not say. */
static int read_id(int cpu, const char *what) {
  char path[128];
  snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d/topology/%s", cpu, what);
  FILE *f = fopen(path, "r");
  int v = -1;
  if (f) {
    if (fscanf(f, "%d", &v) != 1) v = -1;
    fclose(f);
  }
  return v;
}

static void find_default_threads(void) {
  cpu_set_t mask;
  int cores = 0;
  static long seen[MAX_THREADS * 4];
  if (sched_getaffinity(0, sizeof mask, &mask) == 0) {
    for (int cpu = 0; cpu < CPU_SETSIZE && cores < MAX_THREADS * 4; ++cpu) {
      if (!CPU_ISSET(cpu, &mask)) continue;
      int pkg = read_id(cpu, "physical_package_id"), core = read_id(cpu, "core_id");
      long key = pkg < 0 || core < 0 ? -1 - cpu : (long)pkg * 65536 + core;
      int known = 0;
      for (int i = 0; i < cores && !known; ++i) known = seen[i] == key;
      if (!known) seen[cores++] = key;
    }
  }
  if (cores <= 0) cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
  default_threads = cores < 1 ? 1 : cores > MAX_THREADS ? MAX_THREADS : cores;
}

EXPORT int mlc_get_num_threads(void) {
  int n = atomic_load(&requested);
  if (n > 0) return n;
  pthread_once(&default_once, find_default_threads);
  return default_threads;
}

EXPORT int mlc_set_num_threads(int n) {
  atomic_store(&requested, n < 0 ? 0 : n > MAX_THREADS ? MAX_THREADS : n);
  return mlc_get_num_threads();
}

static void forget_workers(void) { num_workers = 0; } /* in a fork()ed child: no threads */

/* Starts workers up to `team` - 1; called with pool_busy held. Returns the team it can run. */
static int grow_pool(int team) {
  if (num_workers == 0) pthread_atfork(NULL, NULL, forget_workers);
  while (num_workers < team - 1) {
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 8 << 20);
    int failed = pthread_create(&workers[num_workers], &attr, worker_main,
                                (void *)(intptr_t)(num_workers + 1));
    pthread_attr_destroy(&attr);
    if (failed) break;
    ++num_workers;
  }
  return num_workers + 1 < team ? num_workers + 1 : team;
}

static int helpers_left(const void *unused) {
  (void)unused;
  return JOINED(atomic_load_explicit(&job_state, memory_order_acquire)) == 0;
}

HIDDEN int32_t __kmpc_global_thread_num(void *loc) {
  (void)loc;
  return tls_tid;
}

HIDDEN void __kmpc_fork_call(void *loc, int32_t argc, mlc_microtask fn, ...) {
  (void)loc;
  void *args[MAX_ARGS] = {0};
  va_list ap;
  va_start(ap, fn);
  for (int i = 0; i < argc && i < MAX_ARGS; ++i) args[i] = va_arg(ap, void *);
  va_end(ap);
  int team = mlc_get_num_threads();
  if (team > 1 && tls_team == 1 && pthread_mutex_trylock(&pool_busy) == 0) {
    job_threads = grow_pool(team);
    job_per = job_threads < SLOTS ? SLOTS / job_threads : 1;
    job_fn = fn;
    job_argc = argc;
    memcpy(job_args, args, sizeof args);
    for (int t = 0; t < job_threads; ++t)
      atomic_store_explicit(&share_next[t].next, 0, memory_order_relaxed);
    uint64_t region = REGION(atomic_load(&job_state)) + 1;
    atomic_store(&job_state, (region << 33) | OPEN);
    wake_all();
    run_slots(0);
    atomic_fetch_and_explicit(&job_state, ~OPEN, memory_order_acq_rel);
    wait_until(helpers_left, NULL, NULL);
    atomic_store_explicit(&last_region_ns, now_ns(), memory_order_relaxed);
    pthread_mutex_unlock(&pool_busy);
    return;
  }
  int32_t tid = tls_tid, size = tls_team, per = tls_per;
  tls_tid = 0;
  tls_team = 1;
  tls_per = 1;
  invoke(fn, 0, argc, args);
  tls_tid = tid;
  tls_team = size;
  tls_per = per;
}

HIDDEN void __kmpc_push_num_threads(void *loc, int32_t gtid, int32_t n) {
  (void)loc, (void)gtid, (void)n; /* the team size is the runtime option's */
}

/* A no-op, which is what makes slots runnable one after another on one thread. It is
 * correct for the regions mlc emits: convert-scf-to-openmp makes each parallel loop an
 * omp.parallel holding one omp.wsloop and nothing after it, so the loop's closing barrier is
 * immediately followed by the join, which waits for every slot anyway. */
HIDDEN void __kmpc_barrier(void *loc, int32_t gtid) { (void)loc, (void)gtid; }

/* Static schedule: kmp_sch_static (34) gives each share (team / per of them) one contiguous
 * block, the first `trip % shares` one iteration more, and each of the share's `per` slots
 * a contiguous part of that block, by the same rule; kmp_sch_static_chunked (33) deals
 * `chunk`-sized blocks round robin over the slots (the loop then strides by *stride). Bounds
 * are inclusive. */
#define STATIC_INIT(NAME, T, UT)                                                              \
  HIDDEN void NAME(void *loc, int32_t gtid, int32_t sched, int32_t *last, T *lower, T *upper, \
                   T *stride, T incr, T chunk) {                                              \
    (void)loc, (void)gtid;                                                                    \
    UT team = (UT)tls_team, tid = (UT)tls_tid;                                                \
    if (incr == 0) incr = 1;                                                                  \
    UT trip = incr > 0 ? (UT)(*upper - *lower) / (UT)incr + 1                                 \
                       : (UT)(*lower - *upper) / (UT)(-incr) + 1;                             \
    if (sched == 33 && chunk > 0) {                                                           \
      *stride = (T)(chunk * (T)team * incr);                                                  \
      *lower = *lower + (T)(tid * (UT)chunk) * incr;                                          \
      *upper = *lower + (chunk - 1) * incr;                                                   \
      if (last) *last = tid == ((trip - 1) / (UT)chunk) % team;                               \
      return;                                                                                 \
    }                                                                                         \
    UT per = (UT)tls_per, shares = team / per, share = tid / per, sub = tid % per;            \
    UT base = trip / shares, extra = trip % shares;                                           \
    UT first = share * base + (share < extra ? share : extra), count = base + (share < extra); \
    base = count / per, extra = count % per;                                                  \
    first += sub * base + (sub < extra ? sub : extra), count = base + (sub < extra);          \
    *stride = (T)(trip * (UT)incr);                                                           \
    if (count == 0) {                                                                         \
      *lower = 1, *upper = 0; /* an empty range: upper - lower + 1 == 0 */                   \
      if (last) *last = 0;                                                                    \
      return;                                                                                 \
    }                                                                                         \
    *lower = *lower + (T)first * incr;                                                        \
    *upper = *lower + (T)(count - 1) * incr;                                                  \
    if (last) *last = first + count == trip;                                                  \
  }

STATIC_INIT(__kmpc_for_static_init_8u, uint64_t, uint64_t)
STATIC_INIT(__kmpc_for_static_init_8, int64_t, uint64_t)
STATIC_INIT(__kmpc_for_static_init_4u, uint32_t, uint32_t)
STATIC_INIT(__kmpc_for_static_init_4, int32_t, uint32_t)

HIDDEN void __kmpc_for_static_fini(void *loc, int32_t gtid) { (void)loc, (void)gtid; }

/* At unload (dlclose, exit) the workers must not outlive the code they run. */
__attribute__((destructor)) static void stop_workers(void) {
  if (pthread_mutex_trylock(&pool_busy) != 0) return; /* a region still runs: leave it be */
  atomic_store(&stopping, 1);
  wake_all();
  for (int i = 0; i < num_workers; ++i) pthread_join(workers[i], NULL);
  num_workers = 0;
  pthread_mutex_unlock(&pool_busy);
}
