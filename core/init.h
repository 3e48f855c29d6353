/* init.h — weight initialisation schemes
 *
 * fan_in and fan_out are PyTorch's: in_features / out_features for Linear,
 * C_in·kh·kw / C_out·kh·kw for Conv2d.
 */
#pragma once

#include <glib.h>

#include "rng.h"

G_BEGIN_DECLS

typedef enum
{
  CS_INIT_PYTORCH,          /* nn.Linear / nn.Conv2d default: U(±1/√fan_in), bias too */
  CS_INIT_XAVIER_UNIFORM,   /* U(±√(6/(fan_in + fan_out))), biases zero */
  CS_INIT_XAVIER_NORMAL,    /* N(0, 2/(fan_in + fan_out)), biases zero */
  CS_INIT_KAIMING_UNIFORM,  /* U(±√(6/fan_in)) (ReLU gain), biases zero */
  CS_INIT_KAIMING_NORMAL,   /* N(0, 2/fan_in), biases zero */
  CS_INIT_ZEROS,            /* everything zero: shows why symmetry must be broken */
} CsInitKind;

gboolean    cs_init_kind_from_string (const char *name, CsInitKind *out);
const char *cs_init_kind_to_string   (CsInitKind kind);
/* All names, comma-separated, for messages. */
const char *cs_init_known_kinds      (void);

void        cs_init_weight (float *w, gsize n, CsInitKind kind,
                            gint64 fan_in, gint64 fan_out, CsRng *rng);
void        cs_init_bias   (float *b, gsize n, CsInitKind kind,
                            gint64 fan_in, CsRng *rng);

G_END_DECLS
