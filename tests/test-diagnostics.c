/* test-diagnostics.c — troubles named from synthetic training histories
 *
 * Each history is made by hand to show one trouble (or none): a healthy
 * run says nothing, and each sick one gets its flag and a message naming
 * the usual remedies. Also the history's incremental copy and the tracker
 * of dead units.
 */
#include "core/diagnostics.h"
#include "core/rng.h"

#include <math.h>
#include <string.h>

#define N_LAYERS 4   /* linear, relu, linear, (no parameters) */

static const char *const titles[] = { "Linear", "ReLU", "Linear", "Softmax", NULL };

typedef struct
{
  float loss, grad_norm;
  float norms[N_LAYERS];
} Point;

/* A history of n batches from a function of the batch index. */
typedef void (*PointFunc) (guint i, guint n, CsRng *rng, Point *p);

static CsTrainHistory *
make_history (guint n, PointFunc fn)
{
  CsTrainHistory *h = cs_train_history_new (N_LAYERS, titles);
  CsRng rng;
  cs_rng_init (&rng, 7);
  for (guint i = 0; i < n; i++)
    {
      Point p = { 0 };
      fn (i, n, &rng, &p);
      CsTrainRecord r = {
        .step = i + 1, .epoch = i / 100, .size = 64, .loss = p.loss,
        .accuracy = 0.5f, .grad_norm = p.grad_norm, .lr = 0.01f,
      };
      cs_train_history_append (h, &r, p.norms);
    }
  return h;
}

static float
noise (CsRng *rng, float amount)
{
  return amount * (2.0f * (float) cs_rng_uniform (rng) - 1.0f);
}

/* Loss falling from ln 10 towards 0.1, gradients of order one. */
static void
healthy (guint i, guint n, CsRng *rng, Point *p)
{
  p->loss = 0.1f + 2.2f * expf (-(float) i / 150.0f) + noise (rng, 0.05f);
  p->norms[0] = 0.8f + noise (rng, 0.2f);
  p->norms[1] = NAN;
  p->norms[2] = 0.5f + noise (rng, 0.1f);
  p->norms[3] = NAN;
  p->grad_norm = hypotf (p->norms[0], p->norms[2]);
}

static void
assert_remedies (const char *message, const char *const *words)
{
  for (; *words != NULL; words++)
    if (strstr (message, *words) == NULL)
      g_error ("“%s” does not say “%s”", message, *words);
}

static void
test_healthy (void)
{
  g_autoptr(CsTrainHistory) h = make_history (1000, healthy);
  g_autoptr(GString) message = g_string_new (NULL);
  float dead[N_LAYERS] = { NAN, 0.05f, NAN, NAN };

  g_assert_cmpint (cs_diagnose (h, dead, NULL, message), ==, 0);
  g_assert_cmpstr (message->str, ==, "");

  /* and an empty one */
  g_autoptr(CsTrainHistory) empty = cs_train_history_new (N_LAYERS, titles);
  g_assert_cmpint (cs_diagnose (empty, NULL, NULL, message), ==, 0);
}

static void
nan_at_end (guint i, guint n, CsRng *rng, Point *p)
{
  healthy (i, n, rng, p);
  if (i == n - 1)
    p->loss = NAN, p->grad_norm = NAN;
}

static void
test_non_finite (void)
{
  g_autoptr(CsTrainHistory) h = make_history (30, nan_at_end);
  g_autoptr(GString) message = g_string_new (NULL);

  g_assert_cmpint (cs_diagnose (h, NULL, NULL, message), ==, CS_DIAGNOSIS_NON_FINITE);
  assert_remedies (message->str,
                   (const char *[]) { "NaN", "step 30", "learning rate (0.01)", "too high",
                                      "Reset", "lower", NULL });

  /* infinity, and a finite loss with an infinite gradient */
  CsTrainRecord r = { .step = 31, .loss = INFINITY, .grad_norm = 1.0f, .lr = 0.01f };
  cs_train_history_append (h, &r, NULL);
  g_string_truncate (message, 0);
  g_assert_cmpint (cs_diagnose (h, NULL, NULL, message), ==, CS_DIAGNOSIS_NON_FINITE);
  assert_remedies (message->str, (const char *[]) { "infinite", "step 31", NULL });
  r = (CsTrainRecord) { .step = 32, .loss = 1.0f, .grad_norm = INFINITY, .lr = 0.01f };
  cs_train_history_append (h, &r, NULL);
  g_assert_cmpint (cs_diagnose (h, NULL, NULL, NULL), ==, CS_DIAGNOSIS_NON_FINITE);
}

