/* evaluate.h — a model's loss and accuracy over a whole dataset */
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

G_END_DECLS
