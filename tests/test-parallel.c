/* test-parallel.c — the CPU backend's thread pool
 *
 * Every task of every job runs exactly once, whatever the number of
 * threads, with two callers at once (the trainer's thread and the UI's),
 * with calls from inside a task, and across changes of the thread count.
 */
#include "core/parallel.h"
#include "core/sync-private.h"   /* locks ThreadSanitizer sees */

typedef struct
{
  gint *hits;    /* one counter per task */
  int n_tasks;
  gint nested;   /* tasks that called the pool from inside */
} Job;

static void
count_task (int task, int n_tasks, gpointer data)
{
  Job *j = data;
  g_assert_cmpint (n_tasks, ==, j->n_tasks);
  g_assert_cmpint (task, >=, 0);
  g_assert_cmpint (task, <, n_tasks);
  g_atomic_int_inc (&j->hits[task]);
}

static void
run_and_check (int n_tasks)
{
  Job j = { g_new0 (gint, n_tasks), n_tasks, 0 };
  cs_parallel_run (n_tasks, count_task, &j);
  for (int t = 0; t < n_tasks; t++)
    g_assert_cmpint (j.hits[t], ==, 1);
  g_free (j.hits);
}

static void
test_every_task_once (void)
{
  for (int threads = 1; threads <= 4; threads++)
    {
      cs_parallel_set_threads (threads);
      g_assert_cmpint (cs_parallel_get_threads (), ==, threads);
      for (int round = 0; round < 2000; round++)
        run_and_check (1 + round % 9);
    }
  cs_parallel_set_threads (2);
}

static gpointer
caller_thread (gpointer data)
{
  for (int round = 0; round < 3000; round++)
    run_and_check (2 + round % 5);
  return NULL;
}

static void
test_two_callers (void)
{
  cs_parallel_set_threads (2);
  GThread *other = g_thread_new ("other-caller", caller_thread, NULL);
  caller_thread (NULL);
  g_thread_join (other);
}

static void
nested_task (int task, int n_tasks, gpointer data)
{
  Job *j = data;
  count_task (task, n_tasks, data);
  run_and_check (3);  /* runs serially inside a task */
  g_atomic_int_inc (&j->nested);
}

static void
test_nested (void)
{
  cs_parallel_set_threads (2);
  Job j = { g_new0 (gint, 4), 4, 0 };
  cs_parallel_run (4, nested_task, &j);
  g_assert_cmpint (j.nested, ==, 4);
  for (int t = 0; t < 4; t++)
    g_assert_cmpint (j.hits[t], ==, 1);
  g_free (j.hits);
}

/* Aborts the program unless stopped within `seconds`: a deadlock fails. */
typedef struct
{
  GMutex lock;
  GCond cond;
  gboolean done;
  int seconds;
} Watchdog;

static gpointer
watchdog_main (gpointer data)
{
  Watchdog *w = data;
  gint64 end = g_get_monotonic_time () + (gint64) w->seconds * G_USEC_PER_SEC;
  cs_mutex_lock (&w->lock);
  while (!w->done)
    if (!cs_cond_wait_until (&w->cond, &w->lock, end))
      g_error ("deadlock? not done within %d s", w->seconds);
  cs_mutex_unlock (&w->lock);
  return NULL;
}

/* Changing the number of threads between jobs, again and again. Stopping
 * the workers used to lose the quit signal to a worker just finishing a
 * job: it took the quit for an empty job and slept for ever, and
 * cs_parallel_set_threads () waited for it for ever (one run in twenty
 * under AddressSanitizer). */
static void
test_thread_changes (void)
{
  Watchdog w = { .seconds = 60 };
  g_mutex_init (&w.lock);
  g_cond_init (&w.cond);
  GThread *dog = g_thread_new ("watchdog", watchdog_main, &w);

  for (int round = 0; round < 1000; round++)
    {
      cs_parallel_set_threads (2 + round % 3);
      g_assert_cmpint (cs_parallel_get_threads (), ==, 2 + round % 3);
      run_and_check (2 + round % 5);
    }
  cs_parallel_set_threads (2);

  cs_mutex_lock (&w.lock);
  w.done = TRUE;
  g_cond_signal (&w.cond);
  cs_mutex_unlock (&w.lock);
  g_thread_join (dog);
  g_mutex_clear (&w.lock);
  g_cond_clear (&w.cond);
}

static void
test_range (void)
{
  gsize lo, hi, covered = 0, last = 0;
  for (int t = 0; t < 3; t++)
    {
      cs_parallel_range (1000, t, 3, 16, &lo, &hi);
      g_assert_cmpuint (lo, ==, last);
      g_assert_true (lo % 16 == 0);
      covered += hi - lo;
      last = hi;
    }
  g_assert_cmpuint (covered, ==, 1000);
  cs_parallel_range (5, 1, 4, 16, &lo, &hi);  /* fewer blocks than tasks */
  g_assert_cmpuint (hi - lo, <=, 5);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/core/parallel/every-task-once", test_every_task_once);
  g_test_add_func ("/core/parallel/two-callers", test_two_callers);
  g_test_add_func ("/core/parallel/nested", test_nested);
  g_test_add_func ("/core/parallel/thread-changes", test_thread_changes);
  g_test_add_func ("/core/parallel/range", test_range);
  return g_test_run ();
}