/* Stuck near ln 10 from the start. */
static void
stuck (guint i, guint n, CsRng *rng, Point *p)
{
  healthy (i, n, rng, p);
  p->loss = 2.30f + noise (rng, 0.05f);
}

/* Falls from 2.3 to 1.9 and stays there: still above half its start. */
static void
stalls (guint i, guint n, CsRng *rng, Point *p)
{
  healthy (i, n, rng, p);
  p->loss = (i < 100 ? 2.3f - 0.004f * i : 1.9f) + noise (rng, 0.05f);
}

/* Converged: flat, but low. */
static void
converged (guint i, guint n, CsRng *rng, Point *p)
{
  healthy (i, n, rng, p);
  p->loss = (i < 100 ? 2.3f - 0.022f * i : 0.1f) + noise (rng, 0.02f);
}

static void
test_plateau (void)
{
  g_autoptr(GString) message = g_string_new (NULL);
  g_autoptr(CsTrainHistory) a = make_history (300, stuck);
  g_assert_cmpint (cs_diagnose (a, NULL, NULL, message), ==, CS_DIAGNOSIS_PLATEAU);
  assert_remedies (message->str,
                   (const char *[]) { "not fallen", "last 200 batches", "learning rate",
                                      "BatchNorm", "larger batch", NULL });

  g_autoptr(CsTrainHistory) b = make_history (400, stalls);
  g_assert_cmpint (cs_diagnose (b, NULL, NULL, NULL), ==, CS_DIAGNOSIS_PLATEAU);

  g_autoptr(CsTrainHistory) c = make_history (400, converged);
  g_assert_cmpint (cs_diagnose (c, NULL, NULL, NULL), ==, 0);

  /* not before a window has passed */
  g_autoptr(CsTrainHistory) d = make_history (150, stuck);
  g_assert_cmpint (cs_diagnose (d, NULL, NULL, NULL), ==, 0);
}

/* Norms of order one, then two hundred times that. */
static void
explodes (guint i, guint n, CsRng *rng, Point *p)
{
  healthy (i, n, rng, p);
  if (i >= n - 6)
    {
      p->norms[2] *= 400.0f;
      p->grad_norm = hypotf (p->norms[0], p->norms[2]);
    }
}

/* Always enormous. */
static void
huge (guint i, guint n, CsRng *rng, Point *p)
{
  healthy (i, n, rng, p);
  p->norms[0] = 5e3f;
  p->grad_norm = hypotf (p->norms[0], p->norms[2]);
}

static void
test_exploding (void)
{
  g_autoptr(GString) message = g_string_new (NULL);
  g_autoptr(CsTrainHistory) a = make_history (120, explodes);
  g_assert_cmpint (cs_diagnose (a, NULL, NULL, message), ==, CS_DIAGNOSIS_EXPLODING);
  assert_remedies (message->str,
                   (const char *[]) { "exploding", "layer 2 (Linear)", "lower the learning rate",
                                      "BatchNorm", "larger batch", NULL });

  g_autoptr(CsTrainHistory) b = make_history (10, huge);
  g_string_truncate (message, 0);
  g_assert_cmpint (cs_diagnose (b, NULL, NULL, message), ==, CS_DIAGNOSIS_EXPLODING);
  assert_remedies (message->str, (const char *[]) { "layer 0 (Linear)", NULL });

  /* gradients large at first and settling are not exploding */
  g_autoptr(CsTrainHistory) c = make_history (120, healthy);
  for (guint i = 0; i < 20; i++)
    g_array_index (c->records, CsTrainRecord, i).grad_norm = 300.0f;
  g_assert_cmpint (cs_diagnose (c, NULL, NULL, NULL), ==, 0);

  /* unmeasured norms (NAN) are not a trouble */
  for (guint i = 0; i < c->records->len; i++)
    g_array_index (c->records, CsTrainRecord, i).grad_norm = NAN;
  g_assert_cmpint (cs_diagnose (c, NULL, NULL, NULL), ==, 0);
}

