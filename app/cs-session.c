/* cs-session.c — the networks of the application, and their predictions */
#include "cs-session.h"

#include "core/checkpoint.h"
#include "core/loss.h"
#include "core/paths.h"
#include "core/preprocess.h"
#include "core/session-file.h"

#include <glib/gi18n.h>
#include <string.h>

G_STATIC_ASSERT (CS_SESSION_PIXELS == CS_PREPROCESS_PIXELS);

/* One network the session can predict with. */
typedef struct
{
  const char *name;        /* the preset: "mlp", "simple-cnn" */
  const char *fallback;    /* its title when even the preset cannot be built */
  CsModel    *model;       /* NULL when nothing could be built */
  gboolean    trained;     /* loaded from its checkpoint */
  gint64      training_step; /* ≥ 0: holds the training run's weights of that step */
  char       *problem;     /* what went wrong, for the message */
} CsSlot;

struct _CsSession
{
  GObject       parent_instance;

  /* Owned networks, MLP first */
  CsSlot        slots[2];
  guint         current;
  char         *message;

  /* The latest input (28 × 28, 64-byte aligned for the engine) and what
   * the current network made of it */
  float        *x;
  CsPrediction  prediction;
  CsSnapshot   *snapshot;   /* of the latest forward pass, or NULL until asked */

  guint64       weights_serial;  /* changes with the current network's weights */

  CsTraining   *training;   /* NULL until asked for */
  GError       *training_error;

  /* What a session file holds besides the run */
  GArray       *stroke_xy;        /* double: x, y, x, y, … */
  GArray       *stroke_lengths;   /* guint32 */
  guint64       drawing_serial;   /* changes with the drawing */
  char         *view;
  char         *file;

  /* Autosave */
  char         *autosave_path;
  guint         autosave_id;
  gboolean      autosaving;       /* one in flight */
  CsRunState   *autosave_state;   /* reused, so that a capture allocates nothing */
  guint64       saved_generation, saved_drawing;
  gint64        saved_step;
  char         *saved_view;
  guint         saved_model;
};

G_DEFINE_FINAL_TYPE (CsSession, cs_session, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_MODEL,
  PROP_MODEL_TITLE,
  PROP_MESSAGE,
  PROP_VIEW,
  PROP_FILE,
  N_PROPS
};

enum {
  PREDICTION_CHANGED,
  WEIGHTS_CHANGED,
  DRAWING_RESTORED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

/* Whether the model reads a 28 × 28 picture and gives one score per digit. */
static gboolean
check_fits (CsModel *model, const char *path, GError **error)
{
  const CsShape *in = cs_model_get_input_shape (model);
  const CsShape *out = cs_model_get_output_shape (model);
  if (cs_shape_numel (in) == CS_SESSION_PIXELS && out->ndim == 1 && out->d[0] == CS_SESSION_CLASSES)
    return TRUE;
  g_autofree char *ins = cs_shape_to_string (in);
  g_autofree char *outs = cs_shape_to_string (out);
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
               _("“%s” holds a network from %s to %s, not one that reads a 28×28 picture and "
                 "scores the 10 digits"),
               path, ins, outs);
  return FALSE;
}

static CsModel *
load_checkpoint (const char *path, GError **error)
{
  g_autoptr(CsModel) model = cs_checkpoint_load (path, error);
  if (model == NULL)
    return NULL;
  if (!check_fits (model, path, error))
    return NULL;
  if (!cs_model_reserve (model, 1, error))
    return NULL;
  return g_steal_pointer (&model);
}

static void
cs_slot_load (CsSlot *slot, const char *path)
{
  g_autoptr(GError) error = NULL;

  if (path == NULL)
    {
      g_autofree char *rel = g_strdup_printf ("checkpoints/%s.safetensors", slot->name);
      g_autofree char *dirs = cs_data_dirs_describe ();
      g_set_error (&error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   _("“%s” was not found in %s"), rel, dirs);
    }
  else if ((slot->model = load_checkpoint (path, &error)) != NULL)
    {
      slot->trained = TRUE;
      return;
    }

  /* The same preset, untrained: the application keeps working. */
  g_autoptr(GError) preset_error = NULL;
  g_autoptr(CsModel) model = cs_model_new_preset (slot->name, &preset_error);
  if (model != NULL)
    {
      cs_model_init (model, 1);
      if (cs_model_reserve (model, 1, &preset_error))
        slot->model = g_steal_pointer (&model);
    }
  const char *title = slot->model ? cs_model_get_title (slot->model) : slot->fallback;
  if (slot->model != NULL)
    slot->problem = g_strdup_printf (_("The pretrained %s could not be loaded: %s. It predicts "
                                       "with untrained weights (about one guess in ten is right) "
                                       "until it is trained."),
                                     title, error->message);
  else
    slot->problem = g_strdup_printf (_("The pretrained %s could not be loaded: %s; nor could an "
                                       "untrained one be built: %s."),
                                     title, error->message, preset_error->message);
}

