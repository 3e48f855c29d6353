/* cs-gradient-norms.h — a run's per-layer gradient norms, kept for a plot
 *
 * The Gradients view plots every layer's gradient norm against the step,
 * for runs of any length, while the run grows. A CsGradientNorms copies
 * what the plot needs out of a CsTrainHistory (core/diagnostics.h) and is
 * brought up to date by reading only the records that are new.
 *
 * It keeps the records in at most CS_GRADIENT_NORMS_MAX_BUCKETS buckets of
 * consecutive records: for each series, the smallest and the largest norm
 * of the bucket and the smoothed norm at its end. When the buckets run out,
 * neighbours merge pairwise and every bucket holds twice as many records.
 * A plot aggregates buckets per pixel column, so however long the run, no
 * minimum or maximum is lost (a single spike in 100,000 batches is drawn)
 * and drawing costs the buckets, never the records.
 *
 * Series s < n_layers is layer s's norm (the history's layer_norms column,
 * NAN for a layer without parameters); series n_layers is the norm of the
 * whole gradient (grad_norm).
 */
#pragma once

#include <glib.h>

#include "core/diagnostics.h"

G_BEGIN_DECLS

#define CS_GRADIENT_NORMS_MAX_BUCKETS 4096
/* The weight of the past in the smoothed norm, an exponential moving
 * average of log10 (norm), corrected for its start as TensorBoard does. */
#define CS_GRADIENT_NORMS_SMOOTHING 0.95

typedef struct
{
  float min, max;       /* of the bucket's finite norms; NAN when it has none */
  float smooth;         /* the smoothed norm after the bucket's last record;
                         * NAN before the series' first positive norm */
} CsNormBucket;

typedef struct
{
  gint64 first_step, last_step;  /* of the records in the bucket */
} CsNormSpan;

typedef struct _CsGradientNorms CsGradientNorms;

CsGradientNorms    *cs_gradient_norms_new              (void);
void                cs_gradient_norms_free             (CsGradientNorms       *self);
/* Empties it: no records, no layers. */
void                cs_gradient_norms_clear            (CsGradientNorms       *self);

/* Reads the records of history it has not read yet; starts over when
 * history is another run (another generation or number of layers, fewer
 * records than were read, or other steps where they overlap). NULL clears.
 * Returns whether anything changed. */
gboolean            cs_gradient_norms_update           (CsGradientNorms       *self,
                                                        const CsTrainHistory  *history);

guint64             cs_gradient_norms_get_generation   (const CsGradientNorms *self);
guint               cs_gradient_norms_get_n_records    (const CsGradientNorms *self);
guint               cs_gradient_norms_get_n_layers     (const CsGradientNorms *self);
/* The history's title of layer ("Conv2d"), or NULL when it had none. */
const char         *cs_gradient_norms_get_layer_title  (const CsGradientNorms *self,
                                                        guint                  layer);

/* Whether series has had a finite norm: for a layer, that it has
 * parameters (and was measured). */
gboolean            cs_gradient_norms_has_values       (const CsGradientNorms *self,
                                                        guint                  series);
/* The smallest positive and the largest finite norm of series over the
 * run; FALSE when it has no positive norm. */
gboolean            cs_gradient_norms_get_range        (const CsGradientNorms *self,
                                                        guint                  series,
                                                        double                *min_positive,
                                                        double                *max);
/* The last finite norm of series, and its smoothed norm then; NAN before
 * any. */
double              cs_gradient_norms_get_last         (const CsGradientNorms *self,
                                                        guint                  series);
double              cs_gradient_norms_get_last_smooth  (const CsGradientNorms *self,
                                                        guint                  series);

/* Buckets: how many, and how many records each holds (a power of two; the
 * last bucket may hold fewer). */
guint               cs_gradient_norms_get_n_buckets    (const CsGradientNorms *self);
guint               cs_gradient_norms_get_bucket_size  (const CsGradientNorms *self);
/* (n_buckets): the steps of each bucket, and a series' values in it. */
const CsNormSpan   *cs_gradient_norms_get_spans        (const CsGradientNorms *self);
const CsNormBucket *cs_gradient_norms_get_buckets      (const CsGradientNorms *self,
                                                        guint                  series);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsGradientNorms, cs_gradient_norms_free)

G_END_DECLS
