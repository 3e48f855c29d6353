/* diagnostics.c — the history of a run, and the troubles read from it */
#include "diagnostics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- the history ------------------------------------------------------ */

static void reserve (CsTrainHistory *h);

CsTrainHistory *
cs_train_history_new (guint n_layers, const char * const *layer_titles)
{
  CsTrainHistory *h = g_new0 (CsTrainHistory, 1);
  h->records = g_array_new (FALSE, FALSE, sizeof (CsTrainRecord));
  h->layer_norms = g_array_new (FALSE, FALSE, sizeof (float));
  h->evals = g_array_new (FALSE, FALSE, sizeof (CsTrainEval));
  cs_train_history_reset (h, 0, n_layers, layer_titles);
  return h;
}

void
cs_train_history_free (CsTrainHistory *h)
{
  if (h == NULL)
    return;
  g_array_unref (h->records);
  g_array_unref (h->layer_norms);
  g_array_unref (h->evals);
  g_strfreev (h->layer_titles);
  g_free (h);
}

void
cs_train_history_reset (CsTrainHistory *h, guint64 generation, guint n_layers,
                        const char * const *layer_titles)
{
  g_return_if_fail (h != NULL);
  h->generation = generation;
  h->n_layers = n_layers;
  g_strfreev (h->layer_titles);
  h->layer_titles = layer_titles ? g_strdupv ((char **) layer_titles) : NULL;
  g_return_if_fail (h->layer_titles == NULL || g_strv_length (h->layer_titles) == n_layers);
  g_array_set_size (h->records, 0);
  g_array_set_size (h->layer_norms, 0);
  g_array_set_size (h->evals, 0);
  h->revision++;
  h->n_older = 0;
  h->stride = 1;
  reserve (h);
}

void
cs_train_history_limits_init (CsTrainHistoryLimits *limits)
{
  g_return_if_fail (limits != NULL);
  *limits = (CsTrainHistoryLimits) {
    .max_records = 16384,
    .recent = 4096,
    .max_evals = 1024,
  };
}

static gsize
pow2_at_least (gsize n)
{
  gsize p = 1;
  while (p < n)
    p <<= 1;
  return n ? p : 0;
}

gsize
cs_train_history_limits_bytes (const CsTrainHistoryLimits *limits, guint n_layers)
{
  if (limits == NULL || limits->max_records == 0 || limits->max_evals == 0)
    return 0;
  /* a GArray's storage is a power of two of bytes */
  return pow2_at_least ((gsize) limits->max_records * sizeof (CsTrainRecord))
         + pow2_at_least ((gsize) limits->max_records * n_layers * sizeof (float))
         + pow2_at_least ((gsize) limits->max_evals * sizeof (CsTrainEval));
}

/* Keeps the elements 0, 2, 4, … of the first `older` of a (row elements of
 * width each, as the records' layer norms are), and all after them. */
static void
drop_every_other (GArray *a, guint older, guint width)
{
  if (width == 0)
    return;
  gsize size = g_array_get_element_size (a) * width;
  char *data = a->data;
  guint kept = 0;
  for (guint i = 0; i < older; i += 2, kept++)
    if (kept != i)
      memcpy (data + kept * size, data + i * size, size);
  guint rows = a->len / width;
  memmove (data + kept * size, data + older * size, (rows - older) * size);
  g_array_set_size (a, (kept + rows - older) * width);
}

/* Keeps, of records [from, to), those whose step − 1 is a multiple of
 * stride (and their layer norms), closing the gap; returns where the kept
 * ones end. */
static guint
keep_aligned (CsTrainHistory *h, guint from, guint to, gint64 stride)
{
  CsTrainRecord *rec = (CsTrainRecord *) h->records->data;
  float *norms = (float *) h->layer_norms->data;
  gsize w = h->n_layers;
  guint kept = from, len = h->records->len;
  g_assert (from <= to && to <= len);
  for (guint i = from; i < to; i++)
    if ((rec[i].step - 1) % stride == 0)
      {
        if (kept != i)
          {
            rec[kept] = rec[i];
            memcpy (norms + kept * w, norms + i * w, w * sizeof (float));
          }
        kept++;
      }
  memmove (rec + kept, rec + to, (len - to) * sizeof (CsTrainRecord));
  memmove (norms + kept * w, norms + to * w, (len - to) * w * sizeof (float));
  g_array_set_size (h->records, kept + len - to);
  g_array_set_size (h->layer_norms, (gsize) (kept + len - to) * w);
  return kept;
}

