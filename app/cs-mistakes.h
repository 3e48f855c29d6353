/* cs-mistakes.h — the session's network on the test split, kept up to date
 *
 * A CsMistakes evaluates the session's current network (the pretrained
 * checkpoint, or the training run's newest weights) on the 2,000 bundled
 * test digits, on a thread of its own, and keeps what it said of every
 * example: the class it chose and the ten probabilities, the confusion
 * matrix, the loss and the accuracy. It works only while it is active (the
 * Mistakes view is on screen), and then each time the session's weights
 * change, at most about once a second and never more than a third of the
 * time (an evaluation of the SimpleCNN takes a processor for a fraction of
 * a second, which the trainer would rather have). The main loop never waits
 * for it: a new result replaces the shown one when it is complete, and
 * "changed" is emitted.
 *
 * Every buffer is allocated once (the thread's network again when the
 * session changes model).
 */
#pragma once

#include <glib-object.h>

#include "core/dataset.h"
#include "core/evaluate.h"
#include "cs-session.h"

G_BEGIN_DECLS

/* What one evaluation found: valid until the next "changed". */
typedef struct
{
  guint64      serial;          /* the session's weights serial evaluated */
  char        *title;           /* "SimpleCNN" */
  gboolean     trained;         /* the pretrained checkpoint's weights */
  gint64       training_step;   /* ≥ 0: the run's weights after this step */
  CsEvaluation eval;            /* loss, accuracy, correct of n */
  guint32      confusion[CS_SESSION_CLASSES * CS_SESSION_CLASSES];  /* row true, column predicted */
  guint32      n;               /* examples: the test split's */
  gint32      *predicted;       /* (n) */
  float       *probs;           /* (n, 10) softmax */
  gint64       usec;            /* how long it took */
} CsMistakesResult;

#define CS_TYPE_MISTAKES (cs_mistakes_get_type ())
G_DECLARE_FINAL_TYPE (CsMistakes, cs_mistakes, CS, MISTAKES, GObject)

/* On the bundled digits' test split; when it cannot be read, the object
 * stays idle and cs_mistakes_get_error () says why. */
CsMistakes             *cs_mistakes_new          (CsSession  *session);
/* The same on a given test split (taken): tests. */
CsMistakes             *cs_mistakes_new_for_data (CsSession  *session,
                                                  CsDataset  *test);

CsSession              *cs_mistakes_get_session  (CsMistakes *self);
/* The test split (NULL when it could not be read), and why not. */
const CsDataset        *cs_mistakes_get_dataset  (CsMistakes *self);
const char             *cs_mistakes_get_error    (CsMistakes *self);

/* While active, every change of the session's weights is evaluated
 * (throttled as above); activating evaluates at once if the weights
 * changed since the last result. */
void                    cs_mistakes_set_active   (CsMistakes *self,
                                                  gboolean    active);
gboolean                cs_mistakes_get_active   (CsMistakes *self);
/* Whether an evaluation runs on the thread now. */
gboolean                cs_mistakes_get_busy     (CsMistakes *self);

/* The newest complete result, NULL before the first. */
const CsMistakesResult *cs_mistakes_get_result   (CsMistakes *self);

G_END_DECLS
