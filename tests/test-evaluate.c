/* test-evaluate.c — evaluation over a dataset, totals and per example
 *
 * The bundled pretrained networks on the 2,000 bundled test digits: the
 * evaluator's per-example classes and probabilities agree with
 * cs_evaluate ()'s accuracy and loss, with the confusion matrix's totals,
 * and with themselves in batches of another size. */
#include "core/checkpoint.h"
#include "core/dataset.h"
#include "core/evaluate.h"
#include "core/paths.h"

#include <math.h>

static CsDataset *test_split;

static CsModel *
load (const char *name, int batch)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *rel = g_strdup_printf ("checkpoints/%s.safetensors", name);
  g_autofree char *path = cs_find_data_file (rel);
  g_assert_nonnull (path);
  CsModel *model = cs_checkpoint_load (path, &error);
  g_assert_no_error (error);
  g_assert_true (cs_model_reserve (model, batch, &error));
  g_assert_no_error (error);
  return model;
}

static void
test_examples (gconstpointer data)
{
  const char *name = data;
  const CsDataset *ds = test_split;
  g_autoptr(CsModel) model = load (name, 256);
  g_assert_cmpuint (ds->n, ==, 2000);

  CsEvaluation total;
  g_autofree guint32 *confusion = g_new0 (guint32, 100);
  cs_evaluate (model, ds, &total, confusion);

  g_autoptr(CsEvaluator) ev = cs_evaluator_new (model, ds);
  g_assert_nonnull (ev);
  g_assert_cmpint (cs_evaluator_get_classes (ev), ==, 10);
  g_autofree gint32 *predicted = g_new (gint32, ds->n);
  g_autofree float *probs = g_new (float, (gsize) ds->n * 10);
  g_autofree guint32 *confusion2 = g_new0 (guint32, 100);
  CsEvaluation per;
  cs_evaluator_run (ev, &per, confusion2, predicted, probs);

  /* the same totals as cs_evaluate, to the bit: the same batches */
  g_assert_cmpuint (per.n, ==, total.n);
  g_assert_cmpuint (per.correct, ==, total.correct);
  g_assert_cmpfloat (per.loss, ==, total.loss);
  g_assert_cmpfloat (per.accuracy, ==, total.accuracy);
  g_assert_cmpmem (confusion, 100 * sizeof (guint32), confusion2, 100 * sizeof (guint32));

  /* and from the examples, counted here */
  guint32 correct = 0;
  double loss = 0;
  for (guint32 i = 0; i < ds->n; i++)
    {
      const float *p = probs + (gsize) i * 10;
      int label = ds->labels[i];
      double sum = 0;
      for (int k = 0; k < 10; k++)
        {
          g_assert_cmpfloat (p[k], >=, 0);
          /* the predicted class has the largest probability (ties of
           * nearly equal logits aside) */
          g_assert_cmpfloat (p[k], <=, p[predicted[i]] + 1e-6f);
          sum += p[k];
        }
      g_assert_cmpfloat_with_epsilon (sum, 1.0, 1e-5);
      g_assert_cmpint (predicted[i], >=, 0);
      g_assert_cmpint (predicted[i], <, 10);
      correct += predicted[i] == label;
      loss -= log (MAX (p[label], 1e-30));
    }
  loss /= ds->n;
  g_assert_cmpuint (correct, ==, total.correct);
  g_assert_cmpfloat_with_epsilon (loss, total.loss, 1e-4 * total.loss + 1e-6);

  /* the matrix: every example once, its diagonal the correct ones, each
   * row the examples of that class */
  guint32 sum = 0, diagonal = 0;
  for (int t = 0; t < 10; t++)
    {
      guint32 row = 0, of_class = 0;
      for (int p = 0; p < 10; p++)
        row += confusion2[t * 10 + p];
      for (guint32 i = 0; i < ds->n; i++)
        of_class += ds->labels[i] == t;
      g_assert_cmpuint (row, ==, of_class);
      sum += row;
      diagonal += confusion2[t * 10 + t];
    }
  g_assert_cmpuint (sum, ==, 2000);
  g_assert_cmpuint (diagonal, ==, total.correct);
  g_test_message ("%s: %u of %u right (%.1f%%), loss %.4f", name, total.correct, total.n,
                  100 * total.accuracy, total.loss);
  /* a pretrained network: far better than chance, not perfect */
  g_assert_cmpfloat (total.accuracy, >, 0.9);
  g_assert_cmpuint (total.correct, <, 2000);

  /* batches of 7 (2,000 = 285 · 7 + 5): the same classes, the same
   * probabilities to float rounding */
  g_autoptr(CsModel) small = load (name, 7);
  g_autoptr(CsEvaluator) ev7 = cs_evaluator_new (small, ds);
  g_autofree gint32 *predicted7 = g_new (gint32, ds->n);
  g_autofree float *probs7 = g_new (float, (gsize) ds->n * 10);
  CsEvaluation e7;
  cs_evaluator_run (ev7, &e7, NULL, predicted7, probs7);
  g_assert_cmpuint (e7.n, ==, 2000);
  g_assert_cmpuint (e7.correct, ==, total.correct);
  g_assert_cmpmem (predicted7, ds->n * sizeof (gint32), predicted, ds->n * sizeof (gint32));
  for (gsize i = 0; i < (gsize) ds->n * 10; i++)
    g_assert_cmpfloat_with_epsilon (probs7[i], probs[i], 1e-5);
  g_assert_cmpfloat_with_epsilon (e7.loss, total.loss, 1e-5);

  /* again on the same evaluator: the same numbers (nothing left over) */
  CsEvaluation again;
  cs_evaluator_run (ev, &again, NULL, NULL, NULL);
  g_assert_cmpuint (again.correct, ==, total.correct);
  g_assert_cmpfloat (again.loss, ==, total.loss);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_autoptr(GError) error = NULL;
  test_split = cs_dataset_load_named ("digits", "test", &error);
  g_assert_no_error (error);

  g_test_add_data_func ("/core/evaluate/examples/mlp", "mlp", test_examples);
  g_test_add_data_func ("/core/evaluate/examples/simple-cnn", "simple-cnn", test_examples);
  int status = g_test_run ();
  cs_dataset_free (test_split);
  return status;
}