/* Thins what exceeds the limits (see cs_train_history_set_limits ()). */
static void
thin (CsTrainHistory *h)
{
  if (h->max_records > 0 && h->records->len >= h->max_records)
    {
      guint aged = h->records->len - h->recent;   /* > n_older: it is at most half */
      h->n_older = keep_aligned (h, MIN (h->n_older, aged), aged, h->stride);
      while (h->n_older > (h->max_records - h->recent) / 2)
        {
          h->stride *= 2;
          h->n_older = keep_aligned (h, 0, h->n_older, h->stride);
        }
      h->revision++;
    }
  if (h->max_evals > 0 && h->evals->len >= h->max_evals)
    {
      drop_every_other (h->evals, h->evals->len, 1);
      h->revision++;
    }
}

/* Storage for the bounded arrays, reserved once. */
static void
reserve (CsTrainHistory *h)
{
  guint len = h->records->len, evals = h->evals->len;
  if (h->max_records > 0)
    {
      g_array_set_size (h->records, MAX (len, h->max_records));
      g_array_set_size (h->layer_norms, MAX (len, h->max_records) * h->n_layers);
      g_array_set_size (h->records, len);
      g_array_set_size (h->layer_norms, (gsize) len * h->n_layers);
    }
  if (h->max_evals > 0)
    {
      g_array_set_size (h->evals, MAX (evals, h->max_evals));
      g_array_set_size (h->evals, evals);
    }
}

void
cs_train_history_set_limits (CsTrainHistory *h, const CsTrainHistoryLimits *limits)
{
  g_return_if_fail (h != NULL && limits != NULL);
  g_return_if_fail (limits->max_records == 0 || limits->max_records >= 4);
  g_return_if_fail (limits->max_evals == 0 || limits->max_evals >= 4);
  h->max_records = limits->max_records;
  h->recent = limits->max_records ? MIN (limits->recent, limits->max_records / 2) : 0;
  h->n_older = 0;   /* what is held is thinned again from the start */
  h->max_evals = limits->max_evals;
  while ((h->max_records > 0 && h->records->len >= h->max_records)
         || (h->max_evals > 0 && h->evals->len >= h->max_evals))
    thin (h);
  reserve (h);
}

void
cs_train_history_truncate (CsTrainHistory *h, gint64 step)
{
  g_return_if_fail (h != NULL);
  guint n = h->records->len;
  while (n > 0 && g_array_index (h->records, CsTrainRecord, n - 1).step > step)
    n--;
  guint e = h->evals->len;
  while (e > 0 && g_array_index (h->evals, CsTrainEval, e - 1).step > step)
    e--;
  if (n == h->records->len && e == h->evals->len)
    return;
  g_array_set_size (h->records, n);
  g_array_set_size (h->layer_norms, (gsize) n * h->n_layers);
  g_array_set_size (h->evals, e);
  h->n_older = MIN (h->n_older, n);
  h->revision++;
}

void
cs_train_history_append (CsTrainHistory *h, const CsTrainRecord *record, const float *layer_norms)
{
  g_return_if_fail (h != NULL && record != NULL);
  thin (h);
  g_array_append_vals (h->records, record, 1);
  guint old = h->layer_norms->len;
  g_array_set_size (h->layer_norms, old + h->n_layers);
  float *dst = &g_array_index (h->layer_norms, float, old);
  for (guint i = 0; i < h->n_layers; i++)
    dst[i] = layer_norms ? layer_norms[i] : NAN;
}

void
cs_train_history_add_eval (CsTrainHistory *h, const CsTrainEval *eval)
{
  g_return_if_fail (h != NULL && eval != NULL);
  thin (h);
  g_array_append_vals (h->evals, eval, 1);
}

void
cs_train_history_sync (CsTrainHistory *dst, const CsTrainHistory *src)
{
  g_return_if_fail (dst != NULL && src != NULL);

  gboolean same_run = dst->generation == src->generation && dst->n_layers == src->n_layers
                      && dst->records->len <= src->records->len
                      && dst->evals->len <= src->evals->len
                      && dst->revision == src->revision;
  if (!same_run)
    {
      cs_train_history_reset (dst, src->generation, src->n_layers,
                              (const char * const *) src->layer_titles);
      dst->revision = src->revision;
    }

  guint from = dst->records->len;
  if (from < src->records->len)
    {
      g_array_append_vals (dst->records, &g_array_index (src->records, CsTrainRecord, from),
                           src->records->len - from);
      g_array_append_vals (dst->layer_norms,
                           &g_array_index (src->layer_norms, float, (gsize) from * src->n_layers),
                           (src->records->len - from) * src->n_layers);
    }
  from = dst->evals->len;
  if (from < src->evals->len)
    g_array_append_vals (dst->evals, &g_array_index (src->evals, CsTrainEval, from),
                         src->evals->len - from);
  dst->n_older = src->n_older;
  dst->stride = src->stride;
}

