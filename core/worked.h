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
 *
 * The backward pass (CsWorkedBackward, core/worked-backward.c) is written
 * out the same way: a loss on the output, the engine's cs_model_backward (),
 * and every gradient of the convolution as the sum that made it, with g the
 * engine's dL/dconv:
 *
 *   dL/dk[i, j]  = Σ_{oh,ow} x[oh·sh − ph + i·dh, ow·sw − pw + j·dw] · g[oh, ow]
 *   dL/db        = Σ_{oh,ow} g[oh, ow]
 *   dL/dx[h, w]  = Σ k[i, j] · g[oh, ow]  over the (i, j, oh, ow) whose
 *                  window put k[i, j] on x[h, w] (for stride 1, the "full"
 *                  convolution of g with the flipped kernel)
 *
 * the pooling's routing (max: a cell gets the gradient of each window it
 * won, nothing from the others; average: a share of every window it is in)
 * and ReLU's gate (the gradient passes where conv > 0), each checked against
 * the engine's number.
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
  CS_WORKED_ARG_LOSS,        /* the backward pass's (CsWorkedLoss) */
  CS_WORKED_ARG_TARGET,
  CS_WORKED_ARG_LR,
} CsWorkedArg;

GQuark       cs_worked_error_quark (void);
/* "input", "kernel", "stride", …, "pool-padding", "loss", "target", "lr" */
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

/* ---------------------------------------------------------------------------
 * The backward pass
 */

/* Largest learning rate of the update written out. */
#define CS_WORKED_MAX_LR 1e3

typedef enum
{
  CS_WORKED_LOSS_SUM,    /* L = Σ y: every dL/dy is 1 */
  CS_WORKED_LOSS_CELL,   /* L = y[cell]: dL/dy is 1 there, 0 elsewhere */
  CS_WORKED_LOSS_MSE,    /* L = Σ (y − t)² / n, the engine's cs_loss_mse (nn.MSELoss) */
} CsWorkedLossKind;

/* A loss on the example's output y (the last stage, n cells, row-major). */
typedef struct
{
  CsWorkedLossKind kind;
  int cell;              /* CELL: an index of y */
  float target;          /* MSE: t, the same for every cell */
} CsWorkedLoss;

/* One product of a backward sum: the gradient g of a convolution output cell
 * times what it met in the forward pass. */
typedef struct
{
  int row, col;          /* the convolution's output cell: g = dL/dconv[row, col] */
  int ki, kj;            /* the kernel cell of the product */
  int in_row, in_col;    /* the input cell; outside (H, W) for padding */
  float factor;          /* dL/dk: x there (0 for padding); dL/dx: k[ki, kj]; dL/db: 1 */
  float grad;            /* g, the engine's */
  double product;        /* factor · g, exact */
  gboolean padding;
} CsWorkedGradTerm;

typedef struct
{
  int row, col;                   /* the kernel or input cell; the bias is [0, 0] */
  const CsWorkedGradTerm *terms;  /* dL/dk, dL/db: one per output cell, row-major;
                                   * dL/dx: one per kernel cell that reached it, row-major */
  int n_terms;
  double sum;                     /* Σ products */
  float value;                    /* the engine's gradient: sum within 1e-5 relative */
  float before, after;            /* a parameter: its value, and after the engine's SGD
                                   * step p ← p − lr · dL/dp; the input: its value twice */
} CsWorkedGradCell;

/* What one pooling window sends to a cell of the pooling's input. */
typedef struct
{
  int row, col;          /* the pooled cell whose window holds the cell */
  float grad;            /* dL/dpool[row, col], the engine's */
  gboolean routed;       /* max: the cell won this window; average: always */
  int divisor;           /* average: the window's divisor; max: 1 */
  double share;          /* routed ? grad / divisor : 0 */
} CsWorkedRouteTerm;

typedef struct
{
  int row, col;                    /* the cell of the pooling's input (ReLU or conv) */
  const CsWorkedRouteTerm *terms;  /* the windows holding it, in the pooled map's order */
  int n_terms;
  double sum;                      /* Σ shares */
  float value;                     /* the engine's gradient: sum within 1e-5 relative;
                                    * exactly 0 for a max-pool cell that won no window */
} CsWorkedRouteCell;

typedef struct _CsWorkedBackward CsWorkedBackward;

/* Runs the loss backward through the example's model (cs_worked_get_model ()):
 * the forward pass again, zero_grad, dL/dy into the output gradient,
 * cs_model_backward () with the input gradient on, then one step of the
 * engine's SGD with lr, whose result is read and undone: the model keeps its
 * weights, and its gradients are this loss's. Then writes out every sum and
 * checks it against the engine's number.
 * Errors: a bad loss or lr (CS_WORKED_ERROR: CS_WORKED_ARG_LOSS, _TARGET,
 * _LR), or CS_ERROR_MISMATCH where a sum is not the engine's number (a bug,
 * reported rather than shown). */
CsWorkedBackward       *cs_worked_backward_new            (CsWorked           *worked,
                                                           const CsWorkedLoss *loss,
                                                           double              lr,
                                                           GError            **error);
void                    cs_worked_backward_free           (CsWorkedBackward   *self);

CsWorked               *cs_worked_backward_get_worked     (CsWorkedBackward   *self);
const CsWorkedLoss     *cs_worked_backward_get_loss       (CsWorkedBackward   *self);
double                  cs_worked_backward_get_lr         (CsWorkedBackward   *self);
/* L: Σ y, y[cell], or the engine's mean squared error. */
double                  cs_worked_backward_get_value      (CsWorkedBackward   *self);
/* dL/d(stage i), the engine's, a copy laid out as the stage's values. */
const float            *cs_worked_backward_get_grad       (CsWorkedBackward   *self,
                                                           guint               stage);
/* NULL when the example has no such stage. */
const float            *cs_worked_backward_find_grad      (CsWorkedBackward   *self,
                                                           CsWorkedStageKind   kind);
const CsWorkedGradCell *cs_worked_backward_get_kernel_cell (CsWorkedBackward  *self,
                                                           int                 row,
                                                           int                 col);
/* NULL without a bias. */
const CsWorkedGradCell *cs_worked_backward_get_bias_cell  (CsWorkedBackward   *self);
const CsWorkedGradCell *cs_worked_backward_get_input_cell (CsWorkedBackward   *self,
                                                           int                 row,
                                                           int                 col);
/* row, col within the pooling's input; NULL without pooling. */
const CsWorkedRouteCell *cs_worked_backward_get_route_cell (CsWorkedBackward  *self,
                                                           int                 row,
                                                           int                 col);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CsWorkedBackward, cs_worked_backward_free)

G_END_DECLS
