/* test-rng.c — the seeded generator is reproducible and well spread */
#include "core/rng.h"

#include <math.h>

static void
test_rng_reproducible (void)
{
  CsRng a, b;
  cs_rng_init (&a, 42);
  cs_rng_init (&b, 42);
  for (int i = 0; i < 1000; i++)
    g_assert_cmpuint (cs_rng_next_u64 (&a), ==, cs_rng_next_u64 (&b));

  cs_rng_init (&b, 43);
  g_assert_cmpuint (cs_rng_next_u64 (&a), !=, cs_rng_next_u64 (&b));
}

static void
test_rng_normal_moments (void)
{
  CsRng r;
  cs_rng_init (&r, 7);
  const int n = 200000;
  double s = 0, s2 = 0;
  for (int i = 0; i < n; i++)
    {
      double x = cs_rng_normal (&r);
      s += x;
      s2 += x * x;
    }
  double mean = s / n, var = s2 / n - mean * mean;
  g_assert_cmpfloat (fabs (mean), <, 0.01);
  g_assert_cmpfloat (fabs (var - 1.0), <, 0.02);
}

static void
test_rng_below_and_shuffle (void)
{
  CsRng r;
  cs_rng_init (&r, 1);
  guint counts[10] = { 0 };
  for (int i = 0; i < 100000; i++)
    counts[cs_rng_below (&r, 10)]++;
  for (int i = 0; i < 10; i++)
    g_assert_cmpuint (counts[i], >, 9500);

  guint32 v[100];
  for (guint32 i = 0; i < 100; i++)
    v[i] = i;
  cs_rng_shuffle_u32 (&r, v, 100);
  gboolean seen[100] = { FALSE };
  guint moved = 0;
  for (guint32 i = 0; i < 100; i++)
    {
      g_assert_false (seen[v[i]]);
      seen[v[i]] = TRUE;
      moved += v[i] != i;
    }
  g_assert_cmpuint (moved, >, 80);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/core/rng/reproducible", test_rng_reproducible);
  g_test_add_func ("/core/rng/normal-moments", test_rng_normal_moments);
  g_test_add_func ("/core/rng/below-and-shuffle", test_rng_below_and_shuffle);
  return g_test_run ();
}
