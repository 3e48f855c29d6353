/* test-gradient-norms.c — the Gradients view's copy of a run's norms
 *
 * Histories made here with known norms go into a CsGradientNorms: read in
 * chunks it holds exactly what it holds when read at once; every bucket's
 * minimum and maximum are those of the records it covers, however many
 * times buckets merged (a single spike in 100,000 batches survives); a
 * layer without parameters has no values; another run starts over; the
 * smoothed norm is the corrected moving average of log10 (norm).
 */
#include "app/views/cs-gradient-norms.h"

#include <math.h>
#include <string.h>

#define N_LAYERS 4   /* 0 and 2 have parameters; 1 and 3 do not */

static CsTrainHistory *
make_history (guint64 generation)
{
  static const char *const titles[] = { "Linear", "ReLU", "Linear", "Softmax", NULL };
  CsTrainHistory *h = cs_train_history_new (N_LAYERS, titles);
  h->generation = generation;
  return h;
}

/* Record i of a run: norms around 10^-2 and 10^-4 with noise, the total
 * their root sum of squares, every 7th record not measured. */
static void
fill (CsTrainHistory *h, guint n, GRand *rand)
{
  for (guint i = h->records->len, end = h->records->len + n; i < end; i++)
    {
      float norms[N_LAYERS] = { NAN, NAN, NAN, NAN };
      gboolean measured = i % 7 != 3;
      if (measured)
        {
          norms[0] = (float) (1e-2 * exp (g_rand_double_range (rand, -1, 1)));
          norms[2] = (float) (1e-4 * exp (g_rand_double_range (rand, -1, 1)));
        }
      CsTrainRecord rec = {
        .step = i + 1,
        .size = 64,
        .loss = 1.0f,
        .grad_norm = measured ? sqrtf (norms[0] * norms[0] + norms[2] * norms[2]) : NAN,
      };
      cs_train_history_append (h, &rec, measured ? norms : NULL);
    }
}

static void
assert_same (const CsGradientNorms *a, const CsGradientNorms *b)
{
  guint n = cs_gradient_norms_get_n_buckets (a);
  g_assert_cmpuint (cs_gradient_norms_get_n_records (a), ==, cs_gradient_norms_get_n_records (b));
  g_assert_cmpuint (n, ==, cs_gradient_norms_get_n_buckets (b));
  g_assert_cmpuint (cs_gradient_norms_get_bucket_size (a), ==,
                    cs_gradient_norms_get_bucket_size (b));
  g_assert_cmpmem (cs_gradient_norms_get_spans (a), n * sizeof (CsNormSpan),
                   cs_gradient_norms_get_spans (b), n * sizeof (CsNormSpan));
  for (guint s = 0; s <= N_LAYERS; s++)
    g_assert_cmpmem (cs_gradient_norms_get_buckets (a, s), n * sizeof (CsNormBucket),
                     cs_gradient_norms_get_buckets (b, s), n * sizeof (CsNormBucket));
}

/* The history read as it grows, in chunks of any size, gives what reading
 * it whole gives; and a second update with nothing new changes nothing. */
static void
test_incremental (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (11);
  g_autoptr(CsTrainHistory) h = make_history (3);
  g_autoptr(CsGradientNorms) grown = cs_gradient_norms_new ();
  while (h->records->len < 20000)
    {
      fill (h, (guint) g_rand_int_range (rand, 1, 3000), rand);
      g_assert_true (cs_gradient_norms_update (grown, h));
      g_assert_false (cs_gradient_norms_update (grown, h));
    }
  g_autoptr(CsGradientNorms) whole = cs_gradient_norms_new ();
  g_assert_true (cs_gradient_norms_update (whole, h));
  assert_same (grown, whole);
  g_assert_cmpuint (cs_gradient_norms_get_n_records (whole), ==, h->records->len);
  g_assert_cmpuint (cs_gradient_norms_get_generation (whole), ==, 3);
  g_assert_cmpuint (cs_gradient_norms_get_n_layers (whole), ==, N_LAYERS);
  g_assert_cmpstr (cs_gradient_norms_get_layer_title (whole, 2), ==, "Linear");
}

