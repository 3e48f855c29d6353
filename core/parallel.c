/* parallel.c — the CPU backend's thread pool
 *
 * One job at a time. The caller writes (fn, data) into the slot of the next
 * generation and publishes one 64-bit word, state = generation:32 |
 * n_tasks:16 | next:16. Every thread (the caller included) takes a task by
 * a compare-and-swap of next on that word, so a task is taken at most once
 * and only by a thread that saw its generation: a worker that wakes late
 * finds next = n_tasks, or another generation, and takes nothing. The
 * caller returns when the job's tasks are done, without waiting for the
 * workers to notice — a worker the scheduler has put aside (a busy machine,
 * the UI drawing) costs nothing; the caller simply does its tasks.
 *
 * The (fn, data) of a generation sit in slot generation & 1. A worker reads
 * the slot after loading the state word and uses what it read only if its
 * compare-and-swap on that same generation succeeds; the slot is rewritten
 * two generations later, after the word has moved on, so what it read was
 * the job's.
 *
 * Workers spin for a short while between jobs (the operations of one batch
 * follow each other within microseconds) and then sleep on a condition
 * variable, so an idle application costs nothing.
 */
#include "parallel.h"
#include "sync-private.h"

#include <cblas.h>
#include <stdatomic.h>

#define SPIN_US 200

/* Atomic fields only so that a late worker's read of a slot being
 * rewritten is not a data race; the ordering comes from the state word. */
typedef struct
{
  _Atomic (CsParallelFunc) fn;
  _Atomic (gpointer) data;
} Job;

typedef struct
{
  GMutex caller_lock;   /* held by the one caller using the pool */
  GMutex lock;          /* guards sleepers and the condition */
  GCond wake;
  int sleepers;

  int n_threads;        /* in all, the caller included */
  GThread **workers;    /* n_threads − 1 */

  Job slots[2];
  _Atomic guint64 state;
  _Atomic int completed;
  _Atomic int quit;
} Pool;

static Pool pool = { .n_threads = 0 };
static GOnce pool_once = G_ONCE_INIT;
static __thread gboolean in_task;

#define STATE_GEN(s)   ((guint32) ((s) >> 32))
#define STATE_N(s)     ((int) (((s) >> 16) & 0xffff))
#define STATE_NEXT(s)  ((int) ((s) & 0xffff))
#define MAX_TASKS      0xffff

static inline void
cpu_relax (void)
{
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause ();
#endif
}

/* Runs tasks of the published job while there are any; returns the
 * generation it saw last. */
static guint32
take_tasks (void)
{
  in_task = TRUE;
  for (;;)
    {
      guint64 s = atomic_load (&pool.state);
      if (STATE_NEXT (s) >= STATE_N (s))
        {
          in_task = FALSE;
          return STATE_GEN (s);
        }
      Job *slot = &pool.slots[STATE_GEN (s) & 1];
      CsParallelFunc fn = atomic_load_explicit (&slot->fn, memory_order_relaxed);
      gpointer data = atomic_load_explicit (&slot->data, memory_order_relaxed);
      if (atomic_compare_exchange_weak (&pool.state, &s, s + 1))
        {
          fn (STATE_NEXT (s), STATE_N (s), data);
          atomic_fetch_add (&pool.completed, 1);
        }
    }
}

static gpointer
worker_main (gpointer user_data)
{
  guint32 seen = GPOINTER_TO_UINT (user_data);

  for (;;)
    {
      gint64 spin_until = 0;
      guint spins = 0;
      /* Quit is looked at beside the generation: the quit's own (empty)
       * generation may be the one take_tasks () saw last, when it was
       * published as this worker was finishing a job. */
      while (STATE_GEN (atomic_load (&pool.state)) == seen && !atomic_load (&pool.quit))
        {
          cpu_relax ();
          if ((++spins & 255) != 0)
            continue;
          gint64 now = g_get_monotonic_time ();
          if (spin_until == 0)
            spin_until = now + SPIN_US;
          if (now < spin_until)
            continue;
          cs_mutex_lock (&pool.lock);
          pool.sleepers++;
          while (STATE_GEN (atomic_load (&pool.state)) == seen && !atomic_load (&pool.quit))
            cs_cond_wait (&pool.wake, &pool.lock);
          pool.sleepers--;
          cs_mutex_unlock (&pool.lock);
        }
      if (atomic_load (&pool.quit))
        return NULL;
      seen = take_tasks ();
    }
}

/* Publishes a job of the next generation (caller_lock held), its tasks
 * from `first` on up for the taking. */