/* ---- what goes wrong --------------------------------------------------- */

void
cs_diagnose_config_init (CsDiagnoseConfig *c)
{
  *c = (CsDiagnoseConfig) {
    .plateau_window = 200,
    .plateau_min_fall = 0.01,
    .plateau_learnt = 0.5,
    .grad_window = 50,
    .exploding_ratio = 50.0,
    .exploding_norm = 1e3,
    .vanishing_norm = 1e-7,
    .vanishing_ratio = 1e-5,
    .vanishing_min_loss = 0.05,
    .dead_fraction = 0.5,
    .gap_min = 0.10,
    .gap_growth = 0.02,
  };
}

#define RECENT 5        /* batches whose median is "the gradient now" */
#define LAYER_RECENT 20 /* batches whose median is a layer's gradient now */

static const CsTrainRecord *
record_at (const CsTrainHistory *h, guint i)
{
  return &g_array_index (h->records, CsTrainRecord, i);
}

static float
layer_norm_at (const CsTrainHistory *h, guint record, guint layer)
{
  return g_array_index (h->layer_norms, float, (gsize) record * h->n_layers + layer);
}

static int
compare_floats (const void *a, const void *b)
{
  float x = *(const float *) a, y = *(const float *) b;
  return (x > y) - (x < y);
}

/* The median of the finite values among v[0 … n − 1] (sorted in place, the
 * non-finite ones moved out first); NAN when there are none. */
static double
median (float *v, guint n)
{
  guint k = 0;
  for (guint i = 0; i < n; i++)
    if (isfinite (v[i]))
      v[k++] = v[i];
  if (k == 0)
    return NAN;
  qsort (v, k, sizeof (float), compare_floats);
  return k % 2 ? v[k / 2] : 0.5 * ((double) v[k / 2 - 1] + v[k / 2]);
}

static double
median_grad_norm (const CsTrainHistory *h, guint from, guint to)
{
  g_autofree float *v = g_new (float, MAX (to - from, 1));
  for (guint i = from; i < to; i++)
    v[i - from] = record_at (h, i)->grad_norm;
  return median (v, to - from);
}

static double
median_layer_norm (const CsTrainHistory *h, guint layer, guint from, guint to)
{
  g_autofree float *v = g_new (float, MAX (to - from, 1));
  for (guint i = from; i < to; i++)
    v[i - from] = layer_norm_at (h, i, layer);
  return median (v, to - from);
}

static double
mean_loss (const CsTrainHistory *h, guint from, guint to)
{
  double sum = 0.0;
  for (guint i = from; i < to; i++)
    sum += record_at (h, i)->loss;
  return to > from ? sum / (to - from) : NAN;
}

/* "layer 2 (ReLU)" */
static char *
layer_name (const CsTrainHistory *h, guint layer)
{
  if (h->layer_titles != NULL && layer < h->n_layers)
    return g_strdup_printf ("layer %u (%s)", layer, h->layer_titles[layer]);
  return g_strdup_printf ("layer %u", layer);
}

static void
say (GString *message, const char *format, ...) G_GNUC_PRINTF (2, 3);

static void
say (GString *message, const char *format, ...)
{
  if (message == NULL)
    return;
  if (message->len > 0)
    g_string_append_c (message, '\n');
  va_list args;
  va_start (args, format);
  g_string_append_vprintf (message, format, args);
  va_end (args);
}

static CsDiagnosisFlags
check_non_finite (const CsTrainHistory *h, GString *message)
{
  guint n = h->records->len;
  if (n == 0)
    return 0;
  const CsTrainRecord *r = record_at (h, n - 1);
  if (isfinite (r->loss) && !isinf (r->grad_norm))
    return 0;
  say (message, "The loss became %s at step %" G_GINT64_FORMAT ", so training paused: the "
       "learning rate (%g) is most likely too high. Press Reset and train again with a lower "
       "one (BatchNorm helps too); the weights are not numbers any more and will not recover "
       "by themselves.",
       isfinite (r->loss) ? "finite but its gradient infinite"
                          : isnan (r->loss) ? "NaN" : "infinite",
       r->step, (double) r->lr);
  return CS_DIAGNOSIS_NON_FINITE;
}