/* Every bucket's minimum and maximum are exactly those of its records. */
static void
check_buckets (const CsGradientNorms *g, const CsTrainHistory *h)
{
  guint n = cs_gradient_norms_get_n_buckets (g), size = cs_gradient_norms_get_bucket_size (g);
  const CsNormSpan *spans = cs_gradient_norms_get_spans (g);
  const CsTrainRecord *rec = (const CsTrainRecord *) h->records->data;
  const float *norms = (const float *) h->layer_norms->data;
  g_assert_cmpuint (n, <=, CS_GRADIENT_NORMS_MAX_BUCKETS);
  g_assert_cmpuint (n, ==, (h->records->len + size - 1) / size);
  for (guint k = 0; k < n; k++)
    {
      guint first = k * size, end = MIN (first + size, h->records->len);
      g_assert_cmpint (spans[k].first_step, ==, rec[first].step);
      g_assert_cmpint (spans[k].last_step, ==, rec[end - 1].step);
      for (guint s = 0; s <= N_LAYERS; s++)
        {
          float lo = NAN, hi = NAN;
          for (guint i = first; i < end; i++)
            {
              float v = s < N_LAYERS ? norms[i * N_LAYERS + s] : rec[i].grad_norm;
              if (isfinite (v))
                {
                  lo = isnan (lo) ? v : MIN (lo, v);
                  hi = isnan (hi) ? v : MAX (hi, v);
                }
            }
          const CsNormBucket *b = &cs_gradient_norms_get_buckets (g, s)[k];
          if (isnan (lo))
            {
              g_assert_true (isnan (b->min) && isnan (b->max));
              continue;
            }
          g_assert_cmpfloat (b->min, ==, lo);
          g_assert_cmpfloat (b->max, ==, hi);
        }
    }
}

static void
test_min_max (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (5);
  g_autoptr(CsTrainHistory) h = make_history (1);
  g_autoptr(CsGradientNorms) g = cs_gradient_norms_new ();
  fill (h, 100000, rand);
  /* one spike and one dip in layer 0 */
  float *norms = (float *) h->layer_norms->data;
  norms[61234 * N_LAYERS] = 1e3f;
  norms[70001 * N_LAYERS] = 1e-9f;
  cs_gradient_norms_update (g, h);
  g_assert_cmpuint (cs_gradient_norms_get_bucket_size (g), ==, 32);  /* 100000 / 4096 → 32 */
  check_buckets (g, h);

  double lo, hi;
  g_assert_true (cs_gradient_norms_get_range (g, 0, &lo, &hi));
  g_assert_cmpfloat (lo, ==, 1e-9f);
  g_assert_cmpfloat (hi, ==, 1e3f);
  const CsNormBucket *b = cs_gradient_norms_get_buckets (g, 0);
  g_assert_cmpfloat (b[61234 / 32].max, ==, 1e3f);
  g_assert_cmpfloat (b[70001 / 32].min, ==, 1e-9f);

  /* a few records more, into a partly filled last bucket */
  fill (h, 5, rand);
  cs_gradient_norms_update (g, h);
  check_buckets (g, h);
}

/* Layers without parameters have no values; the total has. */
static void
test_layers (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (2);
  g_autoptr(CsTrainHistory) h = make_history (1);
  g_autoptr(CsGradientNorms) g = cs_gradient_norms_new ();
  fill (h, 10, rand);
  cs_gradient_norms_update (g, h);
  g_assert_true (cs_gradient_norms_has_values (g, 0));
  g_assert_false (cs_gradient_norms_has_values (g, 1));
  g_assert_true (cs_gradient_norms_has_values (g, 2));
  g_assert_false (cs_gradient_norms_has_values (g, 3));
  g_assert_true (cs_gradient_norms_has_values (g, N_LAYERS));
  double lo, hi;
  g_assert_false (cs_gradient_norms_get_range (g, 1, &lo, &hi));
  g_assert_true (isnan (cs_gradient_norms_get_last (g, 3)));
  g_assert_cmpfloat (cs_gradient_norms_get_last (g, 2), ==,
                     ((float *) h->layer_norms->data)[9 * N_LAYERS + 2]);
  for (guint k = 0; k < cs_gradient_norms_get_n_buckets (g); k++)
    g_assert_true (isnan (cs_gradient_norms_get_buckets (g, 1)[k].max));
}

/* Another generation, fewer records, or other steps: read again from the
 * start. */
