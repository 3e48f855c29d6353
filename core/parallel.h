/* parallel.h — the CPU backend's own small thread pool
 *
 * Every CPU operation that is worth splitting (GEMM, im2col, pooling,
 * element-wise work, optimizer updates) is split here, over one pool of
 * threads, and OpenBLAS itself runs single-threaded. Two thread pools on
 * the same cores (OpenBLAS's and ours) would spin against each other; one
 * pool that knows every operation of the batch keeps both cores busy.
 *
 * cs_parallel_run() runs tasks 0 … n_tasks − 1 of fn and returns when all
 * are done; the calling thread takes part. It is safe to call from several
 * threads (the trainer's and the UI's): a caller that finds the pool busy,
 * or calls from inside a task, runs its tasks itself, serially.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef void (*CsParallelFunc) (int task, int n_tasks, gpointer data);

/* n ≥ 1 threads in all (the caller counts as one); 0 chooses the number of
 * processors. Waits for running work; not to be called from inside a task. */
void cs_parallel_set_threads (int n);
int  cs_parallel_get_threads (void);

void cs_parallel_run         (int            n_tasks,
                              CsParallelFunc fn,
                              gpointer       data);

/* The range [*lo, *hi) of task `task` when n items are split into n_tasks
 * nearly equal parts whose boundaries are multiples of `align`. */
void cs_parallel_range       (gsize  n,
                              int    task,
                              int    n_tasks,
                              gsize  align,
                              gsize *lo,
                              gsize *hi);

G_END_DECLS