static void
cs_session_finalize (GObject *object)
{
  CsSession *self = (CsSession *) object;

  for (guint i = 0; i < G_N_ELEMENTS (self->slots); i++)
    {
      g_clear_pointer (&self->slots[i].model, cs_model_free);
      g_clear_pointer (&self->slots[i].problem, g_free);
    }
  g_clear_pointer (&self->message, g_free);
  g_clear_pointer (&self->snapshot, cs_snapshot_unref);
  g_clear_error (&self->training_error);
  g_clear_pointer (&self->x, cs_free);
  g_clear_pointer (&self->stroke_xy, g_array_unref);
  g_clear_pointer (&self->stroke_lengths, g_array_unref);
  g_clear_pointer (&self->view, g_free);
  g_clear_pointer (&self->file, g_free);
  g_clear_pointer (&self->autosave_path, g_free);
  g_clear_pointer (&self->autosave_state, cs_run_state_free);
  g_clear_pointer (&self->saved_view, g_free);

  G_OBJECT_CLASS (cs_session_parent_class)->finalize (object);
}

static void
cs_session_dispose (GObject *object)
{
  CsSession *self = (CsSession *) object;

  g_clear_handle_id (&self->autosave_id, g_source_remove);
  if (self->training != NULL)
    g_signal_handlers_disconnect_by_data (self->training, self);
  g_clear_object (&self->training);

  G_OBJECT_CLASS (cs_session_parent_class)->dispose (object);
}

