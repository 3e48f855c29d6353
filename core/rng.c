/* rng.c — xoshiro256** seeded by SplitMix64 (Blackman and Vigna) */
#include "rng.h"

#include <math.h>

static guint64
splitmix64 (guint64 *x)
{
  guint64 z = (*x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static inline guint64
rotl (guint64 x, int k)
{
  return (x << k) | (x >> (64 - k));
}

void
cs_rng_init (CsRng *rng, guint64 seed)
{
  g_return_if_fail (rng != NULL);

  guint64 x = seed;
  for (int i = 0; i < 4; i++)
    rng->s[i] = splitmix64 (&x);
  rng->has_spare = FALSE;
  rng->spare = 0.0;
}

guint64
cs_rng_next_u64 (CsRng *rng)
{
  guint64 *s = rng->s;
  guint64 result = rotl (s[1] * 5, 7) * 9;
  guint64 t = s[1] << 17;

  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl (s[3], 45);
  return result;
}

guint32
cs_rng_below (CsRng *rng, guint32 bound)
{
  g_return_val_if_fail (bound > 0, 0);

  /* Lemire's multiply-and-reject: no modulo bias */
  guint64 m = (cs_rng_next_u64 (rng) >> 32) * (guint64) bound;
  guint32 low = (guint32) m;
  if (low < bound)
    {
      guint32 threshold = (guint32) (-bound) % bound;
      while (low < threshold)
        {
          m = (cs_rng_next_u64 (rng) >> 32) * (guint64) bound;
          low = (guint32) m;
        }
    }
  return (guint32) (m >> 32);
}

double
cs_rng_uniform (CsRng *rng)
{
  return (double) (cs_rng_next_u64 (rng) >> 11) * 0x1.0p-53;
}

double
cs_rng_normal (CsRng *rng)
{
  if (rng->has_spare)
    {
      rng->has_spare = FALSE;
      return rng->spare;
    }

  double u1 = 1.0 - cs_rng_uniform (rng);  /* (0, 1]: log is finite */
  double u2 = cs_rng_uniform (rng);
  double r = sqrt (-2.0 * log (u1));
  rng->spare = r * sin (2.0 * G_PI * u2);
  rng->has_spare = TRUE;
  return r * cos (2.0 * G_PI * u2);
}

void
cs_rng_shuffle_u32 (CsRng *rng, guint32 *v, gsize n)
{
  g_return_if_fail (n <= G_MAXUINT32);

  for (gsize i = n; i > 1; i--)
    {
      guint32 j = cs_rng_below (rng, (guint32) i);
      guint32 t = v[i - 1];
      v[i - 1] = v[j];
      v[j] = t;
    }
}

CsRng
cs_rng_fork (CsRng *rng)
{
  CsRng child;
  cs_rng_init (&child, cs_rng_next_u64 (rng));
  return child;
}
