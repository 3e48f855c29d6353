/* rng.h — the seeded random number generator of Convscope
 *
 * Every random choice the engine makes (initial weights, the order of the
 * mini-batches, dropout masks) comes from a CsRng, so one seed reproduces a
 * whole run bit for bit on any machine. The generator is xoshiro256**
 * seeded through SplitMix64; it does not depend on the C library or GLib.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  guint64 s[4];
  gboolean has_spare;  /* Box–Muller makes normals in pairs */
  double spare;
} CsRng;

void    cs_rng_init        (CsRng *rng, guint64 seed);
guint64 cs_rng_next_u64    (CsRng *rng);
guint32 cs_rng_below       (CsRng *rng, guint32 bound);    /* uniform in [0, bound) */
double  cs_rng_uniform     (CsRng *rng);                    /* uniform in [0, 1) */
double  cs_rng_normal      (CsRng *rng);                    /* N(0, 1) */
void    cs_rng_shuffle_u32 (CsRng *rng, guint32 *v, gsize n); /* Fisher–Yates */
CsRng   cs_rng_fork        (CsRng *rng);                    /* an independent stream */

G_END_DECLS
