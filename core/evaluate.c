/* evaluate.c — accuracy and loss of a model over a dataset */
#include "evaluate.h"
#include "loss.h"

void
cs_evaluate (CsModel *model, const CsDataset *ds, CsEvaluation *out, guint32 *confusion)
{
  g_return_if_fail (model != NULL && ds != NULL && out != NULL);
  g_return_if_fail (cs_model_get_max_batch (model) > 0);

  const CsShape *in = cs_model_get_input_shape (model);
  int C = (int) cs_shape_numel (cs_model_get_output_shape (model));
  guint32 B = (guint32) cs_model_get_max_batch (model);
  g_return_if_fail (cs_shape_numel (in) == (gint64) ds->rows * ds->cols);
  g_return_if_fail ((int) ds->n_classes <= C);

  g_autofree float *x = g_new (float, (gsize) B * cs_shape_numel (in));
  g_autofree gint32 *y = g_new (gint32, B);
  g_autofree gint32 *pred = g_new (gint32, B);
  g_autofree guint32 *idx = g_new (guint32, B);
  g_autofree float *logits_host = g_new (float, (gsize) B * C);
  const CsBackend *be = cs_model_get_backend (model);

  *out = (CsEvaluation) { 0 };
  double total = 0.0;
  for (guint32 start = 0; start < ds->n; start += B)
    {
      guint32 n = MIN (B, ds->n - start);
      for (guint32 i = 0; i < n; i++)
        idx[i] = start + i;
      cs_dataset_fill_batch (ds, idx, n, x, y);
      CsTensor xt = cs_tensor_view_batch (x, n, in);
      const CsTensor *logits = cs_model_forward (model, &xt, FALSE);
      total += cs_model_cross_entropy (model, y, NULL) * n;
      cs_argmax_rows (pred, cs_backend_host_view (be, logits_host, logits->data, (gsize) n * C),
                      (int) n, C);
      for (guint32 i = 0; i < n; i++)
        {
          out->correct += pred[i] == y[i];
          if (confusion != NULL)
            confusion[y[i] * C + pred[i]]++;
        }
      out->n += n;
    }
  out->loss = out->n ? total / out->n : 0.0;
  out->accuracy = out->n ? (double) out->correct / out->n : 0.0;
}
