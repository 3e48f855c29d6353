/* cs-mistakes.c — the session's network evaluated on the test split, on a thread */
#include "cs-mistakes.h"

#include <glib/gi18n.h>
#include <string.h>

/* Examples per forward pass on the thread: the SimpleCNN's activations
 * for 100 digits are a few megabytes. */
#define EVAL_BATCH 100
/* Evaluations start at least this far apart … */
#define MIN_INTERVAL_US (G_USEC_PER_SEC)
/* … and the thread rests this many times as long as the last one took. */
#define REST_FACTOR 2

struct _CsMistakes
{
  GObject parent_instance;

  CsSession *session;
  CsDataset *test;              /* NULL when it could not be read */
  char *error;
  gboolean active;
  gboolean busy;                /* a task runs: stage, worker and results[work] are the thread's */
  guint timeout_id;
  gint64 last_start, last_usec;
  guint64 failed_serial;        /* the weights the last failure was of */
  gboolean failed;

  /* What the next evaluation reads, copied from the session on the main
   * loop before it starts. */
  struct
  {
    char *json;
    char *title;
    float *params;
    gsize n_params;
    float *buffers;
    gsize n_buffers;
    guint64 serial;
    gboolean trained;
    gint64 training_step;
  } stage;

  /* The thread's own network (made again when the description changes)
   * and its evaluator */
  CsModel *model;
  char *model_json;
  CsEvaluator *evaluator;

  /* Two results: the one shown and the one being made */
  CsMistakesResult results[2];
  int shown;                    /* −1 before the first */
};

G_DEFINE_FINAL_TYPE (CsMistakes, cs_mistakes, G_TYPE_OBJECT)