/* The first layer's gradient all but gone, the loss still high. */
static void
vanishes (guint i, guint n, CsRng *rng, Point *p)
{
  stuck (i, n, rng, p);
  p->norms[0] = 1e-9f;
}

static void
vanishes_low_loss (guint i, guint n, CsRng *rng, Point *p)
{
  vanishes (i, n, rng, p);
  p->loss = 0.01f;
}

/* 1e-6 of the other layer's: small relative to it */
static void
lags (guint i, guint n, CsRng *rng, Point *p)
{
  healthy (i, n, rng, p);
  p->norms[0] = 1e-6f;
  p->norms[2] = 2.0f;
}

static void
test_vanishing (void)
{
  g_autoptr(GString) message = g_string_new (NULL);
  g_autoptr(CsTrainHistory) a = make_history (50, vanishes);
  g_assert_cmpint (cs_diagnose (a, NULL, NULL, message), ==, CS_DIAGNOSIS_VANISHING);
  assert_remedies (message->str,
                   (const char *[]) { "vanishes", "layer 0 (Linear)", "BatchNorm", "ReLU",
                                      "learning rate", NULL });

  g_autoptr(CsTrainHistory) b = make_history (50, vanishes_low_loss);
  g_assert_cmpint (cs_diagnose (b, NULL, NULL, NULL), ==, 0);

  g_autoptr(CsTrainHistory) c = make_history (50, lags);
  g_assert_cmpint (cs_diagnose (c, NULL, NULL, NULL), ==, CS_DIAGNOSIS_VANISHING);

  /* without layer titles, the layer by its index */
  g_autoptr(CsTrainHistory) d = cs_train_history_new (N_LAYERS, NULL);
  cs_train_history_sync (d, a);
  g_assert_null (d->layer_titles);
  g_string_truncate (message, 0);
  g_assert_cmpint (cs_diagnose (d, NULL, NULL, message), ==, CS_DIAGNOSIS_VANISHING);
  assert_remedies (message->str, (const char *[]) { "layer 0 ", NULL });
}

static void
test_dead_relu (void)
{
  g_autoptr(GString) message = g_string_new (NULL);
  g_autoptr(CsTrainHistory) h = make_history (300, healthy);
  float dead[N_LAYERS] = { NAN, 0.7f, NAN, NAN };

  g_assert_cmpint (cs_diagnose (h, dead, NULL, message), ==, CS_DIAGNOSIS_DEAD_RELU);
  assert_remedies (message->str,
                   (const char *[]) { "70%", "layer 1 (ReLU)", "dead ReLUs", "learning rate",
                                      "BatchNorm", "LeakyReLU", NULL });
  dead[1] = 0.3f;
  g_assert_cmpint (cs_diagnose (h, dead, NULL, NULL), ==, 0);
  dead[1] = NAN;
  g_assert_cmpint (cs_diagnose (h, dead, NULL, NULL), ==, 0);

  /* a stricter threshold */
  CsDiagnoseConfig config;
  cs_diagnose_config_init (&config);
  config.dead_fraction = 0.25;
  dead[1] = 0.3f;
  g_assert_cmpint (cs_diagnose (h, dead, &config, NULL), ==, CS_DIAGNOSIS_DEAD_RELU);
}

static void
add_evals (CsTrainHistory *h, const float (*acc)[2], guint n)
{
  for (guint i = 0; i < n; i++)
    {
      CsTrainEval e = { .step = 100 * (i + 1), .epoch = i, .train_accuracy = acc[i][0],
                        .test_loss = 0.3f, .test_accuracy = acc[i][1] };
      cs_train_history_add_eval (h, &e);
    }
}

