/* cs-session.c — the networks of the application, and their predictions */
#include "cs-session.h"

#include "core/checkpoint.h"
#include "core/loss.h"
#include "core/paths.h"
#include "core/preprocess.h"

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
};

G_DEFINE_FINAL_TYPE (CsSession, cs_session, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_MODEL,
  PROP_MODEL_TITLE,
  PROP_MESSAGE,
  N_PROPS
};

enum {
  PREDICTION_CHANGED,
  WEIGHTS_CHANGED,
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

  G_OBJECT_CLASS (cs_session_parent_class)->finalize (object);
}

static void
cs_session_dispose (GObject *object)
{
  CsSession *self = (CsSession *) object;

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
}

static void
cs_session_init (CsSession *self)
{
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
