/* evaluate.c — accuracy and loss of a model over a dataset */
#include "evaluate.h"
#include "loss.h"

struct _CsEvaluator
{
  CsModel *model;          /* borrowed */
  const CsDataset *ds;     /* borrowed */
  guint32 B;               /* the model's reserved batch */
  int C;                   /* classes: the model's output size */
  float *x;                /* (B, input shape) */
  gint32 *y;               /* (B) */
  gint32 *pred;            /* (B) */
  guint32 *idx;            /* (B) */
  float *logits_host;      /* (B, C): a GPU's logits, copied */
};

CsEvaluator *
cs_evaluator_new (CsModel *model, const CsDataset *ds)
{
  g_return_val_if_fail (model != NULL && ds != NULL, NULL);
  g_return_val_if_fail (cs_model_get_max_batch (model) > 0, NULL);

  const CsShape *in = cs_model_get_input_shape (model);
  int C = (int) cs_shape_numel (cs_model_get_output_shape (model));
  g_return_val_if_fail (cs_shape_numel (in) == (gint64) ds->rows * ds->cols, NULL);
  g_return_val_if_fail ((int) ds->n_classes <= C, NULL);

  CsEvaluator *ev = g_new0 (CsEvaluator, 1);
  ev->model = model;
  ev->ds = ds;
  ev->B = (guint32) cs_model_get_max_batch (model);
  ev->C = C;
  ev->x = g_new (float, (gsize) ev->B * cs_shape_numel (in));
  ev->y = g_new (gint32, ev->B);
  ev->pred = g_new (gint32, ev->B);
  ev->idx = g_new (guint32, ev->B);
  ev->logits_host = g_new (float, (gsize) ev->B * C);
  return ev;
}

int
cs_evaluator_get_classes (const CsEvaluator *ev)
{
  g_return_val_if_fail (ev != NULL, 0);
  return ev->C;
}

void
cs_evaluator_free (CsEvaluator *ev)
{
  if (ev == NULL)
    return;
  g_free (ev->x);
  g_free (ev->y);
  g_free (ev->pred);
  g_free (ev->idx);
  g_free (ev->logits_host);
  g_free (ev);
}

void
cs_evaluator_run (CsEvaluator  *ev,
                  CsEvaluation *out,
                  guint32      *confusion,
                  gint32       *predicted,
                  float        *probs)
{
  g_return_if_fail (ev != NULL && out != NULL);
  g_return_if_fail (cs_model_get_max_batch (ev->model) >= (int) ev->B);

  CsModel *model = ev->model;
  const CsDataset *ds = ev->ds;
  const CsShape *in = cs_model_get_input_shape (model);
  const CsBackend *be = cs_model_get_backend (model);
  guint32 B = ev->B;
  int C = ev->C;

  *out = (CsEvaluation) { 0 };
  double total = 0.0;
  for (guint32 start = 0; start < ds->n; start += B)
    {
      guint32 n = MIN (B, ds->n - start);
      for (guint32 i = 0; i < n; i++)
        ev->idx[i] = start + i;
      cs_dataset_fill_batch (ds, ev->idx, n, ev->x, ev->y);
      CsTensor xt = cs_tensor_view_batch (ev->x, n, in);
      const CsTensor *logits = cs_model_forward (model, &xt, FALSE);
      /* probs: (n, C) of this batch, straight into the caller's rows */
      total += cs_model_cross_entropy (model, ev->y, probs ? probs + (gsize) start * C : NULL) * n;
      gint32 *pred = predicted ? predicted + start : ev->pred;
      cs_argmax_rows (pred, cs_backend_host_view (be, ev->logits_host, logits->data, (gsize) n * C),
                      (int) n, C);
      for (guint32 i = 0; i < n; i++)
        {
          out->correct += pred[i] == ev->y[i];
          if (confusion != NULL)
            confusion[ev->y[i] * C + pred[i]]++;
        }
      out->n += n;
    }
  out->loss = out->n ? total / out->n : 0.0;
  out->accuracy = out->n ? (double) out->correct / out->n : 0.0;
}

void
cs_evaluate (CsModel *model, const CsDataset *ds, CsEvaluation *out, guint32 *confusion)
{
  g_return_if_fail (model != NULL && ds != NULL && out != NULL);

  g_autoptr(CsEvaluator) ev = cs_evaluator_new (model, ds);
  if (ev != NULL)
    cs_evaluator_run (ev, out, confusion, NULL, NULL);
}