static CsDiagnosisFlags
check_exploding (const CsTrainHistory *h, const CsDiagnoseConfig *c, GString *message)
{
  guint n = h->records->len;
  if (n < RECENT)
    return 0;
  double now = median_grad_norm (h, n - RECENT, n);
  if (!isfinite (now))
    return 0;
  double before = NAN;
  if (n >= RECENT + c->grad_window)
    before = median_grad_norm (h, n - RECENT - c->grad_window, n - RECENT);
  gboolean jumped = isfinite (before) && before > 0.0 && now > c->exploding_ratio * before;
  if (!(now > c->exploding_norm) && !jumped)
    return 0;

  /* the layer where it is largest now */
  guint worst = G_MAXUINT;
  double worst_norm = -1.0;
  for (guint l = 0; l < h->n_layers; l++)
    {
      double v = median_layer_norm (h, l, n - RECENT, n);
      if (isfinite (v) && v > worst_norm)
        worst = l, worst_norm = v;
    }
  g_autofree char *where = worst != G_MAXUINT ? layer_name (h, worst) : NULL;
  g_autofree char *growth = jumped ? g_strdup_printf (", %.0f× its level of %u batches before",
                                                      now / before, c->grad_window)
                                   : g_strdup ("");
  say (message, "The gradient is exploding (norm %.3g%s%s%s): lower the learning rate (%g), "
       "add BatchNorm, or use a larger batch for a steadier gradient.",
       now, growth, where ? "; largest in " : "", where ? where : "",
       (double) record_at (h, n - 1)->lr);
  return CS_DIAGNOSIS_EXPLODING;
}

static CsDiagnosisFlags
check_vanishing (const CsTrainHistory *h, const CsDiagnoseConfig *c, GString *message)
{
  guint n = h->records->len;
  if (n < LAYER_RECENT || h->n_layers == 0)
    return 0;
  if (!(mean_loss (h, n - LAYER_RECENT, n) > c->vanishing_min_loss))
    return 0;

  g_autofree double *norms = g_new (double, h->n_layers);
  double largest = 0.0;
  for (guint l = 0; l < h->n_layers; l++)
    {
      norms[l] = median_layer_norm (h, l, n - LAYER_RECENT, n);
      if (isfinite (norms[l]))
        largest = MAX (largest, norms[l]);
    }
  guint worst = G_MAXUINT;
  for (guint l = 0; l < h->n_layers; l++)
    if (isfinite (norms[l])
        && (norms[l] < c->vanishing_norm || norms[l] < c->vanishing_ratio * largest)
        && (worst == G_MAXUINT || norms[l] < norms[worst]))
      worst = l;
  if (worst == G_MAXUINT)
    return 0;

  g_autofree char *where = layer_name (h, worst);
  say (message, "The gradient vanishes in %s (norm %.2g, %.2g of the largest layer's), so its "
       "weights hardly learn: add BatchNorm, use ReLU rather than sigmoid or tanh, keep a "
       "Xavier or Kaiming initialisation, or raise the learning rate.",
       where, norms[worst], largest > 0.0 ? norms[worst] / largest : 0.0);
  return CS_DIAGNOSIS_VANISHING;
}

static CsDiagnosisFlags
check_dead (const CsTrainHistory *h, const float *dead, const CsDiagnoseConfig *c,
            GString *message)
{
  if (dead == NULL)
    return 0;
  CsDiagnosisFlags found = 0;
  for (guint l = 0; l < h->n_layers; l++)
    if (isfinite (dead[l]) && dead[l] >= c->dead_fraction)
      {
        g_autofree char *where = layer_name (h, l);
        say (message, "%.0f%% of the units after %s have stopped activating (dead ReLUs): a "
             "learning rate too high usually knocks them out; lower it and Reset, or add "
             "BatchNorm before the ReLU, or try LeakyReLU.", 100.0 * dead[l], where);
        found = CS_DIAGNOSIS_DEAD_RELU;
      }
  return found;
}

static CsDiagnosisFlags
check_plateau (const CsTrainHistory *h, const CsDiagnoseConfig *c, GString *message)
{
  guint n = h->records->len, W = c->plateau_window;
  if (W < 2 || n < W)
    return 0;
  double start = mean_loss (h, 0, MIN (n, 10));
  double older = mean_loss (h, n - W, n - W / 2);
  double newer = mean_loss (h, n - W / 2, n);
  if (!(isfinite (start) && isfinite (older) && isfinite (newer)))
    return 0;
  if (newer < older * (1.0 - c->plateau_min_fall) || newer < c->plateau_learnt * start)
    return 0;
  say (message, "The loss has not fallen over the last %u batches (%.3f, against %.3f at the "
       "start): the learning rate (%g) may be too low to move the weights or so high that "
       "they bounce about; try ten times lower or higher, Adam, BatchNorm, or a larger batch "
       "for a steadier gradient.", W, newer, start, (double) record_at (h, n - 1)->lr);
  return CS_DIAGNOSIS_PLATEAU;
}

