/* trainer-fixture.h — what the tests of the trainer, rewind and session
 * files build their runs with: a slice of the bundled digits, waiting for
 * the trainer to come to rest, and a temporary folder to save into.
 */
#pragma once

#include <glib.h>
#include <glib/gstdio.h>

#include "core/dataset.h"
#include "core/trainer.h"

#define TIMEOUT_US (60 * G_USEC_PER_SEC)

/* Examples [first, first + n) of ds, as a dataset of their own (the
 * trainer takes its datasets and frees them). */
static inline CsDataset *
subset (const CsDataset *ds, guint32 first, guint32 n)
{
  g_assert_cmpuint (first + n, <=, ds->n);
  CsDataset *s = g_new0 (CsDataset, 1);
  gsize px = (gsize) ds->rows * ds->cols;
  s->n = n;
  s->rows = ds->rows;
  s->cols = ds->cols;
  s->n_classes = ds->n_classes;
  s->images = g_memdup2 (ds->images + first * px, n * px);
  s->labels = g_memdup2 (ds->labels + first, n);
  s->name = g_strdup_printf ("%s [%u, %u)", ds->name, first, first + n);
  return s;
}

static inline void
wait_idle (CsTrainer *t)
{
  if (!cs_trainer_wait_idle (t, TIMEOUT_US))
    g_error ("the trainer did not come to rest within %d s", (int) (TIMEOUT_US / G_USEC_PER_SEC));
}

static inline char *
temp_dir (void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("cs-test-XXXXXX", &error);
  g_assert_no_error (error);
  return dir;
}

/* Removes dir and the files in it. */
static inline void
remove_dir (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  for (const char *name; d != NULL && (name = g_dir_read_name (d)) != NULL;)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_unlink (path);
    }
  g_rmdir (dir);
}

static inline guint
count_files (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  guint n = 0;
  while (d != NULL && g_dir_read_name (d) != NULL)
    n++;
  return n;
}
