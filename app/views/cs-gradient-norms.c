/* cs-gradient-norms.c — per-layer gradient norms in merging buckets
 *
 * Layout: spans (n_buckets) and, per series, buckets (n_buckets), all of
 * capacity CS_GRADIENT_NORMS_MAX_BUCKETS, allocated once per run. A record
 * goes into the last bucket while it holds fewer than bucket_size records;
 * else into a new one, after halving the number of buckets when there is
 * no room left. Each record costs O(series); a halving costs O(buckets ×
 * series) once per doubling of the run, so O(1) per record overall.
 */
#include "cs-gradient-norms.h"

#include <math.h>
#include <string.h>

typedef struct
{
  CsNormBucket *buckets;    /* (MAX_BUCKETS) */
  gboolean has_values;
  double min_positive, max; /* over the run; INFINITY, −INFINITY before any */
  double last;              /* last finite norm */
  double ema, ema_weight;   /* of log10 (norm), and 1 − α^k for the correction */
} Series;

struct _CsGradientNorms
{
  guint64 generation;
  guint n_layers;
  char **layer_titles;      /* (n_layers), entries may be NULL */
  guint n_series;           /* n_layers + 1 */
  Series *series;

  guint n_records;          /* read from the history */
  gint64 first_step, last_step;
  guint n_buckets;
  guint bucket_size;
  guint last_fill;          /* records in the last bucket */
  CsNormSpan *spans;        /* (MAX_BUCKETS) */
};

CsGradientNorms *
cs_gradient_norms_new (void)
{
  CsGradientNorms *self = g_new0 (CsGradientNorms, 1);
  self->bucket_size = 1;
  return self;
}

void
cs_gradient_norms_clear (CsGradientNorms *self)
{
  g_return_if_fail (self != NULL);
  for (guint s = 0; s < self->n_series; s++)
    g_free (self->series[s].buckets);
  g_clear_pointer (&self->series, g_free);
  g_clear_pointer (&self->layer_titles, g_strfreev);
  g_clear_pointer (&self->spans, g_free);
  self->generation = 0;
  self->n_layers = 0;
  self->n_series = 0;
  self->n_records = 0;
  self->first_step = self->last_step = 0;
  self->n_buckets = 0;
  self->bucket_size = 1;
  self->last_fill = 0;
}

void
cs_gradient_norms_free (CsGradientNorms *self)
{
  if (self == NULL)
    return;
  cs_gradient_norms_clear (self);
  g_free (self);
}

static void
start_run (CsGradientNorms *self, const CsTrainHistory *history)
{
  cs_gradient_norms_clear (self);
  self->generation = history->generation;
  self->n_layers = history->n_layers;
  self->layer_titles = g_new0 (char *, history->n_layers + 1);
  for (guint l = 0; l < history->n_layers; l++)
    self->layer_titles[l] = history->layer_titles != NULL ? g_strdup (history->layer_titles[l])
                                                          : NULL;
  self->n_series = history->n_layers + 1;
  self->series = g_new0 (Series, self->n_series);
  for (guint s = 0; s < self->n_series; s++)
    {
      Series *se = &self->series[s];
      se->buckets = g_new (CsNormBucket, CS_GRADIENT_NORMS_MAX_BUCKETS);
      se->min_positive = INFINITY;
      se->max = -INFINITY;
      se->last = NAN;
    }
  self->spans = g_new (CsNormSpan, CS_GRADIENT_NORMS_MAX_BUCKETS);
}

static float
nan_min (float a, float b)
{
  return isnan (a) ? b : isnan (b) ? a : MIN (a, b);
}

static float
nan_max (float a, float b)
{
  return isnan (a) ? b : isnan (b) ? a : MAX (a, b);
}

/* Halves the buckets: 2k and 2k + 1 become k. */
static void
merge_pairs (CsGradientNorms *self)
{
  g_assert (self->n_buckets % 2 == 0 && self->last_fill == self->bucket_size);
  guint half = self->n_buckets / 2;
  for (guint k = 0; k < half; k++)
    {
      self->spans[k].first_step = self->spans[2 * k].first_step;
      self->spans[k].last_step = self->spans[2 * k + 1].last_step;
    }
  for (guint s = 0; s < self->n_series; s++)
    {
      CsNormBucket *b = self->series[s].buckets;
      for (guint k = 0; k < half; k++)
        {
          CsNormBucket a = b[2 * k], c = b[2 * k + 1];
          b[k].min = nan_min (a.min, c.min);
          b[k].max = nan_max (a.max, c.max);
          b[k].smooth = isnan (c.smooth) ? a.smooth : c.smooth;
        }
    }
  self->n_buckets = half;
  self->bucket_size *= 2;
  self->last_fill = self->bucket_size;
}