static CsDiagnosisFlags
check_gap (const CsTrainHistory *h, const CsDiagnoseConfig *c, GString *message)
{
  guint n = h->evals->len;
  if (n < 2)
    return 0;
  const CsTrainEval *last = &g_array_index (h->evals, CsTrainEval, n - 1);
  double gap = (double) last->train_accuracy - last->test_accuracy;
  if (!(gap >= c->gap_min))
    return 0;
  gboolean grew = FALSE;
  for (guint i = 0; i + 1 < n && !grew; i++)
    {
      const CsTrainEval *e = &g_array_index (h->evals, CsTrainEval, i);
      double earlier = (double) e->train_accuracy - e->test_accuracy;
      grew = isfinite (earlier) && earlier <= gap - c->gap_growth;
    }
  if (!grew)
    return 0;
  say (message, "Train accuracy (%.1f%%) is %.1f points above test accuracy (%.1f%%) and the "
       "gap is growing: the network is memorising the training set. Add Dropout or weight "
       "decay, try a smaller model or more data, or stop training here.",
       100.0 * last->train_accuracy, 100.0 * gap, 100.0 * last->test_accuracy);
  return CS_DIAGNOSIS_OVERFITTING;
}

CsDiagnosisFlags
cs_diagnose (const CsTrainHistory *h, const float *dead_fraction,
             const CsDiagnoseConfig *config, GString *message)
{
  g_return_val_if_fail (h != NULL, 0);

  CsDiagnoseConfig defaults;
  if (config == NULL)
    {
      cs_diagnose_config_init (&defaults);
      config = &defaults;
    }

  /* Past a NaN nothing else means anything. */
  CsDiagnosisFlags flags = check_non_finite (h, message);
  if (flags != 0)
    return flags;
  flags |= check_exploding (h, config, message);
  flags |= check_dead (h, dead_fraction, config, message);
  /* Dead units pass no gradient back: the layers before them "vanish"
   * because of it, and the remedy is the dead units' (a lower rate, not a
   * higher one). */
  if (!(flags & CS_DIAGNOSIS_DEAD_RELU))
    flags |= check_vanishing (h, config, message);
  flags |= check_plateau (h, config, message);
  flags |= check_gap (h, config, message);
  return flags;
}

/* ---- dead units ------------------------------------------------------- */

struct _CsUnitTracker
{
  guint n_units, per_unit, window;
  guint64 observed;       /* batches */
  guint32 *quiet;         /* (n_units) batches since the unit was last above zero */
};

CsUnitTracker *
cs_unit_tracker_new (guint n_units, guint per_unit, guint window)
{
  g_return_val_if_fail (n_units > 0 && per_unit > 0 && window > 0, NULL);
  CsUnitTracker *t = g_new0 (CsUnitTracker, 1);
  t->n_units = n_units;
  t->per_unit = per_unit;
  t->window = window;
  t->quiet = g_new0 (guint32, n_units);
  return t;
}

void
cs_unit_tracker_free (CsUnitTracker *t)
{
  if (t == NULL)
    return;
  g_free (t->quiet);
  g_free (t);
}

void
cs_unit_tracker_observe (CsUnitTracker *t, const float *act, int N)
{
  g_return_if_fail (t != NULL && act != NULL && N >= 0);
  gsize stride = (gsize) t->n_units * t->per_unit;   /* one example */
  for (guint u = 0; u < t->n_units; u++)
    {
      gboolean active = FALSE;
      for (int n = 0; n < N && !active; n++)
        {
          const float *v = act + (gsize) n * stride + (gsize) u * t->per_unit;
          for (guint p = 0; p < t->per_unit; p++)
            if (v[p] > 0.0f)
              {
                active = TRUE;
                break;
              }
        }
      if (active)
        t->quiet[u] = 0;
      else if (t->quiet[u] < G_MAXUINT32)
        t->quiet[u]++;
    }
  t->observed++;
}

double
cs_unit_tracker_dead_fraction (const CsUnitTracker *t)
{
  g_return_val_if_fail (t != NULL, NAN);
  if (t->observed < t->window)
    return NAN;
  guint dead = 0;
  for (guint u = 0; u < t->n_units; u++)
    dead += t->quiet[u] >= t->window;
  return (double) dead / t->n_units;
}

guint
cs_unit_tracker_get_n_units (const CsUnitTracker *t)
{
  g_return_val_if_fail (t != NULL, 0);
  return t->n_units;
}
