/* cs-session.h — the one object of the application that holds the networks
 *
 * The views never call into the engine (core/) themselves: they ask the
 * session, which holds the models and hands out what the views draw. For
 * now that is the two pretrained networks (the MLP and the SimpleCNN, loaded
 * from data/checkpoints/), the choice between them, and the prediction for
 * a drawing: the 28 × 28 picture the network really receives, the ten
 * logits and the softmax probabilities; and the training run (CsTraining,
 * made when first asked for), whose model is the session's: once the run
 * has taken a step, the session predicts with the run's newest weights,
 * so the drawing's prediction sharpens while the network trains, and the
 * run watches the drawing.
 *
 * A checkpoint that is missing, corrupt or made for another kind of input
 * does not stop anything: the session builds the same preset untrained,
 * predicts with it, and says so in its "message" property, which the window
 * shows in a banner.
 */
#pragma once

#include <glib-object.h>

#include "cs-snapshot.h"
#include "cs-training.h"

G_BEGIN_DECLS

#define CS_SESSION_SIDE     28                      /* the network's input is SIDE × SIDE */
#define CS_SESSION_PIXELS   (CS_SESSION_SIDE * CS_SESSION_SIDE)
#define CS_SESSION_CLASSES  10

/* The models a session holds, by their preset names. */
#define CS_SESSION_MODEL_MLP  "mlp"
#define CS_SESSION_MODEL_CNN  "simple-cnn"

typedef struct
{
  gboolean empty;                        /* no ink: input is all zeros, predicted is −1 */
  int      predicted;                    /* argmax of the logits, or −1 */
  float    input[CS_SESSION_PIXELS];     /* (28, 28) in 0..1, ink 1: what the network receives */
  float    logits[CS_SESSION_CLASSES];   /* (10) */
  float    probs[CS_SESSION_CLASSES];    /* (10) softmax of the logits */
  /* Where the preprocessing found the ink, in fractions (0..1) of the
   * picture's width and height: the crop box and the centre of mass. */
  double   bbox_x, bbox_y, bbox_width, bbox_height;
  double   center_x, center_y;
  gint64   forward_usec;                 /* preprocessing + forward + softmax, µs */
  gboolean trained;                      /* from a pretrained checkpoint */
  gint64   training_step;                /* ≥ 0: the weights are the training run's, after
                                          * this many steps; −1: the checkpoint's */
} CsPrediction;

#define CS_TYPE_SESSION (cs_session_get_type ())
G_DECLARE_FINAL_TYPE (CsSession, cs_session, CS, SESSION, GObject)

/* Loads checkpoints/mlp.safetensors and checkpoints/simple-cnn.safetensors
 * from the data folders (core/paths.h). Never fails: see "message". */
CsSession          *cs_session_new                (void);
/* The same from given files (either may be NULL for "not there"): tests. */
CsSession          *cs_session_new_for_checkpoints (const char *mlp_path,
                                                    const char *cnn_path);

/* "mlp" or "simple-cnn" (property "model"); setting it predicts the last
 * input again with the other network. */
const char         *cs_session_get_model          (CsSession  *self);
void                cs_session_set_model          (CsSession  *self,
                                                   const char *model);
/* "MLP 784-256-10", "SimpleCNN" (property "model-title"). */
const char         *cs_session_get_model_title    (CsSession  *self);
/* TRUE when the current model came from its pretrained checkpoint. */
gboolean            cs_session_get_model_trained  (CsSession  *self);
/* What went wrong loading the models, one paragraph a person can read, or
 * NULL when both loaded (property "message"). */
const char         *cs_session_get_message        (CsSession  *self);

/* gray: (h, w) grey levels in 0..1, either polarity of ink, row y at
 * gray + y · stride. Runs the MNIST-style preprocessing, the current
 * network and softmax; fills out (may be NULL), keeps the result as the
 * session's prediction and emits "prediction-changed". Returns FALSE when
 * the picture held no ink (out->empty) or no network could be built. */
gboolean            cs_session_predict            (CsSession   *self,
                                                   const float *gray,
                                                   int          w,
                                                   int          h,
                                                   int          stride,
                                                   CsPrediction *out);
/* input: (28, 28) in 0..1, ink 1: a picture already in the network's
 * form (a test digit), fed as it is, without the preprocessing; the rest
 * as cs_session_predict (). The ink box and centre of mass are those of
 * the picture itself. */
gboolean            cs_session_predict_input      (CsSession   *self,
                                                   const float *input,
                                                   CsPrediction *out);
