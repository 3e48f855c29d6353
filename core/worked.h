/* worked.h — the worked example of the Convolution view, as data
 *
 * One input plane x (H, W) and one kernel k (kh, kw) go through a real
 * CsModel, built from JSON in memory:
 *
 *   conv2d 1 → 1 (stride, padding, dilation, optional fixed bias)
 *   [relu] [maxpool2d | avgpool2d (kernel, stride, padding)] [flatten]
 *
 * Every plane is the engine's own activation (cs_model_forward, then
 * cs_model_get_activation); this module only writes out what made each
 * cell:
 *
 *   conv[oh, ow] = b + Σ_{i,j} k[i, j] · x[oh·sh − ph + i·dh, ow·sw − pw + j·dw]
 *
 * one term per kernel cell, padding cells included (value 0, marked), and
 * for pooling the window with its padding cells, the engine's winner (max)
 * or the sum and divisor (average, padding counted as PyTorch's default
 * count_include_pad=True does). The terms are checked against the engine's
 * cells when the example is built: a disagreement is an error, never shown.
 *
 * The Convolution, pooling and Backward views and `convscope-cli convolve`
 * show it; cs_worked_get_model () gives the model for the backward pass.
 */
#pragma once

#include <glib.h>

#include "backend.h"
#include "model.h"

G_BEGIN_DECLS

/* Largest input or kernel side, and largest |value| of a cell or the bias. */
#define CS_WORKED_MAX_SIZE 64
#define CS_WORKED_MAX_VALUE 1e6
/* Largest stride, padding or dilation. */
#define CS_WORKED_MAX_STEP 64
/* Largest number of products written out (all output cells together). */
#define CS_WORKED_MAX_TERMS (1 << 20)

/* The output size of a sliding window, as cs_window_out_size computes it. */
#define CS_WINDOW_OUT_SIZE_FORMULA "⌊(H + 2p − d(k−1) − 1)/s⌋ + 1"

/* Errors of a spec, one code per argument it names. Each message begins
 * with the argument's name, spelt as the command line's option without its
 * dashes: "kernel: row 2 has 2 numbers, row 1 has 3". */
#define CS_WORKED_ERROR (cs_worked_error_quark ())

typedef enum
{
  CS_WORKED_ARG_INPUT,
  CS_WORKED_ARG_KERNEL,
  CS_WORKED_ARG_STRIDE,
  CS_WORKED_ARG_PADDING,
  CS_WORKED_ARG_DILATION,
  CS_WORKED_ARG_BIAS,
  CS_WORKED_ARG_POOL_KERNEL,
  CS_WORKED_ARG_POOL_STRIDE,
  CS_WORKED_ARG_POOL_PADDING,
} CsWorkedArg;

GQuark       cs_worked_error_quark (void);
/* "input", "kernel", "stride", …, "pool-padding" */
const char  *cs_worked_arg_name    (CsWorkedArg arg);

typedef enum
{
  CS_WORKED_POOL_NONE,
  CS_WORKED_POOL_MAX,
  CS_WORKED_POOL_AVG,
} CsWorkedPool;

/* What to compute: a plain value, copied freely. Pairs are [rows, cols]. */
typedef struct
{
  int H, W;
  float input[CS_WORKED_MAX_SIZE * CS_WORKED_MAX_SIZE];   /* (H, W), row-major */
  int kh, kw;
  float kernel[CS_WORKED_MAX_SIZE * CS_WORKED_MAX_SIZE];  /* (kh, kw), row-major */
  int stride[2];           /* ≥ 1 */
  int padding[2];          /* ≥ 0, zeros */
  int dilation[2];         /* ≥ 1 */
  gboolean has_bias;       /* FALSE: Conv2d(bias=False) */
  float bias;
  gboolean relu;
  CsWorkedPool pool;
  int pool_kernel[2];
  int pool_stride[2];      /* PyTorch's default is the kernel size */
  int pool_padding[2];     /* at most half the pool kernel */
  gboolean flatten;
} CsWorkedSpec;

/* DESIGN.md's example, the demo-conv preset:
 * x = [[3,3,2,1,0],[2,3,2,1,0],[3,3,2,1,0],[4,3,2,1,0],[1,3,2,1,0]],
 * k = [[0,1,2],[2,2,0],[0,1,2]], stride 1, padding 0, no bias,
 * ReLU, MaxPool2d(2, 2, padding=1), flatten. */
void         cs_worked_spec_init_default (CsWorkedSpec *spec);
/* One error for the first problem found, naming its argument. */
gboolean     cs_worked_spec_validate     (const CsWorkedSpec *spec, GError **error);
/* The model description the example runs (compact JSON). */
char        *cs_worked_spec_to_json      (const CsWorkedSpec *spec);

