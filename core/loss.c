/* loss.c — cross-entropy, MSE and the training step */
#include "loss.h"

#include <math.h>

double
cs_loss_cross_entropy (const CsBackend *be, CsTensor *dlogits, CsTensor *probs,
                       const CsTensor *logits, const gint32 *labels)
{
  g_return_val_if_fail (logits->ndim == 2, NAN);
  g_return_val_if_fail (cs_tensor_same_shape (dlogits, logits)
                        && cs_tensor_same_shape (probs, logits), NAN);

  return be->cross_entropy (dlogits->data, probs->data, logits->data, labels,
                            (int) logits->shape[0], (int) logits->shape[1]);
}

double
cs_loss_mse (const CsBackend *be, CsTensor *dpred, const CsTensor *pred, const CsTensor *target)
{
  g_return_val_if_fail (cs_tensor_same_shape (pred, target)
                        && cs_tensor_same_shape (dpred, pred), NAN);

  return be->mse (dpred->data, pred->data, target->data, (gsize) cs_tensor_numel (pred));
}

void
cs_argmax_rows (gint32 *out, const float *x, int N, int C)
{
  for (int n = 0; n < N; n++)
    {
      const float *row = x + (gsize) n * C;
      int best = 0;
      for (int c = 1; c < C; c++)
        if (row[c] > row[best])
          best = c;
      out[n] = best;
    }
}

double
cs_train_step (CsModel *model, CsOptimizer *opt, const CsTensor *x,
               const gint32 *labels, float *probs, int *n_correct)
{
  const CsTensor *logits = cs_model_forward (model, x, TRUE);
  g_return_val_if_fail (logits != NULL && logits->ndim == 2, NAN);

  int N = (int) logits->shape[0], C = (int) logits->shape[1];
  double loss = cs_model_cross_entropy (model, labels, probs);

  if (n_correct != NULL)
    {
      int correct = 0;
      for (int n = 0; n < N; n++)
        {
          gint32 pred;
          cs_argmax_rows (&pred, probs + (gsize) n * C, 1, C);
          correct += pred == labels[n];
        }
      *n_correct = correct;
    }

  cs_model_zero_grad (model);
  cs_model_backward (model);
  cs_optimizer_step (opt);
  return loss;
}