static void
test_overfitting (void)
{
  g_autoptr(GString) message = g_string_new (NULL);

  g_autoptr(CsTrainHistory) a = make_history (300, converged);
  static const float growing[][2] = { { 0.90f, 0.88f }, { 0.96f, 0.89f }, { 0.995f, 0.87f } };
  add_evals (a, growing, 3);
  g_assert_cmpint (cs_diagnose (a, NULL, NULL, message), ==, CS_DIAGNOSIS_OVERFITTING);
  assert_remedies (message->str,
                   (const char *[]) { "99.5%", "12.5 points", "87.0%", "Dropout",
                                      "weight decay", NULL });

  /* a gap that is wide but steady, or narrow, or seen once */
  g_autoptr(CsTrainHistory) b = make_history (300, converged);
  static const float steady[][2] = { { 0.95f, 0.84f }, { 0.96f, 0.85f } };
  add_evals (b, steady, 2);
  g_assert_cmpint (cs_diagnose (b, NULL, NULL, NULL), ==, 0);

  g_autoptr(CsTrainHistory) c = make_history (300, converged);
  static const float narrow[][2] = { { 0.90f, 0.89f }, { 0.97f, 0.92f } };
  add_evals (c, narrow, 2);
  g_assert_cmpint (cs_diagnose (c, NULL, NULL, NULL), ==, 0);

  g_autoptr(CsTrainHistory) d = make_history (300, converged);
  add_evals (d, growing + 2, 1);
  g_assert_cmpint (cs_diagnose (d, NULL, NULL, NULL), ==, 0);
}

/* Several troubles at once, the most urgent first. */
static void
test_several (void)
{
  g_autoptr(GString) message = g_string_new (NULL);
  g_autoptr(CsTrainHistory) h = make_history (300, vanishes);
  float dead[N_LAYERS] = { NAN, 0.9f, NAN, NAN };

  CsDiagnosisFlags flags = cs_diagnose (h, NULL, NULL, message);
  g_assert_cmpint (flags, ==, CS_DIAGNOSIS_VANISHING | CS_DIAGNOSIS_PLATEAU);
  g_auto(GStrv) lines = g_strsplit (message->str, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 2);
  g_assert_nonnull (strstr (lines[0], "vanishes"));
  g_assert_nonnull (strstr (lines[1], "not fallen"));

  /* with dead ReLUs, the vanishing gradient is theirs: one remedy, not two
   * that disagree about the learning rate */
  g_string_truncate (message, 0);
  flags = cs_diagnose (h, dead, NULL, message);
  g_assert_cmpint (flags, ==, CS_DIAGNOSIS_DEAD_RELU | CS_DIAGNOSIS_PLATEAU);
  g_strfreev (lines);
  lines = g_strsplit (message->str, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 2);
  g_assert_nonnull (strstr (lines[0], "dead ReLUs"));
  g_assert_nonnull (strstr (lines[1], "not fallen"));
}

