/* init.c — weight initialisation schemes, as torch.nn.init defines them */
#include "init.h"

#include <math.h>
#include <string.h>

static const struct
{
  const char *name;
  CsInitKind kind;
} init_names[] = {
  { "pytorch", CS_INIT_PYTORCH },
  { "xavier_uniform", CS_INIT_XAVIER_UNIFORM },
  { "xavier_normal", CS_INIT_XAVIER_NORMAL },
  { "kaiming_uniform", CS_INIT_KAIMING_UNIFORM },
  { "kaiming_normal", CS_INIT_KAIMING_NORMAL },
  { "zeros", CS_INIT_ZEROS },
};

gboolean
cs_init_kind_from_string (const char *name, CsInitKind *out)
{
  for (gsize i = 0; i < G_N_ELEMENTS (init_names); i++)
    if (g_strcmp0 (name, init_names[i].name) == 0)
      {
        *out = init_names[i].kind;
        return TRUE;
      }
  return FALSE;
}

const char *
cs_init_kind_to_string (CsInitKind kind)
{
  for (gsize i = 0; i < G_N_ELEMENTS (init_names); i++)
    if (init_names[i].kind == kind)
      return init_names[i].name;
  g_return_val_if_reached (NULL);
}

const char *
cs_init_known_kinds (void)
{
  return "pytorch, xavier_uniform, xavier_normal, kaiming_uniform, kaiming_normal, zeros";
}

static void
fill_uniform (float *w, gsize n, double bound, CsRng *rng)
{
  for (gsize i = 0; i < n; i++)
    w[i] = (float) ((2.0 * cs_rng_uniform (rng) - 1.0) * bound);
}

static void
fill_normal (float *w, gsize n, double std, CsRng *rng)
{
  for (gsize i = 0; i < n; i++)
    w[i] = (float) (cs_rng_normal (rng) * std);
}

void
cs_init_weight (float *w, gsize n, CsInitKind kind,
                gint64 fan_in, gint64 fan_out, CsRng *rng)
{
  g_return_if_fail (fan_in > 0 && fan_out > 0);

  switch (kind)
    {
    case CS_INIT_PYTORCH:
      /* kaiming_uniform_(a=√5): gain √(2/(1+5)), bound gain·√(3/fan_in) = 1/√fan_in */
      fill_uniform (w, n, 1.0 / sqrt ((double) fan_in), rng);
      break;
    case CS_INIT_XAVIER_UNIFORM:
      fill_uniform (w, n, sqrt (6.0 / (double) (fan_in + fan_out)), rng);
      break;
    case CS_INIT_XAVIER_NORMAL:
      fill_normal (w, n, sqrt (2.0 / (double) (fan_in + fan_out)), rng);
      break;
    case CS_INIT_KAIMING_UNIFORM:
      fill_uniform (w, n, sqrt (6.0 / (double) fan_in), rng);
      break;
    case CS_INIT_KAIMING_NORMAL:
      fill_normal (w, n, sqrt (2.0 / (double) fan_in), rng);
      break;
    case CS_INIT_ZEROS:
      memset (w, 0, n * sizeof (float));
      break;
    default:
      g_assert_not_reached ();
    }
}

void
cs_init_bias (float *b, gsize n, CsInitKind kind, gint64 fan_in, CsRng *rng)
{
  if (kind == CS_INIT_PYTORCH && fan_in > 0)
    fill_uniform (b, n, 1.0 / sqrt ((double) fan_in), rng);
  else
    memset (b, 0, n * sizeof (float));
}
