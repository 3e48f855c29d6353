/* diagnostics.h — a training run's history, and what is going wrong in it
 *
 * The trainer keeps one CsTrainHistory per run (cleared on reset): a record
 * per batch (loss, accuracy, the gradient's norm, overall and per layer)
 * and one per evaluation on the test split. cs_diagnose () reads a history
 * and names the usual troubles of training, each with its usual remedies:
 *
 *   NON_FINITE   the loss (or the gradient) became NaN or inf
 *   PLATEAU      the loss has not fallen over a window of batches
 *   EXPLODING    the gradient's norm shot up
 *   VANISHING    a layer's gradient is all but zero (not said when dead
 *                ReLUs are, which cause it)
 *   DEAD_RELU    units after a ReLU that never activate any more
 *   OVERFITTING  train accuracy running away from test accuracy
 *
 * It is pure arithmetic on the numbers given, so the tests feed it
 * synthetic histories; the trainer feeds it the real one.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  CS_DIAGNOSIS_NON_FINITE  = 1 << 0,
  CS_DIAGNOSIS_PLATEAU     = 1 << 1,
  CS_DIAGNOSIS_EXPLODING   = 1 << 2,
  CS_DIAGNOSIS_VANISHING   = 1 << 3,
  CS_DIAGNOSIS_DEAD_RELU   = 1 << 4,
  CS_DIAGNOSIS_OVERFITTING = 1 << 5,
} CsDiagnosisFlags;

/* One mini-batch of training. */
typedef struct
{
  gint64 step;          /* the optimizer step it made: 1 for the first batch */
  guint32 epoch;        /* from 0 */
  guint32 size;         /* examples in the batch */
  float loss;           /* mean cross-entropy of the batch, before the step */
  float accuracy;       /* of the batch, before the step */
  float grad_norm;      /* L2 norm of every parameter's gradient; NAN: not measured */
  float lr;             /* the learning rate of the step */
} CsTrainRecord;

/* One evaluation on the test split. */
typedef struct
{
  gint64 step;          /* optimizer steps taken when it ran */
  guint32 epoch;
  float train_accuracy; /* the running accuracy on the training set then; NAN if none */
  float test_loss;
  float test_accuracy;
} CsTrainEval;

typedef struct
{
  guint64 generation;   /* of the run (the trainer's; 0 for others) */
  guint n_layers;       /* columns of layer_norms: the model's layers */
  char **layer_titles;  /* (n_layers) "Linear", "ReLU", …; may be NULL */
  GArray *records;      /* CsTrainRecord, oldest first */
  GArray *layer_norms;  /* float, records->len × n_layers: the L2 norm of each
                         * layer's parameter gradients; NAN for a layer
                         * without parameters, or when not measured */
  GArray *evals;        /* CsTrainEval, oldest first */
  /* Bounds (cs_train_history_set_limits (); 0: none) and a count of the
   * changes that were not appends (a thinning, a rewind), which a copy
   * kept in step by cs_train_history_sync () must copy whole. */
  guint max_records;
  guint recent;
  guint max_evals;
  guint64 revision;
  /* The thinned part: records[0 … n_older − 1] are those whose step − 1
   * is a multiple of stride; the rest are the latest, all kept. */
  guint n_older;
  gint64 stride;
} CsTrainHistory;

/* Memory for an hour of training stays bounded: when max_records records
 * are held, the older ones (all but the latest `recent`) are thinned to
 * every stride-th step (step 1 always kept), the stride doubling (every
 * 2nd, 4th, … batch) whenever they would take more than half the room, so
 * the curves still span the whole run, evenly, at full resolution for the
 * latest `recent` batches. Evaluations: every second one dropped when
 * max_evals are held. The storage for max_records records is reserved at once:
 * appending never allocates. */
typedef struct
{
  guint max_records;    /* 16384; 0: no bound */
  guint recent;         /* 4096: kept at full resolution, < max_records */
  guint max_evals;      /* 1024; 0: no bound */
} CsTrainHistoryLimits;

void            cs_train_history_limits_init (CsTrainHistoryLimits *limits);
/* Applies them now (thinning what is held) and from now on. */
void            cs_train_history_set_limits (CsTrainHistory             *history,
                                             const CsTrainHistoryLimits *limits);