static void
test_history_sync (void)
{
  g_autoptr(CsTrainHistory) src = make_history (10, healthy);
  g_autoptr(CsTrainHistory) dst = cs_train_history_new (0, NULL);
  static const float acc[][2] = { { 0.5f, 0.4f } };

  src->generation = 3;
  add_evals (src, acc, 1);
  cs_train_history_sync (dst, src);
  g_assert_cmpuint (dst->generation, ==, 3);
  g_assert_cmpuint (dst->n_layers, ==, N_LAYERS);
  g_assert_cmpstr (dst->layer_titles[1], ==, "ReLU");
  g_assert_cmpuint (dst->records->len, ==, 10);
  g_assert_cmpuint (dst->layer_norms->len, ==, 10 * N_LAYERS);
  g_assert_cmpuint (dst->evals->len, ==, 1);

  /* what is new, appended */
  CsTrainRecord r = { .step = 11, .loss = 0.5f, .grad_norm = 1.0f };
  float norms[N_LAYERS] = { 1, NAN, 2, NAN };
  cs_train_history_append (src, &r, norms);
  cs_train_history_sync (dst, src);
  g_assert_cmpuint (dst->records->len, ==, 11);
  g_assert_cmpint (g_array_index (dst->records, CsTrainRecord, 10).step, ==, 11);
  g_assert_cmpfloat (g_array_index (dst->layer_norms, float, 10 * N_LAYERS + 2), ==, 2.0f);
  g_assert_cmpmem (dst->records->data, 11 * sizeof (CsTrainRecord),
                   src->records->data, 11 * sizeof (CsTrainRecord));

  /* a new run starts over */
  const char *const two[] = { "Flatten", "Linear", NULL };
  cs_train_history_reset (src, 4, 2, two);
  r.step = 1;
  cs_train_history_append (src, &r, NULL);
  cs_train_history_sync (dst, src);
  g_assert_cmpuint (dst->generation, ==, 4);
  g_assert_cmpuint (dst->n_layers, ==, 2);
  g_assert_cmpuint (dst->records->len, ==, 1);
  g_assert_cmpuint (dst->layer_norms->len, ==, 2);
  g_assert_true (isnan (g_array_index (dst->layer_norms, float, 0)));
  g_assert_cmpuint (dst->evals->len, ==, 0);
  g_assert_cmpstr (dst->layer_titles[0], ==, "Flatten");
}

static void
test_unit_tracker (void)
{
  /* 3 units of 2 values each, a window of 4 batches */
  g_autoptr(CsUnitTracker) t = cs_unit_tracker_new (3, 2, 4);
  /* batch of 2 examples: unit 0 active in example 1 only, unit 1 never,
   * unit 2 active in its second value */
  const float act[2 * 3 * 2] = { 0, -1,  0, 0,  -2, 3,
                                 0, 0.5, -1, 0,  0, 0 };
  const float quiet[2 * 3 * 2] = { 0 };

  g_assert_cmpuint (cs_unit_tracker_get_n_units (t), ==, 3);
  for (int b = 0; b < 3; b++)
    {
      cs_unit_tracker_observe (t, act, 2);
      g_assert_true (isnan (cs_unit_tracker_dead_fraction (t)));
    }
  cs_unit_tracker_observe (t, act, 2);
  g_assert_cmpfloat_with_epsilon (cs_unit_tracker_dead_fraction (t), 1.0 / 3.0, 1e-12);

  /* all quiet: dead once a window has passed since each was active */
  for (int b = 0; b < 3; b++)
    {
      cs_unit_tracker_observe (t, quiet, 2);
      g_assert_cmpfloat_with_epsilon (cs_unit_tracker_dead_fraction (t), 1.0 / 3.0, 1e-12);
    }
  cs_unit_tracker_observe (t, quiet, 2);
  g_assert_cmpfloat (cs_unit_tracker_dead_fraction (t), ==, 1.0);

  /* one batch with activity revives them */
  cs_unit_tracker_observe (t, act, 1);   /* example 0 alone: unit 2 only */
  g_assert_cmpfloat_with_epsilon (cs_unit_tracker_dead_fraction (t), 2.0 / 3.0, 1e-12);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/core/diagnostics/healthy", test_healthy);
  g_test_add_func ("/core/diagnostics/non-finite", test_non_finite);
  g_test_add_func ("/core/diagnostics/plateau", test_plateau);
  g_test_add_func ("/core/diagnostics/exploding", test_exploding);
  g_test_add_func ("/core/diagnostics/vanishing", test_vanishing);
  g_test_add_func ("/core/diagnostics/dead-relu", test_dead_relu);
  g_test_add_func ("/core/diagnostics/overfitting", test_overfitting);
  g_test_add_func ("/core/diagnostics/several", test_several);
  g_test_add_func ("/core/diagnostics/history-sync", test_history_sync);
  g_test_add_func ("/core/diagnostics/unit-tracker", test_unit_tracker);

  return g_test_run ();
}
