/* loss.h — losses and the training step they drive */
#pragma once

#include <glib.h>

#include "backend.h"
#include "model.h"
#include "optim.h"
#include "tensor.h"

G_BEGIN_DECLS

/* Mean cross-entropy of logits (N, C) against class indices (N), the
 * softmax fused in (stable for large logits). Writes probs (N, C) and
 * dlogits (N, C). Returns the loss. All of it, labels included, in the
 * memory of be's device. */
double cs_loss_cross_entropy (const CsBackend *be, CsTensor *dlogits, CsTensor *probs,
                              const CsTensor *logits, const gint32 *labels);
/* Mean squared error; dpred = 2 (pred − target) / numel. */
double cs_loss_mse           (const CsBackend *be, CsTensor *dpred,
                              const CsTensor *pred, const CsTensor *target);

/* One turn of the training loop on a batch, PyTorch's order:
 * forward → loss → zero_grad → backward → step.
 * x: (N, input shape), labels: (N), probs: (N, classes) scratch the caller
 * owns, all in host memory whatever the model's device. Returns the loss
 * before the step; *n_correct (may be NULL) counts the examples whose
 * largest logit is their label. On a GPU, follow with cs_model_check (). */
double cs_train_step (CsModel *model, CsOptimizer *opt, const CsTensor *x,
                      const gint32 *labels, float *probs, int *n_correct);

/* Index of the largest value of each row of (N, C). */
void   cs_argmax_rows (gint32 *out, const float *x, int N, int C);

G_END_DECLS
