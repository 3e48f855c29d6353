/* parallel.c — the CPU backend's thread pool
 *
 * One job at a time: the caller publishes (fn, data, n_tasks), bumps the
 * generation, and every thread (the caller included) takes task indices
 * from a shared counter until none are left. The caller returns once every
 * worker has said it is done with this generation, so no worker can still
 * be reading a job when the next one is written.
 *
 * Workers spin for a short while between jobs (the operations of one batch
 * follow each other within microseconds) and then sleep on a condition
 * variable, so an idle application costs nothing.
 */
#include "parallel.h"

#include <cblas.h>

#define SPIN_US 200

typedef struct
{
  GMutex caller_lock;   /* held by the one caller using the pool */
  GMutex lock;          /* guards sleepers and the condition */
  GCond wake;
  int sleepers;

  int n_threads;        /* in all, the caller included */
  GThread **workers;    /* n_threads − 1 */

  /* the current job; written before generation is bumped */
  CsParallelFunc fn;
  gpointer data;
  int n_tasks;
  gint next;            /* next task index to take */
  gint done;            /* workers finished with this generation */
  gint generation;
  gint quit;
} Pool;

static Pool pool = { .n_threads = 0 };
static GOnce pool_once = G_ONCE_INIT;
static __thread gboolean in_task;

static inline void
cpu_relax (void)
{
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause ();
#endif
}

static void
take_tasks (void)
{
  in_task = TRUE;
  for (;;)
    {
      int t = g_atomic_int_add (&pool.next, 1);
      if (t >= pool.n_tasks)
        break;
      pool.fn (t, pool.n_tasks, pool.data);
    }
  in_task = FALSE;
}

static gpointer
worker_main (gpointer user_data)
{
  int seen = GPOINTER_TO_INT (user_data);

  for (;;)
    {
      gint64 spin_until = 0;
      guint spins = 0;
      while (g_atomic_int_get (&pool.generation) == seen)
        {
          cpu_relax ();
          if ((++spins & 255) != 0)
            continue;
          gint64 now = g_get_monotonic_time ();
          if (spin_until == 0)
            spin_until = now + SPIN_US;
          if (now < spin_until)
            continue;
          g_mutex_lock (&pool.lock);
          pool.sleepers++;
          while (g_atomic_int_get (&pool.generation) == seen)
            g_cond_wait (&pool.wake, &pool.lock);
          pool.sleepers--;
          g_mutex_unlock (&pool.lock);
        }
      seen = g_atomic_int_get (&pool.generation);
      if (g_atomic_int_get (&pool.quit))
        return NULL;
      take_tasks ();
      g_atomic_int_inc (&pool.done);
    }
}

/* Starts a job on the workers (caller_lock held). */
static void
publish (CsParallelFunc fn, gpointer data, int n_tasks)
{
  pool.fn = fn;
  pool.data = data;
  pool.n_tasks = n_tasks;
  g_atomic_int_set (&pool.next, 0);
  g_atomic_int_set (&pool.done, 0);
  g_atomic_int_inc (&pool.generation);  /* a full barrier: the job is visible */
  g_mutex_lock (&pool.lock);
  if (pool.sleepers > 0)
    g_cond_broadcast (&pool.wake);
  g_mutex_unlock (&pool.lock);
}

static void
wait_workers (void)
{
  guint spins = 0;
  while (g_atomic_int_get (&pool.done) < pool.n_threads - 1)
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
  g_atomic_int_set (&pool.quit, 1);
  publish (NULL, NULL, 0);
  for (int i = 0; i < pool.n_threads - 1; i++)
    g_thread_join (pool.workers[i]);
  g_clear_pointer (&pool.workers, g_free);
  g_atomic_int_set (&pool.quit, 0);
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
  int seen = g_atomic_int_get (&pool.generation);
  for (int i = 0; i < n - 1; i++)
    {
      g_autofree char *name = g_strdup_printf ("cs-cpu-%d", i + 1);
      pool.workers[i] = g_thread_new (name, worker_main, GINT_TO_POINTER (seen));
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
  g_mutex_lock (&pool.caller_lock);
  start_workers (default_threads ());
  g_mutex_unlock (&pool.caller_lock);
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
  g_mutex_lock (&pool.caller_lock);
  if (n != pool.n_threads)
    {
      stop_workers ();
      start_workers (n);
    }
  g_mutex_unlock (&pool.caller_lock);
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
  if (n_tasks == 1 || in_task || !g_mutex_trylock (&pool.caller_lock))
    {
      for (int t = 0; t < n_tasks; t++)
        fn (t, n_tasks, data);
      return;
    }
  if (pool.n_threads == 1)
    {
      g_mutex_unlock (&pool.caller_lock);
      for (int t = 0; t < n_tasks; t++)
        fn (t, n_tasks, data);
      return;
    }
  publish (fn, data, n_tasks);
  take_tasks ();
  wait_workers ();
  g_mutex_unlock (&pool.caller_lock);
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