enum {
  CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void maybe_start (CsMistakes *self);

static void
cs_mistakes_dispose (GObject *object)
{
  CsMistakes *self = (CsMistakes *) object;

  g_clear_handle_id (&self->timeout_id, g_source_remove);
  g_clear_object (&self->session);

  G_OBJECT_CLASS (cs_mistakes_parent_class)->dispose (object);
}

static void
cs_mistakes_finalize (GObject *object)
{
  CsMistakes *self = (CsMistakes *) object;

  /* no task runs: each holds a reference */
  g_clear_pointer (&self->evaluator, cs_evaluator_free);
  g_clear_pointer (&self->model, cs_model_free);
  g_free (self->model_json);
  g_free (self->stage.json);
  g_free (self->stage.title);
  g_free (self->stage.params);
  g_free (self->stage.buffers);
  for (int i = 0; i < 2; i++)
    {
      g_free (self->results[i].title);
      g_free (self->results[i].predicted);
      g_free (self->results[i].probs);
    }
  g_clear_pointer (&self->test, cs_dataset_free);
  g_free (self->error);

  G_OBJECT_CLASS (cs_mistakes_parent_class)->finalize (object);
}

static void
cs_mistakes_class_init (CsMistakesClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = cs_mistakes_dispose;
  object_class->finalize = cs_mistakes_finalize;

  /**
   * CsMistakes::changed:
   *
   * A new result (cs_mistakes_get_result ()), or the test split's error.
   */
  signals[CHANGED] =
    g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
cs_mistakes_init (CsMistakes *self)
{
  self->shown = -1;
}

/* On the thread: the staged weights into the thread's network, then the
 * whole test split through it. */
static void
evaluate_thread (GTask        *task,
                 gpointer      source,
                 gpointer      task_data,
                 GCancellable *cancellable)
{
  CsMistakes *self = source;
  GError *error = NULL;
  gint64 start = g_get_monotonic_time ();

  if (self->model == NULL || g_strcmp0 (self->model_json, self->stage.json) != 0)
    {
      g_clear_pointer (&self->evaluator, cs_evaluator_free);
      g_clear_pointer (&self->model, cs_model_free);
      g_clear_pointer (&self->model_json, g_free);
      g_autoptr(CsModel) model = cs_model_new_from_json (self->stage.json, -1, &error);
      if (model == NULL || !cs_model_reserve (model, EVAL_BATCH, &error))
        {
          g_task_return_error (task, error);
          return;
        }
      self->evaluator = cs_evaluator_new (model, self->test);
      if (self->evaluator == NULL
          || cs_evaluator_get_classes (self->evaluator) != CS_SESSION_CLASSES)
        {
          g_clear_pointer (&self->evaluator, cs_evaluator_free);
          g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                                   _("The network does not score the 10 digits of the test "
                                     "split"));
          return;
        }
      self->model = g_steal_pointer (&model);
      self->model_json = g_strdup (self->stage.json);
    }

  gsize P = cs_model_get_n_params (self->model), B = cs_model_get_n_buffers (self->model);
  float *block = cs_model_read_block (self->model, &error);
  if (block == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  g_assert (P == self->stage.n_params && B == self->stage.n_buffers);
  memcpy (block, self->stage.params, P * sizeof (float));
  if (B > 0)
    memcpy (block + 4 * P, self->stage.buffers, B * sizeof (float));
  if (!cs_model_write_block (self->model, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  CsMistakesResult *r = &self->results[self->shown == 0 ? 1 : 0];
  memset (r->confusion, 0, sizeof r->confusion);
  cs_evaluator_run (self->evaluator, &r->eval, r->confusion, r->predicted, r->probs);
  if (!cs_model_check (self->model, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  r->serial = self->stage.serial;
  g_free (r->title);
  r->title = g_strdup (self->stage.title);
  r->trained = self->stage.trained;
  r->training_step = self->stage.training_step;
  r->usec = g_get_monotonic_time () - start;
  g_task_return_boolean (task, TRUE);
}

/* On the main loop: the new result is shown. */
static void
evaluate_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CsMistakes *self = CS_MISTAKES (source);
  g_autoptr(GError) error = NULL;

  self->busy = FALSE;
  self->last_usec = g_get_monotonic_time () - self->last_start;
  self->failed = !g_task_propagate_boolean (G_TASK (result), &error);
  if (!self->failed)
    {
      self->shown = self->shown == 0 ? 1 : 0;
      g_clear_pointer (&self->error, g_free);
    }
  else
    {
      self->failed_serial = self->stage.serial;
      g_free (self->error);
      self->error = g_strdup (error->message);
    }
  g_signal_emit (self, signals[CHANGED], 0);
  maybe_start (self);
}

/* Copies the session's weights for the thread; FALSE when there are none
 * or they were evaluated already. */
static gboolean
stage_weights (CsMistakes *self)
{
  CsSessionWeights w;
  if (!cs_session_get_weights (self->session, &w))
    return FALSE;
  if (self->shown >= 0 && self->results[self->shown].serial == w.serial
      && g_strcmp0 (self->stage.json, w.json) == 0)
    return FALSE;

  if (g_strcmp0 (self->stage.json, w.json) != 0)
    {
      g_free (self->stage.json);
      self->stage.json = g_strdup (w.json);
    }
  if (g_strcmp0 (self->stage.title, w.title) != 0)
    {
      g_free (self->stage.title);
      self->stage.title = g_strdup (w.title);
    }
  if (self->stage.n_params != w.n_params)
    {
      g_free (self->stage.params);
      self->stage.params = g_new (float, MAX (w.n_params, 1));
      self->stage.n_params = w.n_params;
    }
  if (self->stage.n_buffers != w.n_buffers)
    {
      g_free (self->stage.buffers);
      self->stage.buffers = g_new (float, MAX (w.n_buffers, 1));
      self->stage.n_buffers = w.n_buffers;
    }
  memcpy (self->stage.params, w.params, w.n_params * sizeof (float));
  if (w.n_buffers > 0)
    memcpy (self->stage.buffers, w.buffers, w.n_buffers * sizeof (float));
  self->stage.serial = w.serial;
  self->stage.trained = w.trained;
  self->stage.training_step = w.training_step;
  return TRUE;
}

static gboolean
on_timeout (gpointer user_data)
{
  CsMistakes *self = user_data;
  self->timeout_id = 0;
  maybe_start (self);
  return G_SOURCE_REMOVE;
}

/* Starts an evaluation if one is wanted and allowed now, or later by a
 * timeout. */
static void
maybe_start (CsMistakes *self)
{
  if (!self->active || self->busy || self->test == NULL || self->timeout_id != 0
      || self->session == NULL)
    return;

  CsSessionWeights w;
  if (!cs_session_get_weights (self->session, &w))
    return;
  if ((self->shown >= 0 && self->results[self->shown].serial == w.serial)
      || (self->failed && self->failed_serial == w.serial))
    return;

  gint64 now = g_get_monotonic_time ();
  if (self->shown >= 0)
    {
      gint64 ready = MAX (self->last_start + MIN_INTERVAL_US,
                          self->last_start + (1 + REST_FACTOR) * self->last_usec);
      if (now < ready)
        {
          self->timeout_id = g_timeout_add ((guint) ((ready - now) / 1000) + 1, on_timeout, self);
          return;
        }
    }
  if (!stage_weights (self))
    return;

  self->busy = TRUE;
  self->last_start = now;
  g_autoptr(GTask) task = g_task_new (self, NULL, evaluate_done, NULL);
  g_task_set_source_tag (task, maybe_start);
  g_task_run_in_thread (task, evaluate_thread);
}

CsMistakes *
cs_mistakes_new_for_data (CsSession *session, CsDataset *test)
{
  g_return_val_if_fail (CS_IS_SESSION (session), NULL);
  g_return_val_if_fail (test != NULL, NULL);

  CsMistakes *self = g_object_new (CS_TYPE_MISTAKES, NULL);
  self->session = g_object_ref (session);
  self->test = test;
  for (int i = 0; i < 2; i++)
    {
      self->results[i].n = test->n;
      self->results[i].predicted = g_new0 (gint32, MAX (test->n, 1));
      self->results[i].probs = g_new0 (float, (gsize) MAX (test->n, 1) * CS_SESSION_CLASSES);
    }
  g_signal_connect_object (session, "weights-changed", G_CALLBACK (maybe_start), self,
                           G_CONNECT_SWAPPED);
  return self;
}

CsMistakes *
cs_mistakes_new (CsSession *session)
{
  g_return_val_if_fail (CS_IS_SESSION (session), NULL);

  g_autoptr(GError) error = NULL;
  CsDataset *test = cs_dataset_load_named ("digits", "test", &error);
  if (test != NULL)
    return cs_mistakes_new_for_data (session, test);

  CsMistakes *self = g_object_new (CS_TYPE_MISTAKES, NULL);
  self->session = g_object_ref (session);
  self->error = g_strdup_printf (_("The bundled test digits could not be read: %s"),
                                 error->message);
  return self;
}

CsSession *
cs_mistakes_get_session (CsMistakes *self)
{
  g_return_val_if_fail (CS_IS_MISTAKES (self), NULL);
  return self->session;
}

const CsDataset *
cs_mistakes_get_dataset (CsMistakes *self)
{
  g_return_val_if_fail (CS_IS_MISTAKES (self), NULL);
  return self->test;
}

const char *
cs_mistakes_get_error (CsMistakes *self)
{
  g_return_val_if_fail (CS_IS_MISTAKES (self), NULL);
  return self->error;
}

void
cs_mistakes_set_active (CsMistakes *self, gboolean active)
{
  g_return_if_fail (CS_IS_MISTAKES (self));
  self->active = !!active;
  if (!self->active)
    g_clear_handle_id (&self->timeout_id, g_source_remove);
  maybe_start (self);
}

gboolean
cs_mistakes_get_active (CsMistakes *self)
{
  g_return_val_if_fail (CS_IS_MISTAKES (self), FALSE);
  return self->active;
}

gboolean
cs_mistakes_get_busy (CsMistakes *self)
{
  g_return_val_if_fail (CS_IS_MISTAKES (self), FALSE);
  return self->busy;
}

const CsMistakesResult *
cs_mistakes_get_result (CsMistakes *self)
{
  g_return_val_if_fail (CS_IS_MISTAKES (self), NULL);
  return self->shown >= 0 ? &self->results[self->shown] : NULL;
}