/* The most bytes the records, layer norms and evaluations of a history of
 * n_layers layers take under limits (array storage; NULL: unbounded, 0). */
gsize           cs_train_history_limits_bytes (const CsTrainHistoryLimits *limits,
                                               guint                       n_layers);
/* Drops the records and evaluations after step (a rewind). */
void            cs_train_history_truncate (CsTrainHistory      *history,
                                           gint64               step);

CsTrainHistory *cs_train_history_new      (guint                n_layers,
                                           const char * const  *layer_titles);
void            cs_train_history_free     (CsTrainHistory      *history);
/* Empties it for a run of a model with n_layers layers. */
void            cs_train_history_reset    (CsTrainHistory      *history,
                                           guint64              generation,
                                           guint                n_layers,
                                           const char * const  *layer_titles);
/* layer_norms: (n_layers), or NULL for "not measured". */
void            cs_train_history_append   (CsTrainHistory      *history,
                                           const CsTrainRecord *record,
                                           const float         *layer_norms);
void            cs_train_history_add_eval (CsTrainHistory      *history,
                                           const CsTrainEval   *eval);
/* Brings dst up to date with src: the records and evaluations it lacks are
 * appended, or, when dst holds another run (generation or layers differ,
 * or it is longer), all of src is copied. Costs what is new. */
void            cs_train_history_sync     (CsTrainHistory       *dst,
                                           const CsTrainHistory *src);

/* The thresholds; cs_diagnose_config_init () gives the defaults named. */
typedef struct
{
  guint plateau_window;       /* 200 batches: the loss compared between halves */
  double plateau_min_fall;    /* 0.01: a fall below 1 % is no fall */
  double plateau_learnt;      /* 0.5: quiet once the loss is below half its start */
  guint grad_window;          /* 50 batches of gradient norms for a baseline */
  double exploding_ratio;     /* 50: recent norm / baseline median */
  double exploding_norm;      /* 1e3: an absolute norm that is always too much */
  double vanishing_norm;      /* 1e-7: a layer's norm below this … */
  double vanishing_ratio;     /* 1e-5: … or this fraction of the largest layer's */
  double vanishing_min_loss;  /* 0.05: a loss so low that small gradients are right */
  double dead_fraction;       /* 0.5: this share of a ReLU's units dead */
  double gap_min;             /* 0.10: train − test accuracy worth a word … */
  double gap_growth;          /* 0.02: … once it has grown by this since an earlier evaluation */
} CsDiagnoseConfig;

void             cs_diagnose_config_init (CsDiagnoseConfig *config);

/* dead_fraction: (n_layers) the share of units after each ReLU layer that
 * did not activate over the tracker's window, NAN for other layers or
 * before the window has filled; may be NULL. message, when not NULL, gets
 * one line per trouble found, the most urgent first, each naming the usual
 * remedies. */
CsDiagnosisFlags cs_diagnose             (const CsTrainHistory   *history,
                                          const float            *dead_fraction,
                                          const CsDiagnoseConfig *config,
                                          GString                *message);

/* Dead units: which units of a ReLU's output have been above zero lately.
 * A unit is an element of one example's activation, or a whole channel
 * (plane) of a feature map: per_unit is 1 for a vector, H·W for maps. */
typedef struct _CsUnitTracker CsUnitTracker;

CsUnitTracker   *cs_unit_tracker_new       (guint           n_units,
                                            guint           per_unit,
                                            guint           window);
void             cs_unit_tracker_free      (CsUnitTracker  *tracker);
/* act: (N, n_units, per_unit) in host memory, one batch's output. */
void             cs_unit_tracker_observe   (CsUnitTracker  *tracker,
                                            const float    *act,
                                            int             N);
/* The share of units not above zero in any of the last `window` batches
 * observed; NAN before that many have been. */
double           cs_unit_tracker_dead_fraction (const CsUnitTracker *tracker);
guint            cs_unit_tracker_get_n_units   (const CsUnitTracker *tracker);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsTrainHistory, cs_train_history_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsUnitTracker, cs_unit_tracker_free)

G_END_DECLS