/* The latest prediction (empty before the first). */
const CsPrediction *cs_session_get_prediction     (CsSession  *self);

/* The training run of the current model, made on first use (NULL and an
 * error when the bundled digits cannot be read: every later call fails
 * the same way). Changing the session's model changes the run's (a new
 * run); the run's weights reach the session with every frame once it has
 * taken a step. Transfer none. */
CsTraining         *cs_session_get_training       (CsSession  *self,
                                                   GError    **error);
/* The run, or NULL when none was made yet. */
CsTraining         *cs_session_peek_training      (CsSession  *self);

/* What the Network view draws: the current network's every activation for
 * the latest input (a blank picture before the first drawing) and its
 * weights, copied. Taken when first asked for after a prediction or a
 * change of network, then kept. Transfer none; NULL without a network. */
CsSnapshot         *cs_session_get_snapshot       (CsSession  *self);

/* The current network's weights, to be evaluated elsewhere (on a thread):
 * its description and its parameters and buffers in host memory, valid
 * until they change; "weights-changed" says when (a frame of the run,
 * another model), and serial changes with them. FALSE without a network. */
typedef struct
{
  const char  *json;           /* the model's description (cs_model_get_json ()) */
  const char  *title;          /* "SimpleCNN" */
  const float *params;         /* (n_params) */
  gsize        n_params;
  const float *buffers;        /* (n_buffers): BatchNorm's running statistics */
  gsize        n_buffers;
  guint64      serial;
  gboolean     trained;        /* the pretrained checkpoint's */
  gint64       training_step;  /* ≥ 0: the run's weights after this step */
} CsSessionWeights;

gboolean            cs_session_get_weights        (CsSession        *self,
                                                   CsSessionWeights *out);

/* ---- sessions: the whole state in a file (core/session-file.h) ---------
 *
 * A session file holds the training run (weights, optimizer state, step,
 * batch order, hyper-parameters, history: cs_trainer_capture ()), the
 * network chosen, the drawing (its strokes and the 28 × 28 input) and the
 * view shown. Saving captures the run on the trainer's thread between two
 * batches and writes the file on a worker thread, atomically; opening
 * checks the whole file first and changes nothing when it is bad. */

/* The drawing's strokes, for the file: n_strokes strokes, stroke i of
 * lengths[i] points, the points (x, y) one after the other in xy, canvas
 * units (0..1). The Draw view sets them as they change. */
void                cs_session_set_strokes        (CsSession      *self,
                                                   const double   *xy,
                                                   const guint32  *lengths,
                                                   guint           n_strokes);
const double       *cs_session_get_strokes        (CsSession      *self,
                                                   const guint32 **lengths,
                                                   guint          *n_strokes);
/* The view shown (property "view"): the window sets it, a session opened
 * sets it. NULL before either. */
const char         *cs_session_get_view           (CsSession      *self);
void                cs_session_set_view           (CsSession      *self,
                                                   const char     *view);
/* The file last saved to or opened (property "file"), NULL for a new
 * session. */
const char         *cs_session_get_file           (CsSession      *self);

void                cs_session_save_async         (CsSession          *self,
                                                   const char         *path,
                                                   GCancellable       *cancellable,
                                                   GAsyncReadyCallback callback,
                                                   gpointer            user_data);
gboolean            cs_session_save_finish        (CsSession          *self,
                                                   GAsyncResult       *result,
                                                   GError            **error);
/* The same, waiting for the trainer and the write (closing; tests). */
gboolean            cs_session_save               (CsSession          *self,
                                                   const char         *path,
                                                   GError            **error);
/* Replaces the session by the file's; on error nothing changes. Emits
 * "drawing-restored" for the Draw view to take the strokes. */
gboolean            cs_session_open               (CsSession          *self,
                                                   const char         *path,
                                                   GError            **error);

/* Autosave to path every interval_s seconds when something changed since
 * the last save (training, the drawing, the view), in the background;
 * path NULL stops it. cs_session_autosave_now () writes at once and waits
 * (closing the window). */
void                cs_session_set_autosave       (CsSession          *self,
                                                   const char         *path,
                                                   guint               interval_s);
gboolean            cs_session_autosave_now       (CsSession          *self,
                                                   GError            **error);
/* Opens the autosaved session, which keeps the name of the file it was
 * saved to or opened from, if any. */
gboolean            cs_session_restore_autosave   (CsSession          *self,
                                                   GError            **error);

G_END_DECLS
