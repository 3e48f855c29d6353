/* evaluate.h — a model's loss and accuracy over a whole dataset
 *
 * cs_evaluate () gives the totals; a CsEvaluator does the same again and
 * again on one model and dataset (the application re-evaluates the test
 * split while a run trains) with its buffers allocated once, and can also
 * keep what the model said of every example: its class and its
 * probabilities, for the confusion matrix and the gallery of mistakes.
 */
#pragma once

#include <glib.h>

#include "dataset.h"
#include "model.h"

G_BEGIN_DECLS

typedef struct
{
  guint32 n;          /* examples seen */
  guint32 correct;    /* whose largest logit is their label */
  double loss;        /* mean cross-entropy */
  double accuracy;    /* correct / n */
} CsEvaluation;

/* Eval mode (BatchNorm's running statistics, no dropout), in batches of the
 * model's reserved size, on the model's device (its activations and output
 * gradient are overwritten; on a GPU, cs_model_check () afterwards).
 * confusion, when not NULL, is (classes, classes): row = true class,
 * column = predicted, and is added to. */
void cs_evaluate (CsModel *model, const CsDataset *ds, CsEvaluation *out, guint32 *confusion);

/* The batch buffers for evaluating model (reserved, cs_model_reserve ())
 * on ds, allocated here once; both must outlive the evaluator, and the
 * model keep its reserved size and output. */
typedef struct _CsEvaluator CsEvaluator;

CsEvaluator *cs_evaluator_new    (CsModel         *model,
                                  const CsDataset *ds);
/* Classes per example: the model's output size (probs' row length). */
int          cs_evaluator_get_classes (const CsEvaluator *ev);
/* cs_evaluate (), and per example when not NULL:
 *   predicted: (ds->n) the class of the largest logit (what cs_evaluate
 *              counts as correct or not)
 *   probs:     (ds->n, classes) the softmax of the logits
 * Nothing is allocated. */
void         cs_evaluator_run    (CsEvaluator     *ev,
                                  CsEvaluation    *out,
                                  guint32         *confusion,
                                  gint32          *predicted,
                                  float           *probs);
void         cs_evaluator_free   (CsEvaluator     *ev);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsEvaluator, cs_evaluator_free)

G_END_DECLS