static void
cs_session_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  CsSession *self = CS_SESSION (object);

  switch (prop_id)
    {
    case PROP_MODEL:
      g_value_set_string (value, cs_session_get_model (self));
      break;

    case PROP_MODEL_TITLE:
      g_value_set_string (value, cs_session_get_model_title (self));
      break;

    case PROP_MESSAGE:
      g_value_set_string (value, cs_session_get_message (self));
      break;

    case PROP_VIEW:
      g_value_set_string (value, self->view);
      break;

    case PROP_FILE:
      g_value_set_string (value, self->file);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cs_session_set_property (GObject      *object,
                         guint         prop_id,
                         const GValue *value,
                         GParamSpec   *pspec)
{
  CsSession *self = CS_SESSION (object);

  switch (prop_id)
    {
    case PROP_MODEL:
      cs_session_set_model (self, g_value_get_string (value));
      break;

    case PROP_VIEW:
      cs_session_set_view (self, g_value_get_string (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cs_session_class_init (CsSessionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = cs_session_dispose;
  object_class->finalize = cs_session_finalize;
  object_class->get_property = cs_session_get_property;
  object_class->set_property = cs_session_set_property;

  properties[PROP_MODEL] =
    g_param_spec_string ("model", NULL, NULL, CS_SESSION_MODEL_CNN,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_MODEL_TITLE] =
    g_param_spec_string ("model-title", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_MESSAGE] =
    g_param_spec_string ("message", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_VIEW] =
    g_param_spec_string ("view", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_FILE] =
    g_param_spec_string ("file", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * CsSession::prediction-changed:
   *
   * The prediction was made anew: another drawing, or another network.
   */
  signals[PREDICTION_CHANGED] =
    g_signal_new ("prediction-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  /**
   * CsSession::weights-changed:
   *
   * The current network's weights are others: another model, or a new
   * frame of the training run (see cs_session_get_weights ()).
   */
  signals[WEIGHTS_CHANGED] =
    g_signal_new ("weights-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  /**
   * CsSession::drawing-restored:
   *
   * A session was opened: its strokes (cs_session_get_strokes ()) are the
   * drawing now.
   */
  signals[DRAWING_RESTORED] =
    g_signal_new ("drawing-restored", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
cs_session_init (CsSession *self)
{
  self->stroke_xy = g_array_new (FALSE, FALSE, sizeof (double));
  self->stroke_lengths = g_array_new (FALSE, FALSE, sizeof (guint32));
  self->saved_step = -1;
  self->slots[0] = (CsSlot) { .name = CS_SESSION_MODEL_MLP, .fallback = "MLP", .training_step = -1 };
  self->slots[1] = (CsSlot) { .name = CS_SESSION_MODEL_CNN, .fallback = "SimpleCNN", .training_step = -1 };
  self->current = 1;
  self->x = cs_alloc_floats (CS_SESSION_PIXELS);
  self->prediction.empty = TRUE;
  self->prediction.predicted = -1;
  self->prediction.training_step = -1;
}

CsSession *
cs_session_new_for_checkpoints (const char *mlp_path, const char *cnn_path)
{
  CsSession *self = g_object_new (CS_TYPE_SESSION, NULL);
  const char *paths[] = { mlp_path, cnn_path };

  g_autoptr(GString) message = g_string_new (NULL);
  for (guint i = 0; i < G_N_ELEMENTS (self->slots); i++)
    {
      cs_slot_load (&self->slots[i], paths[i]);
      if (self->slots[i].problem == NULL)
        continue;
      if (message->len > 0)
        g_string_append_c (message, ' ');
      g_string_append (message, self->slots[i].problem);
    }
  if (message->len > 0)
    self->message = g_string_free (g_steal_pointer (&message), FALSE);
  self->prediction.trained = self->slots[self->current].trained;
  return self;
}

CsSession *
cs_session_new (void)
{
  g_autofree char *mlp = cs_find_data_file ("checkpoints/" CS_SESSION_MODEL_MLP ".safetensors");
  g_autofree char *cnn = cs_find_data_file ("checkpoints/" CS_SESSION_MODEL_CNN ".safetensors");
  return cs_session_new_for_checkpoints (mlp, cnn);
}

const char *
cs_session_get_model (CsSession *self)
{
  g_return_val_if_fail (CS_IS_SESSION (self), NULL);
  return self->slots[self->current].name;
}

const char *
cs_session_get_model_title (CsSession *self)
{
  g_return_val_if_fail (CS_IS_SESSION (self), NULL);
  const CsSlot *slot = &self->slots[self->current];
  return slot->model ? cs_model_get_title (slot->model) : slot->fallback;
}

gboolean
cs_session_get_model_trained (CsSession *self)
{
  g_return_val_if_fail (CS_IS_SESSION (self), FALSE);
  return self->slots[self->current].trained;
}

const char *
cs_session_get_message (CsSession *self)
{
  g_return_val_if_fail (CS_IS_SESSION (self), NULL);
  return self->message;
}

/* Runs the current network on self->x; an empty prediction when there is
 * no input or no network. */
static void
cs_session_forward (CsSession *self)
{
  CsPrediction *p = &self->prediction;
  const CsSlot *slot = &self->slots[self->current];

  g_clear_pointer (&self->snapshot, cs_snapshot_unref);
  p->trained = slot->trained;
  p->training_step = slot->training_step;
  p->predicted = -1;
  memset (p->logits, 0, sizeof p->logits);
  memset (p->probs, 0, sizeof p->probs);
  if (p->empty || slot->model == NULL)
    return;

  CsModel *model = slot->model;
  const CsBackend *be = cs_model_get_backend (model);
  CsTensor x = cs_tensor_view_batch (self->x, 1, cs_model_get_input_shape (model));
  const CsTensor *logits = cs_model_forward (model, &x, FALSE);
  /* logits: (1, 10) */
  memcpy (p->logits, logits->data, sizeof p->logits);
  be->softmax_forward (p->probs, p->logits, 1, CS_SESSION_CLASSES);
  gint32 cls;
  cs_argmax_rows (&cls, p->logits, 1, CS_SESSION_CLASSES);
  p->predicted = cls;
}

void
cs_session_set_model (CsSession *self, const char *model)
{
  g_return_if_fail (CS_IS_SESSION (self));
  g_return_if_fail (model != NULL);

  for (guint i = 0; i < G_N_ELEMENTS (self->slots); i++)
    {
      if (!g_str_equal (self->slots[i].name, model))
        continue;
      if (i == self->current)
        return;
      self->current = i;
      if (self->training != NULL)
        {
          g_autoptr(GError) error = NULL;
          if (!cs_training_set_model (self->training, model, &error))
            g_warning ("the training run stays on its model: %s", error->message);
        }
      self->weights_serial++;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MODEL]);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MODEL_TITLE]);
      g_signal_emit (self, signals[WEIGHTS_CHANGED], 0);
      gint64 start = g_get_monotonic_time ();
      cs_session_forward (self);
      self->prediction.forward_usec = g_get_monotonic_time () - start;
      g_signal_emit (self, signals[PREDICTION_CHANGED], 0);
      return;
    }
  g_critical ("%s: no model “%s” (mlp or simple-cnn)", G_STRFUNC, model);
}

static int
find_slot (CsSession *self, const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (self->slots); i++)
    if (g_str_equal (self->slots[i].name, name))
      return (int) i;
  return -1;
}

gboolean
cs_session_predict (CsSession    *self,
                    const float  *gray,
                    int           w,
                    int           h,
                    int           stride,
                    CsPrediction *out)
{
  g_return_val_if_fail (CS_IS_SESSION (self), FALSE);
  g_return_val_if_fail (gray != NULL, FALSE);
  g_return_val_if_fail (w > 0 && h > 0 && stride >= w, FALSE);

  CsPrediction *p = &self->prediction;
  CsPreprocessInfo info;
  gint64 start = g_get_monotonic_time ();

  p->empty = !cs_preprocess_digit (gray, w, h, stride, self->x, &info);
  if (memcmp (p->input, self->x, sizeof p->input) != 0)
    self->drawing_serial++;
  memcpy (p->input, self->x, sizeof p->input);
  if (p->empty)
    {
      p->bbox_x = p->bbox_y = p->bbox_width = p->bbox_height = 0;
      p->center_x = p->center_y = 0;
    }
  else
    {
      p->bbox_x = (double) info.bbox_x / w;
      p->bbox_y = (double) info.bbox_y / h;
      p->bbox_width = (double) info.bbox_width / w;
      p->bbox_height = (double) info.bbox_height / h;
      /* pixel-index coordinates: pixel x spans x − ½ … x + ½ */
      p->center_x = (info.center_x + 0.5) / w;
      p->center_y = (info.center_y + 0.5) / h;
    }
  cs_session_forward (self);
  p->forward_usec = g_get_monotonic_time () - start;
  if (self->training != NULL)
    cs_training_watch_image (self->training, p->empty ? NULL : self->x);

  if (out != NULL)
    *out = *p;
  g_signal_emit (self, signals[PREDICTION_CHANGED], 0);
  return p->predicted >= 0;
}

gboolean
cs_session_predict_input (CsSession *self, const float *input, CsPrediction *out)
{
  g_return_val_if_fail (CS_IS_SESSION (self), FALSE);
  g_return_val_if_fail (input != NULL, FALSE);

  CsPrediction *p = &self->prediction;
  gint64 start = g_get_monotonic_time ();

  /* the ink's box and centre of mass, as fractions of the picture */
  int x0 = CS_SESSION_SIDE, y0 = CS_SESSION_SIDE, x1 = -1, y1 = -1;
  double mass = 0, mx = 0, my = 0;
  for (int y = 0; y < CS_SESSION_SIDE; y++)
    for (int x = 0; x < CS_SESSION_SIDE; x++)
      {
        float v = CLAMP (input[y * CS_SESSION_SIDE + x], 0.0f, 1.0f);
        self->x[y * CS_SESSION_SIDE + x] = v;
        if (v <= 0)
          continue;
        x0 = MIN (x0, x), x1 = MAX (x1, x);
        y0 = MIN (y0, y), y1 = MAX (y1, y);
        mass += v, mx += v * x, my += v * y;
      }
  memcpy (p->input, self->x, sizeof p->input);
  p->empty = x1 < 0;
  if (p->empty)
    p->bbox_x = p->bbox_y = p->bbox_width = p->bbox_height = p->center_x = p->center_y = 0;
  else
    {
      p->bbox_x = (double) x0 / CS_SESSION_SIDE;
      p->bbox_y = (double) y0 / CS_SESSION_SIDE;
      p->bbox_width = (double) (x1 - x0 + 1) / CS_SESSION_SIDE;
      p->bbox_height = (double) (y1 - y0 + 1) / CS_SESSION_SIDE;
      p->center_x = (mx / mass + 0.5) / CS_SESSION_SIDE;
      p->center_y = (my / mass + 0.5) / CS_SESSION_SIDE;
    }
  cs_session_forward (self);
  p->forward_usec = g_get_monotonic_time () - start;
  if (self->training != NULL)
    cs_training_watch_image (self->training, p->empty ? NULL : self->x);

  if (out != NULL)
    *out = *p;
  g_signal_emit (self, signals[PREDICTION_CHANGED], 0);
  return p->predicted >= 0;
}

gboolean
cs_session_get_weights (CsSession *self, CsSessionWeights *out)
{
  g_return_val_if_fail (CS_IS_SESSION (self), FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  const CsSlot *slot = &self->slots[self->current];
  if (slot->model == NULL)
    return FALSE;
  g_autoptr(GError) error = NULL;
  const float *block = cs_model_read_block (slot->model, &error);
  if (block == NULL)
    {
      g_warning ("the network's weights could not be read: %s", error->message);
      return FALSE;
    }
  gsize P = cs_model_get_n_params (slot->model);
  *out = (CsSessionWeights) {
    .json = cs_model_get_json (slot->model),
    .title = cs_model_get_title (slot->model),
    .params = block,
    .n_params = P,
    .buffers = block + 4 * P,   /* [ params | grads | optimizer state (2P) | buffers ] */
    .n_buffers = cs_model_get_n_buffers (slot->model),
    .serial = self->weights_serial,
    .trained = slot->trained,
    .training_step = slot->training_step,
  };
  return TRUE;
}

const CsPrediction *
cs_session_get_prediction (CsSession *self)
{
  g_return_val_if_fail (CS_IS_SESSION (self), NULL);
  return &self->prediction;
}

CsSnapshot *
cs_session_get_snapshot (CsSession *self)
{
  g_return_val_if_fail (CS_IS_SESSION (self), NULL);

  CsModel *model = self->slots[self->current].model;
  if (model == NULL)
    return NULL;
  if (self->snapshot == NULL)
    {
      if (self->prediction.empty)
        {
          /* nothing drawn: the network on a blank picture */
          memset (self->x, 0, sizeof (float) * CS_PREPROCESS_PIXELS);
          CsTensor x = cs_tensor_view_batch (self->x, 1, cs_model_get_input_shape (model));
          cs_model_forward (model, &x, FALSE);
        }
      self->snapshot = cs_snapshot_new (model, 0, CS_SNAPSHOT_FORWARD);
    }
  return self->snapshot;
}

/* A new frame of the run: once the run has trained, the session's network
 * of that model is the run's, and the drawing is predicted again with it. */
static void
on_training_frame (CsTraining *training, CsSession *self)
{
  CsTrainingFrame *frame = cs_training_get_frame (training);
  if (frame == NULL || frame->snapshot == NULL)
    return;

  const char *name = cs_snapshot_get_name (frame->snapshot);
  for (guint i = 0; i < G_N_ELEMENTS (self->slots); i++)
    {
      CsSlot *slot = &self->slots[i];
      if (!g_str_equal (slot->name, name) || slot->model == NULL)
        continue;
      if (slot->training_step < 0 && frame->status.step == 0 && frame->status.edits == 0)
        return;   /* the run has not started (nor been changed by hand): the checkpoint stays */

      gsize P;
      const float *params = cs_snapshot_get_param_block (frame->snapshot, &P);
      if (params == NULL || P != cs_model_get_n_params (slot->model))
        return;
      memcpy (cs_model_get_params (slot->model), params, P * sizeof (float));
      _cs_model_set_step (slot->model, frame->status.step);   /* what the views say */
      slot->trained = FALSE;
      slot->training_step = frame->status.step;
      if (i == self->current)
        {
          self->weights_serial++;
          g_signal_emit (self, signals[WEIGHTS_CHANGED], 0);
          gint64 start = g_get_monotonic_time ();
          cs_session_forward (self);
          self->prediction.forward_usec = g_get_monotonic_time () - start;
          g_signal_emit (self, signals[PREDICTION_CHANGED], 0);
        }
      return;
    }
}

CsTraining *
cs_session_get_training (CsSession *self, GError **error)
{
  g_return_val_if_fail (CS_IS_SESSION (self), NULL);

  if (self->training == NULL && self->training_error == NULL)
    {
      self->training = cs_training_new (cs_session_get_model (self), NULL, &self->training_error);
      if (self->training != NULL)
        {
          g_signal_connect (self->training, "frame-changed", G_CALLBACK (on_training_frame), self);
          if (!self->prediction.empty)
            cs_training_watch_image (self->training, self->x);
        }
    }
  if (self->training == NULL)
    {
      if (error != NULL)
        *error = g_error_copy (self->training_error);
      return NULL;
    }
  return self->training;
}

CsTraining *
cs_session_peek_training (CsSession *self)
{
  g_return_val_if_fail (CS_IS_SESSION (self), NULL);
  return self->training;
}

/* ---- sessions ------------------------------------------------------------- */

void
cs_session_set_strokes (CsSession *self, const double *xy, const guint32 *lengths, guint n_strokes)
{
  g_return_if_fail (CS_IS_SESSION (self));
  g_return_if_fail (n_strokes == 0 || (xy != NULL && lengths != NULL));

  gsize n = 0;
  for (guint i = 0; i < n_strokes; i++)
    n += lengths[i];
  g_array_set_size (self->stroke_xy, 0);
  g_array_set_size (self->stroke_lengths, 0);
  g_array_append_vals (self->stroke_xy, xy, (guint) (2 * n));
  g_array_append_vals (self->stroke_lengths, lengths, n_strokes);
  self->drawing_serial++;
}

const double *
cs_session_get_strokes (CsSession *self, const guint32 **lengths, guint *n_strokes)
{
  g_return_val_if_fail (CS_IS_SESSION (self), NULL);
  if (lengths != NULL)
    *lengths = (const guint32 *) self->stroke_lengths->data;
  if (n_strokes != NULL)
    *n_strokes = self->stroke_lengths->len;
  return (const double *) self->stroke_xy->data;
}

const char *
cs_session_get_view (CsSession *self)
{
  g_return_val_if_fail (CS_IS_SESSION (self), NULL);
  return self->view;
}

void
cs_session_set_view (CsSession *self, const char *view)
{
  g_return_if_fail (CS_IS_SESSION (self));
  if (g_strcmp0 (self->view, view) == 0)
    return;
  g_free (self->view);
  self->view = g_strdup (view);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_VIEW]);
}

const char *
cs_session_get_file (CsSession *self)
{
  g_return_val_if_fail (CS_IS_SESSION (self), NULL);
  return self->file;
}

static void
set_file (CsSession *self, const char *file)
{
  if (g_strcmp0 (self->file, file) == 0)
    return;
  g_free (self->file);
  self->file = file && *file ? g_strdup (file) : NULL;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FILE]);
}

/* One save: the run captured on the trainer's thread, what the session
 * adds copied on the main thread, the file written on a worker. */
typedef struct
{
  GMutex lock;
  GCond cond;
  gboolean captured;           /* the trainer is done with the job */
  gboolean capture_ok;
  GError *error;

  CsRunState *state;
  gboolean autosave;
  char *path;
  GTask *task;                 /* an asynchronous save; NULL for a waiting one */

  /* the session's part */
  float input[CS_SESSION_PIXELS];
  gboolean empty;
  GArray *xy, *lengths;
  char *model, *view, *file;
  guint64 drawing_serial;
} SaveJob;

static void
save_job_free (SaveJob *job)
{
  g_mutex_clear (&job->lock);
  g_cond_clear (&job->cond);
  g_clear_error (&job->error);
  g_clear_pointer (&job->state, cs_run_state_free);
  g_free (job->path);
  g_array_unref (job->xy);
  g_array_unref (job->lengths);
  g_free (job->model);
  g_free (job->view);
  g_free (job->file);
  g_free (job);
}

static SaveJob *
save_job_new (CsSession *self, const char *path, gboolean autosave)
{
  SaveJob *job = g_new0 (SaveJob, 1);
  g_mutex_init (&job->lock);
  g_cond_init (&job->cond);
  job->path = g_strdup (path);
  job->autosave = autosave;
  if (autosave && self->autosave_state != NULL)
    job->state = g_steal_pointer (&self->autosave_state);
  else
    job->state = cs_run_state_new ();
  memcpy (job->input, self->x, sizeof job->input);
  job->empty = self->prediction.empty;
  job->xy = g_array_copy (self->stroke_xy);
  job->lengths = g_array_copy (self->stroke_lengths);
  job->model = g_strdup (cs_session_get_model (self));
  job->view = g_strdup (self->view);
  /* the autosave remembers the name of the session it is a copy of */
  job->file = g_strdup (autosave ? self->file : path);
  job->drawing_serial = self->drawing_serial;
  return job;
}

/* On the trainer's thread, between two batches. */
static void
capture_on_trainer (CsTrainer *trainer, CsModel *model, CsOptimizer *opt, gpointer data)
{
  SaveJob *job = data;
  job->capture_ok = cs_trainer_capture (trainer, job->state, &job->error);
}

static gboolean capture_done_async (gpointer data);

/* After the capture, or when the trainer drops the command unrun. */
static void
capture_finished (gpointer data)
{
  SaveJob *job = data;
  if (job->task != NULL)
    {
      /* an idle source, so that it runs in the task's context, never here */
      GSource *source = g_idle_source_new ();
      g_source_set_callback (source, capture_done_async, job, NULL);
      g_source_set_static_name (source, "[convscope] session captured");
      g_source_attach (source, g_task_get_context (job->task));
      g_source_unref (source);
      return;
    }
  g_mutex_lock (&job->lock);
  job->captured = TRUE;
  g_cond_signal (&job->cond);
  g_mutex_unlock (&job->lock);
}

static gboolean
write_job (SaveJob *job, GError **error)
{
  gint64 s_input[] = { CS_SESSION_SIDE, CS_SESSION_SIDE };
  gint64 s_points[] = { job->xy->len / 2, 2 };
  gint64 s_lengths[] = { job->lengths->len };
  CsSafetensorsTensor extra[] = {
    { "app.drawing.input", "F32", 2, s_input, job->input, sizeof job->input },
    { "app.drawing.points", "F64", 2, s_points, job->xy->data, job->xy->len * sizeof (double) },
    { "app.drawing.lengths", "U32", 1, s_lengths, job->lengths->data,
      job->lengths->len * sizeof (guint32) },
  };
  const char *metadata[] = {
    "app.model", job->model,
    "app.drawing.empty", job->empty ? "1" : "0",
    "app.view", job->view ? job->view : "",
    "app.file", job->file ? job->file : "",
    NULL,
  };
  return cs_run_state_save (job->state, job->path, extra, G_N_ELEMENTS (extra), metadata, error);
}

static void
write_in_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  GError *error = NULL;
  if (write_job (data, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static gboolean
capture_done_async (gpointer data)
{
  SaveJob *job = data;
  GTask *task = job->task;
  if (!job->capture_ok)
    {
      if (job->error == NULL)
        g_set_error_literal (&job->error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                             _("The training run stopped before it could be saved"));
      g_task_return_error (task, g_steal_pointer (&job->error));
      g_object_unref (task);
      return G_SOURCE_REMOVE;
    }
  g_task_run_in_thread (task, write_in_thread);
  g_object_unref (task);
  return G_SOURCE_REMOVE;
}

static gboolean
begin_save (CsSession *self, SaveJob *job, GError **error)
{
  CsTraining *training = cs_session_get_training (self, error);
  if (training == NULL)
    return FALSE;
  cs_trainer_invoke (cs_training_get_trainer (training), capture_on_trainer, job,
                     capture_finished);
  return TRUE;
}

/* What was saved: nothing to autosave until something changes again. */
static void
mark_saved (CsSession *self, SaveJob *job)
{
  self->saved_generation = 0;
  if (self->training != NULL)
    self->saved_generation = cs_training_get_status (self->training)->generation;
  self->saved_step = cs_model_get_step (job->state->model);
  self->saved_drawing = job->drawing_serial;
  self->saved_model = (guint) find_slot (self, job->model);
  g_free (self->saved_view);
  self->saved_view = g_strdup (job->view);
}

static void
end_save (CsSession *self, SaveJob *job, gboolean ok)
{
  if (ok && job->autosave)
    mark_saved (self, job);
  if (ok && !job->autosave)
    set_file (self, job->path);
  if (job->autosave && self->autosave_state == NULL)
    self->autosave_state = g_steal_pointer (&job->state);
}

void
cs_session_save_async (CsSession          *self,
                       const char         *path,
                       GCancellable       *cancellable,
                       GAsyncReadyCallback callback,
                       gpointer            user_data)
{
  g_return_if_fail (CS_IS_SESSION (self));
  g_return_if_fail (path != NULL);

  GTask *task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, cs_session_save_async);
  gboolean autosave = g_strcmp0 (path, self->autosave_path) == 0;
  SaveJob *job = save_job_new (self, path, autosave);
  job->task = task;
  g_task_set_task_data (task, job, (GDestroyNotify) save_job_free);
  GError *error = NULL;
  if (!begin_save (self, job, &error))
    {
      g_task_return_error (task, error);
      g_object_unref (task);
    }
  /* the task's reference is dropped once the capture is done */
}

gboolean
cs_session_save_finish (CsSession *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (CS_IS_SESSION (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  SaveJob *job = g_task_get_task_data (G_TASK (result));
  gboolean ok = g_task_propagate_boolean (G_TASK (result), error);
  end_save (self, job, ok);
  return ok;
}

#define SAVE_WAIT_US (30 * G_USEC_PER_SEC)

static gboolean
save_waiting (CsSession *self, const char *path, gboolean autosave, GError **error)
{
  SaveJob *job = save_job_new (self, path, autosave);
  gboolean ok = begin_save (self, job, error);
  if (ok)
    {
      gint64 end = g_get_monotonic_time () + SAVE_WAIT_US;
      g_mutex_lock (&job->lock);
      while (!job->captured)
        if (!g_cond_wait_until (&job->cond, &job->lock, end))
          break;
      gboolean captured = job->captured;
      g_mutex_unlock (&job->lock);
      if (!captured)
        {
          /* the trainer still holds the job: leave it to it */
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                               _("The training run did not pause to be saved"));
          return FALSE;
        }
      if (!job->capture_ok)
        {
          g_propagate_error (error, g_steal_pointer (&job->error));
          ok = FALSE;
        }
      else
        ok = write_job (job, error);
    }
  end_save (self, job, ok);
  save_job_free (job);
  return ok;
}

gboolean
cs_session_save (CsSession *self, const char *path, GError **error)
{
  g_return_val_if_fail (CS_IS_SESSION (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  return save_waiting (self, path, g_strcmp0 (path, self->autosave_path) == 0, error);
}

/* The tensor name's bytes when it has the dtype and length given. */
static gconstpointer
app_tensor (CsSafetensors *file, const char *name, const char *dtype, gsize elem, gsize *n)
{
  const CsSafetensorsEntry *e = cs_safetensors_lookup (file, name);
  if (e == NULL || !g_str_equal (e->dtype, dtype) || e->nbytes % elem != 0)
    return NULL;
  *n = e->nbytes / elem;
  return e->nbytes ? cs_safetensors_get_data (file, e) : (gconstpointer) "";
}

static gboolean
open_file (CsSession *self, const char *path, gboolean autosave, GError **error)
{
  g_autoptr(CsSafetensors) file = NULL;
  g_autoptr(GError) local = NULL;
  g_autoptr(CsRunState) state = cs_run_state_load (path, &file, &local);
  if (state == NULL)
    {
      g_set_error (error, local->domain, local->code, "%s", local->message);
      return FALSE;
    }
  const char *display = cs_safetensors_get_display_name (file);

  /* The network: one of the two the application shows. */
  int slot_index = find_slot (self, cs_model_get_name (state->model));
  if (slot_index < 0 || self->slots[slot_index].model == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("%s: the session trains the network “%s”, which this window does not "
                     "show (it shows the MLP and the SimpleCNN)"),
                   display, cs_model_get_name (state->model));
      return FALSE;
    }
  CsSlot *slot = &self->slots[slot_index];
  if (cs_model_get_n_params (slot->model) != cs_model_get_n_params (state->model))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("%s: its network “%s” is not the one this version of Convscope has"),
                   display, cs_model_get_name (state->model));
      return FALSE;
    }

  /* The drawing: the input, and the strokes it was drawn with. */
  gsize n_input = 0, n_xy = 0, n_lengths = 0;
  const guint8 *input = app_tensor (file, "app.drawing.input", "F32", 4, &n_input);
  const guint8 *xy = app_tensor (file, "app.drawing.points", "F64", 16, &n_xy);
  const guint8 *lengths = app_tensor (file, "app.drawing.lengths", "U32", 4, &n_lengths);
  const char *empty = cs_safetensors_get_metadata (file, "app.drawing.empty");
  gsize total = 0;
  for (gsize i = 0; lengths != NULL && i < n_lengths; i++)
    {
      guint32 len;
      memcpy (&len, lengths + 4 * i, 4);
      total += GUINT32_FROM_LE (len);
    }
  if (input == NULL || n_input != CS_SESSION_PIXELS || xy == NULL || lengths == NULL
      || total != n_xy || empty == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("%s: the drawing in the session is missing or damaged"), display);
      return FALSE;
    }

  /* The run: on the same digits. */
  CsTraining *training = cs_session_get_training (self, error);
  if (training == NULL)
    return FALSE;
  const CsTrainerStatus *status = cs_training_get_status (training);
  if (state->train_examples != status->train_examples
      || g_strcmp0 (state->dataset, status->dataset) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("%s: the session trained on %s (%u examples), not on the digits this "
                     "Convscope has (%s, %u)"),
                   display, state->dataset, state->train_examples, status->dataset,
                   status->train_examples);
      return FALSE;
    }

  /* Everything checked: change the session. */
  gint64 step = cs_model_get_step (state->model);
  if (step > 0 || slot->training_step >= 0)
    {
      memcpy (cs_model_get_params (slot->model), cs_model_get_params (state->model),
              cs_model_get_n_params (slot->model) * sizeof (float));
      _cs_model_set_step (slot->model, step);
      slot->trained = FALSE;
      slot->training_step = step;
    }
  if ((guint) slot_index != self->current)
    {
      self->current = (guint) slot_index;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MODEL]);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MODEL_TITLE]);
    }
  self->weights_serial++;
  g_signal_emit (self, signals[WEIGHTS_CHANGED], 0);
  cs_trainer_restore (cs_training_get_trainer (training), g_steal_pointer (&state));

  memcpy (self->x, input, sizeof (float) * CS_SESSION_PIXELS);
  memcpy (self->prediction.input, input, sizeof self->prediction.input);
  self->prediction.empty = g_str_equal (empty, "1");
  g_array_set_size (self->stroke_xy, (guint) (2 * n_xy));
  if (n_xy > 0)
    memcpy (self->stroke_xy->data, xy, n_xy * 16);
  g_array_set_size (self->stroke_lengths, (guint) n_lengths);
  for (gsize i = 0; i < n_lengths; i++)
    {
      guint32 len;
      memcpy (&len, lengths + 4 * i, 4);
      g_array_index (self->stroke_lengths, guint32, i) = GUINT32_FROM_LE (len);
    }
  self->drawing_serial++;
  gint64 start = g_get_monotonic_time ();
  cs_session_forward (self);
  self->prediction.forward_usec = g_get_monotonic_time () - start;
  g_signal_emit (self, signals[PREDICTION_CHANGED], 0);
  g_signal_emit (self, signals[DRAWING_RESTORED], 0);

  const char *view = cs_safetensors_get_metadata (file, "app.view");
  if (view != NULL && *view != '\0')
    cs_session_set_view (self, view);
  set_file (self, autosave ? cs_safetensors_get_metadata (file, "app.file") : path);
  return TRUE;
}