static void
test_new_run (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (9);
  g_autoptr(CsTrainHistory) h = make_history (1);
  g_autoptr(CsGradientNorms) g = cs_gradient_norms_new ();
  fill (h, 500, rand);
  cs_gradient_norms_update (g, h);

  g_autoptr(CsTrainHistory) other = make_history (2);
  fill (other, 40, rand);
  g_assert_true (cs_gradient_norms_update (g, other));
  g_autoptr(CsGradientNorms) fresh = cs_gradient_norms_new ();
  cs_gradient_norms_update (fresh, other);
  assert_same (g, fresh);

  /* the same generation, started over with other steps */
  cs_train_history_reset (h, 2, N_LAYERS, NULL);
  g_assert_cmpuint (h->records->len, ==, 0);
  g_assert_true (cs_gradient_norms_update (g, h));
  g_assert_cmpuint (cs_gradient_norms_get_n_records (g), ==, 0);
  g_assert_cmpuint (cs_gradient_norms_get_n_buckets (g), ==, 0);
  for (int i = 0; i < 3; i++)
    {
      float norms[N_LAYERS] = { 0.5f, NAN, 0.25f, NAN };
      CsTrainRecord rec = { .step = 100 + i, .grad_norm = 1.0f };
      cs_train_history_append (h, &rec, norms);
    }
  cs_gradient_norms_update (g, h);
  g_assert_cmpuint (cs_gradient_norms_get_n_records (g), ==, 3);
  g_assert_null (cs_gradient_norms_get_layer_title (g, 0));

  g_assert_true (cs_gradient_norms_update (g, NULL));
  g_assert_cmpuint (cs_gradient_norms_get_n_records (g), ==, 0);
  g_assert_false (cs_gradient_norms_update (g, NULL));
}

/* The smoothed norm: 10^(EMA of log10 norms / (1 − α^k)). */
static void
test_smoothing (void)
{
  g_autoptr(CsTrainHistory) h = make_history (1);
  g_autoptr(CsGradientNorms) g = cs_gradient_norms_new ();
  const double a = CS_GRADIENT_NORMS_SMOOTHING;
  double ema = 0.0, weight = 0.0;
  for (int i = 0; i < 300; i++)
    {
      float v = (float) (i < 100 ? 1e-3 : 1e-1);
      float norms[N_LAYERS] = { v, NAN, i == 5 ? 0.0f : v, NAN };
      CsTrainRecord rec = { .step = i + 1, .grad_norm = v };
      cs_train_history_append (h, &rec, norms);
      ema = a * ema + (1 - a) * log10 (v);
      weight = a * weight + (1 - a);
      cs_gradient_norms_update (g, h);
      g_assert_cmpfloat_with_epsilon (cs_gradient_norms_get_last_smooth (g, 0),
                                      pow (10, ema / weight), 1e-9);
      g_assert_cmpfloat_with_epsilon (cs_gradient_norms_get_buckets (g, 0)[i].smooth,
                                      pow (10, ema / weight), 1e-6 * pow (10, ema / weight));
    }
  /* a constant run smooths to itself from the first record */
  g_assert_cmpfloat_with_epsilon (cs_gradient_norms_get_buckets (g, 0)[0].smooth, 1e-3, 1e-9);
  g_assert_cmpfloat_with_epsilon (cs_gradient_norms_get_buckets (g, 0)[99].smooth, 1e-3, 1e-9);
  /* a zero norm is kept as the minimum but not smoothed in (log of 0) */
  g_assert_cmpfloat (cs_gradient_norms_get_buckets (g, 2)[5].min, ==, 0.0f);
  g_assert_true (isfinite (cs_gradient_norms_get_buckets (g, 2)[5].smooth));
  double lo, hi;
  cs_gradient_norms_get_range (g, 2, &lo, &hi);
  g_assert_cmpfloat (lo, ==, 1e-3f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/app/gradient-norms/incremental", test_incremental);
  g_test_add_func ("/app/gradient-norms/min-max", test_min_max);
  g_test_add_func ("/app/gradient-norms/layers", test_layers);
  g_test_add_func ("/app/gradient-norms/new-run", test_new_run);
  g_test_add_func ("/app/gradient-norms/smoothing", test_smoothing);
  return g_test_run ();
}