static void
add_value (Series *se, CsNormBucket *b, gboolean fresh, float v)
{
  if (fresh)
    {
      b->min = b->max = NAN;
      b->smooth = se->ema_weight > 0 ? (float) pow (10.0, se->ema / se->ema_weight) : NAN;
    }
  if (!isfinite (v))
    return;
  se->has_values = TRUE;
  se->last = v;
  se->max = MAX (se->max, v);
  b->min = nan_min (b->min, v);
  b->max = nan_max (b->max, v);
  if (v > 0)
    {
      const double a = CS_GRADIENT_NORMS_SMOOTHING;
      se->min_positive = MIN (se->min_positive, v);
      se->ema = a * se->ema + (1 - a) * log10 (v);
      se->ema_weight = a * se->ema_weight + (1 - a);
      b->smooth = (float) pow (10.0, se->ema / se->ema_weight);
    }
}

static void
append (CsGradientNorms *self, const CsTrainRecord *rec, const float *layer_norms)
{
  gboolean fresh = self->n_buckets == 0 || self->last_fill == self->bucket_size;
  if (fresh)
    {
      if (self->n_buckets == CS_GRADIENT_NORMS_MAX_BUCKETS)
        merge_pairs (self);
      self->spans[self->n_buckets].first_step = rec->step;
      self->n_buckets++;
      self->last_fill = 0;
    }
  guint k = self->n_buckets - 1;
  self->spans[k].last_step = rec->step;
  self->last_fill++;
  for (guint l = 0; l < self->n_layers; l++)
    add_value (&self->series[l], &self->series[l].buckets[k], fresh, layer_norms[l]);
  Series *total = &self->series[self->n_layers];
  add_value (total, &total->buckets[k], fresh, rec->grad_norm);

  if (self->n_records == 0)
    self->first_step = rec->step;
  self->last_step = rec->step;
  self->n_records++;
}

static gboolean
same_run (const CsGradientNorms *self, const CsTrainHistory *history)
{
  if (self->series == NULL)
    return FALSE;
  if (history->generation != self->generation || history->n_layers != self->n_layers
      || history->records->len < self->n_records)
    return FALSE;
  if (self->n_records == 0)
    return TRUE;
  const CsTrainRecord *r = (const CsTrainRecord *) history->records->data;
  return r[0].step == self->first_step && r[self->n_records - 1].step == self->last_step;
}

gboolean
cs_gradient_norms_update (CsGradientNorms *self, const CsTrainHistory *history)
{
  g_return_val_if_fail (self != NULL, FALSE);
  if (history == NULL)
    {
      gboolean had = self->series != NULL;
      cs_gradient_norms_clear (self);
      return had;
    }
  g_return_val_if_fail (history->layer_norms->len == history->records->len * history->n_layers,
                        FALSE);

  gboolean changed = FALSE;
  if (!same_run (self, history))
    {
      start_run (self, history);
      changed = TRUE;
    }
  const CsTrainRecord *r = (const CsTrainRecord *) history->records->data;
  const float *norms = (const float *) history->layer_norms->data;
  for (guint i = self->n_records; i < history->records->len; i++)
    {
      append (self, &r[i], norms + (gsize) i * self->n_layers);
      changed = TRUE;
    }
  return changed;
}

guint64
cs_gradient_norms_get_generation (const CsGradientNorms *self)
{
  return self->generation;
}

guint
cs_gradient_norms_get_n_records (const CsGradientNorms *self)
{
  return self->n_records;
}

guint
cs_gradient_norms_get_n_layers (const CsGradientNorms *self)
{
  return self->n_layers;
}

const char *
cs_gradient_norms_get_layer_title (const CsGradientNorms *self, guint layer)
{
  g_return_val_if_fail (layer < self->n_layers, NULL);
  return self->layer_titles[layer];
}

gboolean
cs_gradient_norms_has_values (const CsGradientNorms *self, guint series)
{
  g_return_val_if_fail (series < self->n_series, FALSE);
  return self->series[series].has_values;
}

gboolean
cs_gradient_norms_get_range (const CsGradientNorms *self, guint series, double *min_positive,
                             double *max)
{
  g_return_val_if_fail (series < self->n_series, FALSE);
  const Series *se = &self->series[series];
  if (!isfinite (se->min_positive))
    return FALSE;
  *min_positive = se->min_positive;
  *max = se->max;
  return TRUE;
}

double
cs_gradient_norms_get_last (const CsGradientNorms *self, guint series)
{
  g_return_val_if_fail (series < self->n_series, NAN);
  return self->series[series].last;
}

double
cs_gradient_norms_get_last_smooth (const CsGradientNorms *self, guint series)
{
  g_return_val_if_fail (series < self->n_series, NAN);
  const Series *se = &self->series[series];
  return se->ema_weight > 0 ? pow (10.0, se->ema / se->ema_weight) : NAN;
}

guint
cs_gradient_norms_get_n_buckets (const CsGradientNorms *self)
{
  return self->n_buckets;
}

guint
cs_gradient_norms_get_bucket_size (const CsGradientNorms *self)
{
  return self->bucket_size;
}

const CsNormSpan *
cs_gradient_norms_get_spans (const CsGradientNorms *self)
{
  return self->spans;
}

const CsNormBucket *
cs_gradient_norms_get_buckets (const CsGradientNorms *self, guint series)
{
  g_return_val_if_fail (series < self->n_series, NULL);
  return self->series[series].buckets;
}