gboolean
cs_session_open (CsSession *self, const char *path, GError **error)
{
  g_return_val_if_fail (CS_IS_SESSION (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  return open_file (self, path, FALSE, error);
}

gboolean
cs_session_restore_autosave (CsSession *self, GError **error)
{
  g_return_val_if_fail (CS_IS_SESSION (self), FALSE);
  g_return_val_if_fail (self->autosave_path != NULL, FALSE);
  return open_file (self, self->autosave_path, TRUE, error);
}

/* Whether anything changed since the last autosave. */
static gboolean
changed_since_autosave (CsSession *self)
{
  if (self->saved_step < 0)
    return TRUE;
  if (self->training != NULL)
    {
      const CsTrainerStatus *s = cs_training_get_status (self->training);
      if (s->generation != self->saved_generation || s->step != self->saved_step)
        return TRUE;
    }
  return self->drawing_serial != self->saved_drawing || self->current != self->saved_model
         || g_strcmp0 (self->view, self->saved_view) != 0;
}

static void
on_autosaved (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CsSession *self = CS_SESSION (source);
  g_autoptr(GError) error = NULL;

  self->autosaving = FALSE;
  if (!cs_session_save_finish (self, result, &error))
    g_message ("The session could not be autosaved: %s", error->message);
}

static gboolean
autosave_tick (gpointer data)
{
  CsSession *self = data;
  if (!self->autosaving && changed_since_autosave (self))
    {
      self->autosaving = TRUE;
      cs_session_save_async (self, self->autosave_path, NULL, on_autosaved, NULL);
    }
  return G_SOURCE_CONTINUE;
}

void
cs_session_set_autosave (CsSession *self, const char *path, guint interval_s)
{
  g_return_if_fail (CS_IS_SESSION (self));
  g_clear_handle_id (&self->autosave_id, g_source_remove);
  g_free (self->autosave_path);
  self->autosave_path = g_strdup (path);
  if (path != NULL)
    self->autosave_id = g_timeout_add_seconds (MAX (interval_s, 1), autosave_tick, self);
}

gboolean
cs_session_autosave_now (CsSession *self, GError **error)
{
  g_return_val_if_fail (CS_IS_SESSION (self), FALSE);
  if (self->autosave_path == NULL || !changed_since_autosave (self))
    return TRUE;
  return save_waiting (self, self->autosave_path, TRUE, error);
}