/* Reads a grid written as text: rows separated by ";" (or new lines),
 * numbers by spaces or commas: "1 2 3; 4 5 6". values holds
 * CS_WORKED_MAX_SIZE² floats. Errors are in CS_WORKED_ERROR with the code
 * arg: empty, a row empty or ragged, not a number, too many rows or numbers. */
gboolean     cs_worked_parse_grid        (const char *text, CsWorkedArg arg, float *values,
                                          int *rows, int *cols, GError **error);

/* "⌊(5 + 2·0 − 1·(3−1) − 1)/1⌋ + 1 = 3": the formula with the numbers of
 * one axis in it and its value (≤ 0 when the window does not fit). */
char        *cs_window_out_size_formula  (int in, int k, int s, int p, int d);

typedef enum
{
  CS_WORKED_STAGE_INPUT,
  CS_WORKED_STAGE_CONV,
  CS_WORKED_STAGE_RELU,
  CS_WORKED_STAGE_POOL,
  CS_WORKED_STAGE_FLATTEN,
} CsWorkedStageKind;

typedef struct
{
  CsWorkedStageKind kind;
  const char *name;         /* "input", "conv2d", "relu", "maxpool2d", "avgpool2d", "flatten" */
  guint activation;         /* its index for cs_model_get_activation () */
  CsShape shape;            /* one example, as the engine has it: (1, H, W) or (F) */
  int rows, cols;           /* as a grid: (H, W), or (1, F) for the flat vector */
  const float *values;      /* (rows, cols): a copy of the engine's activation */
  const CsSlidingWindow *window;   /* conv and pool: the geometry, output size included */
} CsWorkedStage;

/* One product of a convolution window. */
typedef struct
{
  int row, col;             /* the input cell; outside (H, W) for padding */
  int ki, kj;               /* the kernel cell */
  float input;              /* x there, 0 for padding */
  float weight;             /* k[ki, kj] */
  double product;           /* input · weight, exact */
  gboolean padding;
} CsWorkedTerm;

typedef struct
{
  int row, col;               /* the output cell */
  const CsWorkedTerm *terms;  /* kh·kw, the kernel's row-major order */
  int n_terms;
  double sum;                 /* Σ products */
  float bias;                 /* 0 without a bias */
  float value;                /* the engine's cell: sum + bias, within 1e-5 relative */
} CsWorkedConvCell;

/* One cell of a pooling window. */
typedef struct
{
  int row, col;             /* in the pooled map; outside it for padding */
  float value;              /* padding: −∞ for max, 0 for average */
  gboolean padding;
} CsWorkedPoolTerm;

typedef struct
{
  int row, col;                   /* the output cell */
  const CsWorkedPoolTerm *cells;  /* pool kh·kw, row-major */
  int n_cells;
  int winner;                     /* max: the engine's winner, an index in cells; avg: −1 */
  double sum;                     /* avg: Σ values, padding adding 0; max: 0 */
  int divisor;                    /* avg: cells counted, padding included; max: 0 */
  float value;                    /* the engine's cell */
} CsWorkedPoolCell;

typedef struct _CsWorked CsWorked;

/* Validates the spec, builds and runs the model, writes out every cell.
 * Errors: the spec's (CS_WORKED_ERROR), or CS_ERROR_MISMATCH if the terms do
 * not add up to the engine's numbers (a bug, reported rather than shown). */
CsWorked    *cs_worked_new            (const CsWorkedSpec *spec, GError **error);
/* The same on another CPU backend (cs_backend_ref ()): the model runs there
 * and the same checks hold. */
CsWorked    *cs_worked_new_with_backend (const CsWorkedSpec *spec, const CsBackend *be,
                                         GError **error);
void         cs_worked_free           (CsWorked *self);

const CsWorkedSpec  *cs_worked_get_spec     (CsWorked *self);
/* The model that computed it, after its forward pass, for the Backward view. */
CsModel             *cs_worked_get_model    (CsWorked *self);

/* input, conv2d, then relu, the pooling and flatten when asked for. */
guint                cs_worked_get_n_stages (CsWorked *self);
const CsWorkedStage *cs_worked_get_stage    (CsWorked *self, guint i);
/* NULL when the example has no such stage. */
const CsWorkedStage *cs_worked_find_stage   (CsWorked *self, CsWorkedStageKind kind);

/* row, col within the conv (pool) stage's grid; pool: NULL without pooling. */
const CsWorkedConvCell *cs_worked_get_conv_cell (CsWorked *self, int row, int col);
const CsWorkedPoolCell *cs_worked_get_pool_cell (CsWorked *self, int row, int col);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsWorked, cs_worked_free)

G_END_DECLS
