/* cs-training-view.h — the Training view: the network learning, one batch at a time
 *
 * Above, the controls: Play / Pause (Space), Step (→: exactly one
 * mini-batch), Reset (Ctrl+R: the weights again from the seed), the model,
 * the optimizer, its learning rate, the batch size, the device, and a log
 * scale for the loss. Below, a figure:
 *
 *   - the loss and the accuracy over the steps: every batch's (thin), its
 *     running average (thick), and the test split's after each epoch
 *     (dots), decimated to the pixels so that an hour of training draws as
 *     fast as a minute;
 *   - after a Step, the batch it was: the examples with their labels and
 *     the class the network gave each before the update and after it, and
 *     the batch's loss before and after;
 *   - one weight's update written out with the numbers of that step:
 *     w ← w − lr · ∂L/∂w, or the optimizer's own form (momentum, Adam's m̂
 *     and v̂, RMSprop), for the weight of the first layer with the largest
 *     gradient;
 *   - what the diagnostics say (a NaN, a loss that does not fall, dead
 *     ReLUs, exploding or vanishing gradients, overfitting), with remedies.
 *
 * The figure is a pure function of a CsTrainingViewState onto a cairo_t:
 * the tests draw it with no display, the export menu into files.
 */
#pragma once

#include <gtk/gtk.h>

#include "cs-session.h"
#include "cs-training.h"
#include "cs-view.h"

G_BEGIN_DECLS

typedef struct
{
  gboolean running;                /* a training run exists */
  const char *message;             /* else why not (not owned) */
  CsTrainerStatus status;
  const CsTrainHistory *history;   /* not owned; NULL: none */
  CsTrainingFrame *frame;          /* not owned; NULL: none yet */
  CsTrainingFrame *previous;       /* the frame before it, or NULL */
  gboolean log_scale;              /* the loss on a log axis */
  const char *highlight;           /* "loss", "accuracy" or NULL (the figure's part of
                                    * cs_view_set_highlight ()) */
} CsTrainingViewState;

void     cs_training_view_state_init (CsTrainingViewState *state);
void     cs_training_view_state_draw (const CsTrainingViewState *state,
                                      cairo_t                   *cr,
                                      int                        width,
                                      int                        height);

/* One weight's update in the last Step, as the figure writes it out. */
typedef struct
{
  char name[96];          /* "1.weight[37, 402]" */
  gsize index;            /* in the parameter block */
  CsOptimConfig optim;
  gint64 t;               /* the step: 1 for the first */
  double before;          /* w before the step, read from the previous frame */
  double grad;            /* ∂L/∂w of the batch */
  double effective_grad;  /* with the weight decay: ∂L/∂w + λ·w */
  double state1, state2;  /* the optimizer's state after the step: momentum buffer
                           * or Adam's m; Adam's v or RMSprop's square average */
  double step_value;      /* what was subtracted from w: lr · (…) */
  double predicted;       /* before − step_value: w after by the formula */
  double after;           /* w after the step: the engine's */
} CsWeightUpdate;

/* FALSE when the state has no Step to write out: the newest frame does
 * not hold the weights of the step before (training played, or was
 * reset), or has no optimizer state. */
gboolean cs_training_view_state_get_update (const CsTrainingViewState *state,
                                            CsWeightUpdate            *update);
/* The update written out, lines of plain text (for the figure, the
 * accessible description and the tests). */
char    *cs_weight_update_to_text          (const CsWeightUpdate      *update);

/* The smoothed series the figure draws: the exponential moving average of
 * values with weight 1 − 1 / window and a bias correction, so the first
 * points are not pulled to 0; NaN values are skipped. out has n floats. */
void     cs_training_view_smooth           (const float *values,
                                            gsize        stride,
                                            gsize        n,
                                            double       window,
                                            float       *out);

#define CS_TYPE_TRAINING_VIEW (cs_training_view_get_type ())
G_DECLARE_FINAL_TYPE (CsTrainingView, cs_training_view, CS, TRAINING_VIEW, GtkWidget)

/* Makes the session's training run when first shown. settings (may be
 * NULL) keeps the optimizer, learning rate, batch size and device. */
GtkWidget  *cs_training_view_new        (CsSession  *session,
                                         GSettings  *settings);
CsSession  *cs_training_view_get_session (CsTrainingView *self);
/* The run, made now if it was not (NULL when it cannot be). */
CsTraining *cs_training_view_get_training (CsTrainingView *self);
const CsTrainingViewState *cs_training_view_get_state (CsTrainingView *self);

G_END_DECLS