static void
publish (CsParallelFunc fn, gpointer data, int n_tasks, int first)
{
  guint32 gen = STATE_GEN (atomic_load (&pool.state)) + 1;
  atomic_store_explicit (&pool.slots[gen & 1].fn, fn, memory_order_relaxed);
  atomic_store_explicit (&pool.slots[gen & 1].data, data, memory_order_relaxed);
  atomic_store (&pool.completed, 0);
  atomic_store (&pool.state, ((guint64) gen << 32) | ((guint64) n_tasks << 16) | (guint64) first);
  cs_mutex_lock (&pool.lock);
  if (pool.sleepers > 0)
    g_cond_broadcast (&pool.wake);
  cs_mutex_unlock (&pool.lock);
}

static void
wait_tasks (int n_tasks)
{
  guint spins = 0;
  while (atomic_load (&pool.completed) < n_tasks)
    {
      cpu_relax ();
      if ((++spins & 1023) == 0)
        g_thread_yield ();
    }
}

static void
stop_workers (void)
{
  if (pool.workers == NULL)
    return;
  atomic_store (&pool.quit, 1);
  publish (NULL, NULL, 0, 0);
  for (int i = 0; i < pool.n_threads - 1; i++)
    g_thread_join (pool.workers[i]);
  g_clear_pointer (&pool.workers, g_free);
  atomic_store (&pool.quit, 0);
  pool.n_threads = 1;
}

static void
start_workers (int n)
{
  /* OpenBLAS's own threads would compete with ours for the same cores. */
  openblas_set_num_threads (1);
  pool.n_threads = n;
  if (n == 1)
    return;
  pool.workers = g_new0 (GThread *, n - 1);
  guint32 seen = STATE_GEN (atomic_load (&pool.state));
  for (int i = 0; i < n - 1; i++)
    {
      g_autofree char *name = g_strdup_printf ("cs-cpu-%d", i + 1);
      pool.workers[i] = g_thread_new (name, worker_main, GUINT_TO_POINTER (seen));
    }
}

static int
default_threads (void)
{
  return MAX (1, (int) g_get_num_processors ());
}

static gpointer
pool_init (gpointer unused)
{
  g_mutex_init (&pool.caller_lock);
  g_mutex_init (&pool.lock);
  g_cond_init (&pool.wake);
  cs_mutex_lock (&pool.caller_lock);
  start_workers (default_threads ());
  cs_mutex_unlock (&pool.caller_lock);
  return NULL;
}

static void
ensure_pool (void)
{
  g_once (&pool_once, pool_init, NULL);
}

void
cs_parallel_set_threads (int n)
{
  g_return_if_fail (n >= 0);
  g_return_if_fail (!in_task);

  ensure_pool ();
  if (n == 0)
    n = default_threads ();
  n = MIN (n, 256);
  cs_mutex_lock (&pool.caller_lock);
  if (n != pool.n_threads)
    {
      stop_workers ();
      start_workers (n);
    }
  cs_mutex_unlock (&pool.caller_lock);
}

int
cs_parallel_get_threads (void)
{
  ensure_pool ();
  return pool.n_threads;
}

void
cs_parallel_run (int n_tasks, CsParallelFunc fn, gpointer data)
{
  if (n_tasks <= 0)
    return;
  ensure_pool ();
  if (n_tasks == 1 || n_tasks > MAX_TASKS || in_task || !cs_mutex_trylock (&pool.caller_lock))
    {
      for (int t = 0; t < n_tasks; t++)
        fn (t, n_tasks, data);
      return;
    }
  if (pool.n_threads == 1)
    {
      cs_mutex_unlock (&pool.caller_lock);
      for (int t = 0; t < n_tasks; t++)
        fn (t, n_tasks, data);
      return;
    }
  /* Task 0 is the caller's: the first part of a job split as the one
   * before it was stays on the core that holds the first part of that
   * job's output (an image group's, a range's) in its cache. */
  publish (fn, data, n_tasks, 1);
  in_task = TRUE;
  fn (0, n_tasks, data);
  in_task = FALSE;
  atomic_fetch_add (&pool.completed, 1);
  take_tasks ();
  wait_tasks (n_tasks);
  cs_mutex_unlock (&pool.caller_lock);
}

void
cs_parallel_range (gsize n, int task, int n_tasks, gsize align, gsize *lo, gsize *hi)
{
  g_assert (task >= 0 && task < n_tasks && align > 0);
  gsize units = (n + align - 1) / align;
  gsize a = units * (gsize) task / (gsize) n_tasks;
  gsize b = units * (gsize) (task + 1) / (gsize) n_tasks;
  *lo = MIN (a * align, n);
  *hi = MIN (b * align, n);
}
