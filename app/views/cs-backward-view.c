/* cs-backward-view.c — the Backward view: the worked example's gradients,
 * cell by cell
 *
 * As in cs-conv-view.c: the steps, a layout from the state and the size,
 * the drawing and the hit-testing on it, the text; then the widget, which
 * owns the spec, the loss and the learning rate, asks the engine for the
 * example and its backward pass after every change and draws its state.
 * Every number drawn or written is one the engine computed
 * (CsWorkedBackward); this file only places and formats them.
 */
#include "cs-backward-view.h"
#include "cs-grid.h"
#include "cs-palette.h"
#include "cs-stepper.h"
#include "cs-worked-text.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#define PLAY_INTERVAL_MS 1200
#define N_GRIDS CS_BACKWARD_N_GRIDS
#define N_SLOTS 5
/* Beyond this many outputs the loss is written with "…". */
#define MAX_LOSS_TERMS 12

/* ===========================================================================
 * The steps
 */

typedef struct
{
  int rows[5], cols[5];   /* the grid of each phase (0 × 0: none) */
  int start[6];           /* the first step of each phase; start[5] = n */
} Phases;

static gboolean
phases_of (const CsBackwardViewState *state, Phases *p)
{
  memset (p, 0, sizeof *p);
  if (state->backward == NULL)
    return FALSE;

  CsWorked *w = cs_worked_backward_get_worked (state->backward);
  const CsWorkedSpec *spec = cs_worked_get_spec (w);
  const CsWorkedStage *pool = cs_worked_find_stage (w, CS_WORKED_STAGE_POOL);
  const CsWorkedStage *conv = cs_worked_find_stage (w, CS_WORKED_STAGE_CONV);

  g_return_val_if_fail (pool != NULL && cs_worked_find_stage (w, CS_WORKED_STAGE_RELU) != NULL,
                        FALSE);
  p->rows[CS_BACKWARD_PHASE_OUTPUT] = pool->rows;
  p->cols[CS_BACKWARD_PHASE_OUTPUT] = pool->cols;
  p->rows[CS_BACKWARD_PHASE_CONV] = conv->rows;
  p->cols[CS_BACKWARD_PHASE_CONV] = conv->cols;
  p->rows[CS_BACKWARD_PHASE_KERNEL] = spec->kh;
  p->cols[CS_BACKWARD_PHASE_KERNEL] = spec->kw;
  p->rows[CS_BACKWARD_PHASE_BIAS] = p->cols[CS_BACKWARD_PHASE_BIAS] = spec->has_bias ? 1 : 0;
  p->rows[CS_BACKWARD_PHASE_INPUT] = spec->H;
  p->cols[CS_BACKWARD_PHASE_INPUT] = spec->W;
  for (int i = 0; i < 5; i++)
    p->start[i + 1] = p->start[i] + p->rows[i] * p->cols[i];
  return TRUE;
}

int
cs_backward_view_state_n_steps (const CsBackwardViewState *state)
{
  Phases p;

  g_return_val_if_fail (state != NULL, 0);
  return phases_of (state, &p) ? p.start[5] : 0;
}

gboolean
cs_backward_view_state_locate (const CsBackwardViewState *state, int step,
                               CsBackwardPhase *phase, int *row, int *col)
{
  Phases p;

  g_return_val_if_fail (state != NULL, FALSE);
  if (!phases_of (state, &p) || step < 0 || step >= p.start[5])
    return FALSE;
  for (int i = 0; i < 5; i++)
    if (step < p.start[i + 1])
      {
        int k = step - p.start[i];
        if (phase != NULL)
          *phase = i;
        if (row != NULL)
          *row = k / p.cols[i];
        if (col != NULL)
          *col = k % p.cols[i];
        return TRUE;
      }
  g_assert_not_reached ();
}

int
cs_backward_view_state_find_step (const CsBackwardViewState *state, CsBackwardPhase phase,
                                  int row, int col)
{
  Phases p;

  g_return_val_if_fail (state != NULL, -1);
  if (!phases_of (state, &p) || (guint) phase > CS_BACKWARD_PHASE_INPUT
      || row < 0 || col < 0 || row >= p.rows[phase] || col >= p.cols[phase])
    return -1;
  return p.start[phase] + row * p.cols[phase] + col;
}

int
cs_backward_view_state_phase_step (const CsBackwardViewState *state, int delta)
{
  CsBackwardPhase phase;
  Phases p;

  g_return_val_if_fail (state != NULL, 0);
  if (!cs_backward_view_state_locate (state, state->step, &phase, NULL, NULL))
    return 0;
  phases_of (state, &p);
  int i = phase;
  do
    i += delta > 0 ? 1 : -1;
  while (i >= 0 && i < 5 && p.rows[i] * p.cols[i] == 0);
  if (i < 0)
    return 0;
  if (i >= 5)
    return state->step;   /* the last phase: stay */
  return p.start[i];
}

/* ===========================================================================
 * Names and numbers
 */

/* Numbers are written with at most 6 significant digits (the engine's
 * float32 arithmetic makes 2 − 0.1·12 = 0.79999995, which reads as 0.8);
 * an equation in which one was rounded ends in "≈" rather than "=". */
static char *
number (double v)
{
  return cs_worked_text_short (v, NULL);
}

static char *
num (double v, gboolean *exact)
{
  return cs_worked_text_short (v, exact);
}

static char *
factor (double v, gboolean *exact)
{
  return cs_worked_text_short_factor (v, exact);
}

static const char *
equals (gboolean exact)
{
  return exact ? "=" : "≈";
}

/* The number a cell shows: exact if 4 significant digits hold it (3.625,
 * −1.2, 0.8 for 0.79999995), else 3 (0.194 for 0.194444): a grid is read
 * at a glance, the equations below carry 6 digits. */
static double
shown (double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (!isfinite (v))
    return v;
  g_ascii_formatd (buf, sizeof buf, "%.4g", v);
  double r = g_ascii_strtod (buf, NULL);
  if ((float) r == (float) v)
    return r;
  g_ascii_formatd (buf, sizeof buf, "%.3g", v);
  return g_ascii_strtod (buf, NULL);
}

static int
slot_of (CsBackwardGrid grid)
{
  switch (grid)
    {
    case CS_BACKWARD_GRID_INPUT:
    case CS_BACKWARD_GRID_DINPUT:
      return 0;
    case CS_BACKWARD_GRID_KERNEL:
    case CS_BACKWARD_GRID_DKERNEL:
    case CS_BACKWARD_GRID_UPDATED:
      return 1;
    case CS_BACKWARD_GRID_CONV:
    case CS_BACKWARD_GRID_DCONV:
      return 2;
    case CS_BACKWARD_GRID_RELU:
    case CS_BACKWARD_GRID_DRELU:
      return 3;
    case CS_BACKWARD_GRID_POOL:
    case CS_BACKWARD_GRID_DPOOL:
      return 4;
    default:
      g_assert_not_reached ();
    }
}

static int
band_of (CsBackwardGrid grid)
{
  return grid >= CS_BACKWARD_GRID_DINPUT ? 1 : 0;
}

static gboolean
is_max (CsWorked *w)
{
  return cs_worked_get_spec (w)->pool == CS_WORKED_POOL_MAX;
}

static char *
grid_title (CsWorkedBackward *b, CsBackwardGrid grid)
{
  CsWorked *w = cs_worked_backward_get_worked (b);
  const CsWorkedSpec *spec = cs_worked_get_spec (w);
  const CsWorkedStage *conv = cs_worked_find_stage (w, CS_WORKED_STAGE_CONV);
  const CsWorkedStage *pool = cs_worked_find_stage (w, CS_WORKED_STAGE_POOL);

  switch (grid)
    {
    case CS_BACKWARD_GRID_INPUT:
      if (spec->padding[0] > 0 || spec->padding[1] > 0)
        /* TRANSLATORS: grid titles of the Backward view; sizes are rows×columns */
        return g_strdup_printf (_("Input x  %d×%d, padding %d"), spec->H, spec->W,
                                MAX (spec->padding[0], spec->padding[1]));
      return g_strdup_printf (_("Input x  %d×%d"), spec->H, spec->W);
    case CS_BACKWARD_GRID_KERNEL:
      if (spec->dilation[0] > 1 || spec->dilation[1] > 1)
        return g_strdup_printf (_("Kernel k  %d×%d, dilation %d"), spec->kh, spec->kw,
                                MAX (spec->dilation[0], spec->dilation[1]));
      return g_strdup_printf (_("Kernel k  %d×%d"), spec->kh, spec->kw);
    case CS_BACKWARD_GRID_CONV:
      if (spec->stride[0] > 1 || spec->stride[1] > 1)
        return g_strdup_printf (_("Conv  %d×%d, stride %d"), conv->rows, conv->cols,
                                MAX (spec->stride[0], spec->stride[1]));
      return g_strdup_printf (_("Conv  %d×%d"), conv->rows, conv->cols);
    case CS_BACKWARD_GRID_RELU:
      return g_strdup (_("ReLU"));
    case CS_BACKWARD_GRID_POOL:
      return g_strdup_printf (is_max (w) ? _("Max pool y  %d×%d") : _("Avg pool y  %d×%d"),
                              pool->rows, pool->cols);
    case CS_BACKWARD_GRID_DINPUT:
      return g_strdup ("∂L/∂x");
    case CS_BACKWARD_GRID_DKERNEL:
      return g_strdup ("∂L/∂k");
    case CS_BACKWARD_GRID_DCONV:
      return g_strdup ("∂L/∂conv");
    case CS_BACKWARD_GRID_DRELU:
      return g_strdup ("∂L/∂ReLU");
    case CS_BACKWARD_GRID_DPOOL:
      return g_strdup ("∂L/∂y");
    case CS_BACKWARD_GRID_UPDATED:
      {
        g_autofree char *lr = number (cs_worked_backward_get_lr (b));
        return g_strdup_printf ("k − %s·∂L/∂k", lr);
      }
    default:
      g_assert_not_reached ();
    }
}

/* The values a grid shows (its data cells, row-major); the padding ring is
 * not in them. */
static const float *
grid_values (CsWorkedBackward *b, CsBackwardGrid grid, int *rows, int *cols)
{
  static const CsWorkedStageKind kinds[] = {
    [CS_BACKWARD_GRID_INPUT] = CS_WORKED_STAGE_INPUT,
    [CS_BACKWARD_GRID_CONV] = CS_WORKED_STAGE_CONV,
    [CS_BACKWARD_GRID_RELU] = CS_WORKED_STAGE_RELU,
    [CS_BACKWARD_GRID_POOL] = CS_WORKED_STAGE_POOL,
    [CS_BACKWARD_GRID_DINPUT] = CS_WORKED_STAGE_INPUT,
    [CS_BACKWARD_GRID_DCONV] = CS_WORKED_STAGE_CONV,
    [CS_BACKWARD_GRID_DRELU] = CS_WORKED_STAGE_RELU,
    [CS_BACKWARD_GRID_DPOOL] = CS_WORKED_STAGE_POOL,
  };
  CsWorked *w = cs_worked_backward_get_worked (b);
  const CsWorkedSpec *spec = cs_worked_get_spec (w);

  if (grid == CS_BACKWARD_GRID_KERNEL || grid == CS_BACKWARD_GRID_DKERNEL
      || grid == CS_BACKWARD_GRID_UPDATED)
    {
      *rows = spec->kh;
      *cols = spec->kw;
      return NULL;   /* per cell, from the kernel cells */
    }
  const CsWorkedStage *s = cs_worked_find_stage (w, kinds[grid]);
  *rows = s->rows;
  *cols = s->cols;
  return band_of (grid) == 0 ? s->values : cs_worked_backward_find_grad (b, kinds[grid]);
}

static double
grid_value (CsWorkedBackward *b, CsBackwardGrid grid, int row, int col)
{
  int rows, cols;
  const float *v = grid_values (b, grid, &rows, &cols);

  if (v != NULL)
    return v[row * cols + col];
  const CsWorkedGradCell *k = cs_worked_backward_get_kernel_cell (b, row, col);
  switch (grid)
    {
    case CS_BACKWARD_GRID_KERNEL:
      return k->before;
    case CS_BACKWARD_GRID_DKERNEL:
      return k->value;
    case CS_BACKWARD_GRID_UPDATED:
      return k->after;
    default:
      g_assert_not_reached ();
    }
}

/* The colour scale of each grid: a number has one colour wherever it goes
 * (the kernel before and after the step share one, and so do the gradients
 * flowing from y back to the convolution). */
typedef struct
{
  CsPaletteKind kind[N_GRIDS];
  double limit[N_GRIDS];
} Scales;

static double
grid_limit (CsWorkedBackward *b, CsBackwardGrid grid)
{
  int rows, cols;
  double limit = 0.0;

  grid_values (b, grid, &rows, &cols);
  for (int r = 0; r < rows; r++)
    for (int c = 0; c < cols; c++)
      limit = MAX (limit, fabs (grid_value (b, grid, r, c)));
  return limit > 0.0 ? limit : 1e-6;
}

static void
scales_of (CsWorkedBackward *b, Scales *s)
{
  for (int g = 0; g < N_GRIDS; g++)
    {
      s->kind[g] = g == CS_BACKWARD_GRID_RELU || g == CS_BACKWARD_GRID_POOL
                   ? CS_PALETTE_SEQUENTIAL : CS_PALETTE_DIVERGING;
      s->limit[g] = grid_limit (b, g);
    }
  double k = MAX (s->limit[CS_BACKWARD_GRID_KERNEL], s->limit[CS_BACKWARD_GRID_UPDATED]);
  s->limit[CS_BACKWARD_GRID_KERNEL] = s->limit[CS_BACKWARD_GRID_UPDATED] = k;
  s->limit[CS_BACKWARD_GRID_POOL] = s->limit[CS_BACKWARD_GRID_RELU];
  double g = MAX (s->limit[CS_BACKWARD_GRID_DPOOL],
                  MAX (s->limit[CS_BACKWARD_GRID_DRELU], s->limit[CS_BACKWARD_GRID_DCONV]));
  s->limit[CS_BACKWARD_GRID_DPOOL] = s->limit[CS_BACKWARD_GRID_DRELU] = g;
  s->limit[CS_BACKWARD_GRID_DCONV] = g;
}

/* ===========================================================================
 * The text
 */

/* "∂L/∂y[2]": the output by its flattened index */
static char *
y_name (CsWorked *w, int row, int col)
{
  const CsWorkedStage *pool = cs_worked_find_stage (w, CS_WORKED_STAGE_POOL);
  return g_strdup_printf ("y[%d]", row * pool->cols + col);
}

static const CsWorkedRouteCell *
route_cell (CsWorkedBackward *b, int row, int col)
{
  return cs_worked_backward_get_route_cell (b, row, col);
}

/* "∂L/∂ReLU[1,0] = 0", "= 1 + 0 = 1", "= 1/4 = 0.25" */
static char *
route_equation (CsWorkedBackward *b, int row, int col)
{
  const CsWorkedRouteCell *cell = route_cell (b, row, col);
  GString *terms = g_string_new (NULL);
  gboolean exact = TRUE;

  for (int t = 0; t < cell->n_terms && t < MAX_LOSS_TERMS; t++)
    {
      const CsWorkedRouteTerm *term = &cell->terms[t];
      g_autofree char *g = factor (term->grad, &exact);
      if (t > 0)
        g_string_append (terms, " + ");
      if (!term->routed)
        g_string_append (terms, "0");
      else if (term->divisor > 1)
        g_string_append_printf (terms, "%s/%d", g, term->divisor);
      else
        g_string_append (terms, g);
    }
  if (cell->n_terms > MAX_LOSS_TERMS)
    g_string_append (terms, " + …");
  g_autofree char *v = num (cell->value, &exact);
  /* a single 0 or gradient is its own value */
  gboolean plain = cell->n_terms == 0
                   || (cell->n_terms == 1
                       && (!cell->terms[0].routed || cell->terms[0].divisor == 1));
  char *line = plain
    ? g_strdup_printf ("∂L/∂ReLU[%d,%d] %s %s", row, col, equals (exact), v)
    : g_strdup_printf ("∂L/∂ReLU[%d,%d] = %s %s %s", row, col, terms->str, equals (exact), v);
  g_string_free (terms, TRUE);
  return line;
}

/* "∂L/∂conv[1,0] = ∂L/∂ReLU[1,0]·[26 > 0] = 0·1 = 0" */
static char *
gate_equation (CsWorkedBackward *b, int row, int col)
{
  CsWorked *w = cs_worked_backward_get_worked (b);
  const CsWorkedStage *conv = cs_worked_find_stage (w, CS_WORKED_STAGE_CONV);
  float x = conv->values[row * conv->cols + col];
  gboolean exact = TRUE;
  g_autofree char *in = num (x, &exact);
  g_autofree char *up = factor (route_cell (b, row, col)->value, &exact);
  g_autofree char *out = num (cs_worked_backward_find_grad (b, CS_WORKED_STAGE_CONV)
                              [row * conv->cols + col], &exact);

  return g_strdup_printf ("∂L/∂conv[%d,%d] = ∂L/∂ReLU[%d,%d]·[%s > 0] = %s·%d %s %s", row, col,
                          row, col, in, up, x > 0 ? 1 : 0, equals (exact), out);
}

/* Why the pooling sends what it sends to ReLU [row, col], and ReLU's gate. */
static char *
route_explanation (CsWorkedBackward *b, int row, int col)
{
  CsWorked *w = cs_worked_backward_get_worked (b);
  const CsWorkedRouteCell *cell = route_cell (b, row, col);
  const CsWorkedStage *conv = cs_worked_find_stage (w, CS_WORKED_STAGE_CONV);
  GString *s = g_string_new (NULL);

  if (cell->n_terms == 0)
    g_string_append (s, _("No pooling window holds this cell: it receives nothing."));
  for (int t = 0; t < cell->n_terms && t < 4; t++)
    {
      const CsWorkedRouteTerm *term = &cell->terms[t];
      const CsWorkedPoolCell *p = cs_worked_get_pool_cell (w, term->row, term->col);
      g_autofree char *y = y_name (w, term->row, term->col);
      g_autofree char *g = number (term->grad);
      g_autofree char *sentence = NULL;

      if (t > 0)
        g_string_append_c (s, ' ');
      if (!is_max (w))
        sentence = g_strdup_printf (_("Average pooling shares ∂L/∂%s = %s equally among the "
                                      "%d cells of its window, padding counted."), y, g,
                                    term->divisor);
      else if (term->routed)
        {
          g_autofree char *m = number (p->value);
          sentence = g_strdup_printf (_("It won the window of %s (max = %s), so it receives all "
                                        "of ∂L/∂%s = %s."), y, m, y, g);
        }
      else
        {
          const CsWorkedPoolTerm *win = &p->cells[p->winner];
          g_autofree char *m = number (win->value);
          sentence = g_strdup_printf (_("It lost the window of %s to ReLU [%d,%d] = %s: only "
                                        "the winner receives its gradient."), y, win->row,
                                      win->col, m);
        }
      g_string_append (s, sentence);
    }
  g_string_append_c (s, ' ');
  if (conv->values[row * conv->cols + col] > 0)
    g_string_append (s, _("ReLU passes the gradient on, because its input was positive."));
  else
    g_string_append (s, _("ReLU stops it: its input was not positive, so nothing passes."));
  return g_string_free (s, FALSE);
}

/* "2·(28 − 20)/4 = 4", "1", "0" */
static char *
output_equation (CsWorkedBackward *b, int row, int col)
{
  CsWorked *w = cs_worked_backward_get_worked (b);
  const CsWorkedLoss *loss = cs_worked_backward_get_loss (b);
  const CsWorkedStage *pool = cs_worked_find_stage (w, CS_WORKED_STAGE_POOL);
  int i = row * pool->cols + col;
  gboolean exact = TRUE;
  g_autofree char *y = y_name (w, row, col);
  g_autofree char *g = num (cs_worked_backward_find_grad (b, CS_WORKED_STAGE_POOL)[i], &exact);

  if (loss->kind == CS_WORKED_LOSS_MSE)
    {
      g_autofree char *v = num (pool->values[i], &exact);
      g_autofree char *t = num (loss->target, &exact);
      return g_strdup_printf ("∂L/∂%s = 2·(%s − %s)/%d %s %s", y, v, t,
                              pool->rows * pool->cols, equals (exact), g);
    }
  return g_strdup_printf ("∂L/∂%s %s %s", y, equals (exact), g);
}

static char *
output_explanation (CsWorkedBackward *b, int row, int col)
{
  CsWorked *w = cs_worked_backward_get_worked (b);
  const CsWorkedLoss *loss = cs_worked_backward_get_loss (b);
  const CsWorkedStage *pool = cs_worked_find_stage (w, CS_WORKED_STAGE_POOL);

  switch (loss->kind)
    {
    case CS_WORKED_LOSS_SUM:
      return g_strdup (_("L adds up every output once: each one's gradient is 1."));
    case CS_WORKED_LOSS_CELL:
      if (loss->cell == row * pool->cols + col)
        return g_strdup (_("L is this output itself: its gradient is 1."));
      return g_strdup_printf (_("L is y[%d] alone: this output does not change it, so its "
                                "gradient is 0."), loss->cell);
    case CS_WORKED_LOSS_MSE:
      return g_strdup (_("∂L/∂y = 2·(y − t)/n: positive where y is above the target t, "
                         "negative where it is below."));
    default:
      g_assert_not_reached ();
    }
}

static const CsWorkedGradCell *
param_cell (CsWorkedBackward *b, CsBackwardPhase phase, int row, int col)
{
  if (phase == CS_BACKWARD_PHASE_KERNEL)
    return cs_worked_backward_get_kernel_cell (b, row, col);
  if (phase == CS_BACKWARD_PHASE_BIAS)
    return cs_worked_backward_get_bias_cell (b);
  if (phase == CS_BACKWARD_PHASE_INPUT)
    return cs_worked_backward_get_input_cell (b, row, col);
  return NULL;
}

char *
cs_backward_view_state_equation_text (const CsBackwardViewState *state)
{
  CsBackwardPhase phase;
  int row, col;

  g_return_val_if_fail (state != NULL, NULL);
  if (!cs_backward_view_state_locate (state, state->step, &phase, &row, &col))
    return NULL;

  CsWorkedBackward *b = state->backward;
  switch (phase)
    {
    case CS_BACKWARD_PHASE_OUTPUT:
      return output_equation (b, row, col);
    case CS_BACKWARD_PHASE_CONV:
      {
        g_autofree char *route = route_equation (b, row, col);
        g_autofree char *gate = gate_equation (b, row, col);
        return g_strdup_printf ("%s\n%s", route, gate);
      }
    case CS_BACKWARD_PHASE_KERNEL:
    case CS_BACKWARD_PHASE_BIAS:
    case CS_BACKWARD_PHASE_INPUT:
      {
        g_autofree char *sum = cs_worked_text_grad_cell (param_cell (b, phase, row, col));
        if (phase == CS_BACKWARD_PHASE_KERNEL)
          return g_strdup_printf ("∂L/∂k[%d,%d] = %s", row, col, sum);
        if (phase == CS_BACKWARD_PHASE_BIAS)
          return g_strdup_printf ("∂L/∂b = %s", sum);
        return g_strdup_printf ("∂L/∂x[%d,%d] = %s", row, col, sum);
      }
    default:
      g_assert_not_reached ();
    }
}

char *
cs_backward_view_state_update_text (const CsBackwardViewState *state)
{
  CsBackwardPhase phase;
  int row, col;

  g_return_val_if_fail (state != NULL, NULL);
  if (!cs_backward_view_state_locate (state, state->step, &phase, &row, &col)
      || (phase != CS_BACKWARD_PHASE_KERNEL && phase != CS_BACKWARD_PHASE_BIAS))
    return NULL;

  const CsWorkedGradCell *c = param_cell (state->backward, phase, row, col);
  g_autofree char *name = phase == CS_BACKWARD_PHASE_KERNEL
    ? g_strdup_printf ("k[%d,%d]", row, col) : g_strdup ("b");
  gboolean exact = TRUE;
  g_autofree char *before = num (c->before, &exact);
  g_autofree char *lr = num (cs_worked_backward_get_lr (state->backward), &exact);
  g_autofree char *g = factor (c->value, &exact);
  g_autofree char *after = num (c->after, &exact);
  return g_strdup_printf ("%s ← %s − %s·%s %s %s", name, before, lr, g, equals (exact), after);
}

char *
cs_backward_view_state_loss_text (const CsBackwardViewState *state)
{
  g_return_val_if_fail (state != NULL, NULL);
  if (state->backward == NULL)
    return NULL;

  CsWorkedBackward *b = state->backward;
  CsWorked *w = cs_worked_backward_get_worked (b);
  const CsWorkedLoss *loss = cs_worked_backward_get_loss (b);
  const CsWorkedStage *pool = cs_worked_find_stage (w, CS_WORKED_STAGE_POOL);
  int n = pool->rows * pool->cols;
  gboolean exact = TRUE;
  g_autofree char *value = num (cs_worked_backward_get_value (b), &exact);
  GString *s = g_string_new (NULL);

  switch (loss->kind)
    {
    case CS_WORKED_LOSS_SUM:
      g_string_append (s, "L = Σ y = ");
      break;
    case CS_WORKED_LOSS_CELL:
      g_string_append_printf (s, "L = y[%d] %s %s", loss->cell, equals (exact), value);
      return g_string_free (s, FALSE);
    case CS_WORKED_LOSS_MSE:
      g_string_append (s, "L = Σ (y − t)²/n = (");
      break;
    default:
      g_assert_not_reached ();
    }
  g_autofree char *t = num (loss->target, &exact);
  for (int i = 0; i < n; i++)
    {
      if (n > MAX_LOSS_TERMS && i == MAX_LOSS_TERMS - 2)
        {
          g_string_append (s, " + …");
          i = n - 1;
        }
      g_autofree char *v = num (pool->values[i], &exact);
      if (i > 0)
        g_string_append (s, " + ");
      if (loss->kind == CS_WORKED_LOSS_MSE)
        g_string_append_printf (s, "(%s − %s)²", v, t);
      else
        g_string_append (s, v);
    }
  if (loss->kind == CS_WORKED_LOSS_MSE)
    g_string_append_printf (s, ")/%d", n);
  g_string_append_printf (s, " %s %s", equals (exact), value);
  return g_string_free (s, FALSE);
}

static char *
explanation (const CsBackwardViewState *state)
{
  CsBackwardPhase phase;
  int row, col;

  if (!cs_backward_view_state_locate (state, state->step, &phase, &row, &col))
    return NULL;

  CsWorkedBackward *b = state->backward;
  switch (phase)
    {
    case CS_BACKWARD_PHASE_OUTPUT:
      return output_explanation (b, row, col);
    case CS_BACKWARD_PHASE_CONV:
      return route_explanation (b, row, col);
    case CS_BACKWARD_PHASE_KERNEL:
      return g_strdup_printf (_("k[%d,%d] met one input cell in every window: its gradient "
                                "adds up each of those inputs times the gradient of the output "
                                "cell the window made (dashed)."), row, col);
    case CS_BACKWARD_PHASE_BIAS:
      return g_strdup (_("The bias is added to every output cell, so its gradient is the sum of "
                         "all of ∂L/∂conv."));
    case CS_BACKWARD_PHASE_INPUT:
      if (param_cell (b, phase, row, col)->n_terms == 0)
        return g_strdup_printf (_("No window read x[%d,%d] (the stride skips it): its gradient "
                                  "is 0."), row, col);
      return g_strdup_printf (_("Every kernel weight that met x[%d,%d], times the gradient of "
                                "the output cell it helped make (dashed). With stride 1 this is "
                                "∂L/∂conv convolved with the flipped kernel, padded: a “full” "
                                "convolution."), row, col);
    default:
      g_assert_not_reached ();
    }
}

char *
cs_backward_view_state_describe (const CsBackwardViewState *state)
{
  g_return_val_if_fail (state != NULL, NULL);

  g_autofree char *equation = cs_backward_view_state_equation_text (state);
  if (equation == NULL)
    return g_strdup_printf (_("No backward pass: %s"), state->error != NULL ? state->error : "");
  g_autofree char *update = cs_backward_view_state_update_text (state);
  g_autofree char *loss = cs_backward_view_state_loss_text (state);
  GString *s = g_string_new (equation);
  g_string_replace (s, "\n", "; ", 0);
  if (update != NULL)
    g_string_append_printf (s, "; %s", update);
  g_string_append_printf (s, " (%s)", loss);
  return g_string_free (s, FALSE);
}

/* ===========================================================================
 * The layout
 */

typedef struct
{
  gboolean picture;
  double margin, type, cell, title_size, eq_size, title_h, legend_h, legend_min;
  int rows[N_GRIDS], cols[N_GRIDS];     /* cells drawn, padding rings included */
  int pad_rows[N_GRIDS], pad_cols[N_GRIDS];
  double title_w[N_GRIDS];
  double box_x[N_GRIDS], box_w[N_GRIDS];  /* the room a grid is centred in */
  double grid_x[N_GRIDS], grid_y[N_GRIDS];
  double slot_x[N_SLOTS], slot_w[N_SLOTS];
  double band_y[2], band_rows[2];         /* the top of each band's grids, its rows */
  double op_x[N_SLOTS - 1], op_w;
  double text_x, text_y, text_w;
} BackwardLayout;

typedef struct
{
  PangoLayout *equation;   /* the current step's equations and update */
  PangoLayout *body;       /* why */
  PangoLayout *loss;
  PangoLayout *hint;
} BackwardText;

static void
backward_text_clear (BackwardText *text)
{
  g_clear_object (&text->equation);
  g_clear_object (&text->body);
  g_clear_object (&text->loss);
  g_clear_object (&text->hint);
}

static double
layout_height (PangoLayout *layout)
{
  PangoRectangle logical;

  if (layout == NULL)
    return 0.0;
  pango_layout_get_extents (layout, NULL, &logical);
  return (double) logical.height / PANGO_SCALE;
}

/* The height of at least n lines of a layout. */
static double
lines_height (PangoLayout *layout, int n)
{
  int lines = MAX (1, pango_layout_get_line_count (layout));
  return layout_height (layout) * MAX (lines, n) / lines;
}

static PangoLayout *
wrapped (const char *markup, double size, double width)
{
  PangoLayout *layout = cs_grid_layout_new ("", size, FALSE);

  pango_layout_set_markup (layout, markup, -1);
  pango_layout_set_width (layout, (int) (width * PANGO_SCALE));
  pango_layout_set_wrap (layout, PANGO_WRAP_WORD_CHAR);
  return layout;
}

/* "<b>∂L/∂k[0,0]</b> = …", "<b>k[0,0]</b> ← …": each line's name in bold. */
static char *
bold_names (const char *text)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  GString *s = g_string_new (NULL);

  for (char **l = lines; *l != NULL; l++)
    {
      const char *cut = NULL;
      for (int k = 0; k < 3; k++)
        {
          const char *at = strstr (*l, (const char *[]) { " = ", " ≈ ", " ← " }[k]);
          if (at != NULL && (cut == NULL || at < cut))
            cut = at;
        }
      if (l != lines)
        g_string_append_c (s, '\n');
      if (cut == NULL)
        {
          g_autofree char *e = g_markup_escape_text (*l, -1);
          g_string_append (s, e);
          continue;
        }
      g_autofree char *name = g_markup_escape_text (*l, cut - *l);
      g_autofree char *rest = g_markup_escape_text (cut, -1);
      g_string_append_printf (s, "<b>%s</b>%s", name, rest);
    }
  return g_string_free (s, FALSE);
}

static BackwardText
backward_text (const CsBackwardViewState *state, const BackwardLayout *L)
{
  BackwardText text = { NULL };

  if (state->backward == NULL)
    {
      g_autofree char *markup = g_markup_printf_escaped (
        "<b>%s</b>\n%s", _("No backward pass for this example."),
        state->error != NULL ? state->error : "");
      text.equation = wrapped (markup, L->eq_size, L->text_w);
      text.hint = wrapped (_("Change the convolution in the Convolution view so that its output "
                             "is large enough to pool, or choose another loss."),
                           L->type * 0.8, L->text_w);
      return text;
    }

  g_autofree char *equation = cs_backward_view_state_equation_text (state);
  g_autofree char *update = cs_backward_view_state_update_text (state);
  g_autofree char *lines = update != NULL ? g_strdup_printf ("%s\n%s", equation, update)
                                          : g_strdup (equation);
  g_autofree char *markup = bold_names (lines);
  text.equation = wrapped (markup, L->eq_size, L->text_w);

  g_autofree char *why = explanation (state);
  g_autofree char *why_markup = g_markup_escape_text (why, -1);
  text.body = wrapped (why_markup, L->type, L->text_w);

  g_autofree char *loss = cs_backward_view_state_loss_text (state);
  g_autofree char *loss_markup = g_markup_printf_escaped (
    "<span foreground=\"%s\">%s</span>   %s", CS_STYLE_DIM_MARKUP, _("Loss"), loss);
  text.loss = wrapped (loss_markup, L->type, L->text_w);

  CsWorked *w = cs_worked_backward_get_worked (state->backward);
  text.hint = wrapped (is_max (w)
                       ? _("← → one cell of the backward pass, ↑ ↓ one stage, Space plays, a "
                           "click on a cell explains it. Solid outline: the current cell; "
                           "dashed: the cells its sum reads; gold: a max-pool window's winner.")
                       : _("← → one cell of the backward pass, ↑ ↓ one stage, Space plays, a "
                           "click on a cell explains it. Solid outline: the current cell; "
                           "dashed: the cells its sum reads."),
                       L->type * 0.8, L->text_w);
  return text;
}

static double
text_height (const BackwardText *text, double t)
{
  /* room for two lines of equations and of explanation at every step, so
   * the grids stay where they are from step to step */
  return lines_height (text->equation, 2) + 0.3 * t + lines_height (text->body, 2)
         + 0.5 * t + layout_height (text->loss) + 0.4 * t + layout_height (text->hint);
}

/* The width of every slot, and the total, for cells of side c. */
static double
layout_widths (BackwardLayout *L, double c)
{
  double gap = 0.6 * L->type, total = (N_SLOTS - 1) * L->op_w;

  for (int g = 0; g < N_GRIDS; g++)
    L->box_w[g] = MAX (MAX (L->cols[g] * c, L->title_w[g]), L->legend_min);
  for (int s = 0; s < N_SLOTS; s++)
    L->slot_w[s] = 0;
  for (int g = 0; g < N_GRIDS; g++)
    if (g != CS_BACKWARD_GRID_DKERNEL && g != CS_BACKWARD_GRID_UPDATED)
      L->slot_w[slot_of (g)] = MAX (L->slot_w[slot_of (g)], L->box_w[g]);
  /* ∂L/∂k and the updated kernel side by side under k */
  L->slot_w[1] = MAX (L->slot_w[1], L->box_w[CS_BACKWARD_GRID_DKERNEL] + gap
                                    + L->box_w[CS_BACKWARD_GRID_UPDATED]);
  for (int s = 0; s < N_SLOTS; s++)
    total += L->slot_w[s];
  return total;
}

static void
backward_layout (const CsBackwardViewState *state, int width, int height, BackwardLayout *L,
                 BackwardText *text_out)
{
  memset (L, 0, sizeof *L);
  L->margin = round (MAX (10.0, 0.025 * MIN (width, height)));
  L->type = CLAMP (MIN (width / 76.0, height / 46.0), 9.0, 36.0) * cs_style_type ();
  L->eq_size = L->type * 1.1;
  L->title_size = L->type;
  L->text_x = L->margin;
  L->text_w = MAX (1.0, width - 2 * L->margin);

  double t = L->type;
  BackwardText text = backward_text (state, L);

  if (state->backward == NULL)
    {
      L->text_y = L->margin;
      if (text_out != NULL)
        *text_out = text;
      else
        backward_text_clear (&text);
      return;
    }
  L->picture = TRUE;

  CsWorkedBackward *b = state->backward;
  CsWorked *w = cs_worked_backward_get_worked (b);
  const CsSlidingWindow *cg = cs_worked_find_stage (w, CS_WORKED_STAGE_CONV)->window;
  const CsSlidingWindow *pg = cs_worked_find_stage (w, CS_WORKED_STAGE_POOL)->window;

  for (int g = 0; g < N_GRIDS; g++)
    {
      g_autofree char *title = grid_title (b, g);
      double th;
      grid_values (b, g, &L->rows[g], &L->cols[g]);
      cs_grid_text_extents (title, L->title_size, TRUE, &L->title_w[g], &th);
      L->title_h = MAX (L->title_h, th);
    }
  L->pad_rows[CS_BACKWARD_GRID_INPUT] = cg->ph;
  L->pad_cols[CS_BACKWARD_GRID_INPUT] = cg->pw;
  L->pad_rows[CS_BACKWARD_GRID_RELU] = pg->ph;
  L->pad_cols[CS_BACKWARD_GRID_RELU] = pg->pw;
  for (int g = 0; g < N_GRIDS; g++)
    {
      L->rows[g] += 2 * L->pad_rows[g];
      L->cols[g] += 2 * L->pad_cols[g];
      L->band_rows[band_of (g)] = MAX (L->band_rows[band_of (g)], L->rows[g]);
    }

  L->op_w = 2.0 * t;
  L->legend_min = 5.5 * t;
  double legend_bar = 0.8 * t;
  L->legend_h = legend_bar + 2 + MAX (9.0, legend_bar * 0.8) * 1.3;

  /* the cell side: the largest that fits the width and the height */
  double band_fixed = L->title_h + 0.3 * t + 0.3 * t + L->legend_h;
  double fixed_h = 2 * band_fixed + 0.9 * t + 0.7 * t + text_height (&text, t);
  double c_h = (height - 2 * L->margin - fixed_h) / (L->band_rows[0] + L->band_rows[1]);
  double lo = 0, hi = 5.5 * t;
  for (int i = 0; i < 40; i++)
    {
      double mid = (lo + hi) / 2;
      if (layout_widths (L, mid) <= L->text_w)
        lo = mid;
      else
        hi = mid;
    }
  L->cell = floor (MAX (6.0, MIN (lo, MIN (c_h, 5.5 * t))));
  double c = L->cell;

  double total = layout_widths (L, c);
  double content_h = fixed_h + (L->band_rows[0] + L->band_rows[1]) * c;
  double x = L->margin + MAX (0.0, (L->text_w - total) / 2);
  double y = L->margin + MAX (0.0, (height - 2 * L->margin - content_h) / 2);

  L->band_y[0] = y + L->title_h + 0.3 * t;
  L->band_y[1] = L->band_y[0] + L->band_rows[0] * c + 0.3 * t + L->legend_h + 0.9 * t
                 + L->title_h + 0.3 * t;
  for (int s = 0; s < N_SLOTS; s++)
    {
      L->slot_x[s] = x;
      x += L->slot_w[s];
      if (s < N_SLOTS - 1)
        {
          L->op_x[s] = x + L->op_w / 2;
          x += L->op_w;
        }
    }
  for (int g = 0; g < N_GRIDS; g++)
    {
      int s = slot_of (g), band = band_of (g);
      L->box_x[g] = L->slot_x[s] + (L->slot_w[s] - L->box_w[g]) / 2;
      L->grid_y[g] = round (L->band_y[band] + (L->band_rows[band] - L->rows[g]) * c / 2);
    }
  /* ∂L/∂k and k − lr·∂L/∂k share the kernel's slot */
  double pair = L->box_w[CS_BACKWARD_GRID_DKERNEL] + 0.6 * t
                + L->box_w[CS_BACKWARD_GRID_UPDATED];
  L->box_x[CS_BACKWARD_GRID_DKERNEL] = L->slot_x[1] + (L->slot_w[1] - pair) / 2;
  L->box_x[CS_BACKWARD_GRID_UPDATED] = L->box_x[CS_BACKWARD_GRID_DKERNEL]
                                       + L->box_w[CS_BACKWARD_GRID_DKERNEL] + 0.6 * t;
  for (int g = 0; g < N_GRIDS; g++)
    L->grid_x[g] = round (L->box_x[g] + (L->box_w[g] - L->cols[g] * c) / 2);
  L->text_y = L->band_y[1] + L->band_rows[1] * c + 0.3 * t + L->legend_h + 0.7 * t;

  if (text_out != NULL)
    *text_out = text;
  else
    backward_text_clear (&text);
}

/* The grids a lesson can point at */
static const char *const backward_highlights[] = { "dkernel", "update", "dinput", NULL };
static const CsBackwardGrid highlight_grids[] = {
  CS_BACKWARD_GRID_DKERNEL, CS_BACKWARD_GRID_UPDATED, CS_BACKWARD_GRID_DINPUT,
};

static gboolean
layout_cell_rect (const BackwardLayout *L, CsBackwardGrid grid, int row, int col,
                  cairo_rectangle_t *rect)
{
  if (!L->picture || (guint) grid >= N_GRIDS)
    return FALSE;
  row += L->pad_rows[grid];
  col += L->pad_cols[grid];
  if (row < 0 || col < 0 || row >= L->rows[grid] || col >= L->cols[grid])
    return FALSE;
  *rect = (cairo_rectangle_t) {
    L->grid_x[grid] + col * L->cell, L->grid_y[grid] + row * L->cell, L->cell, L->cell,
  };
  return TRUE;
}

gboolean
cs_backward_view_state_cell_rect (const CsBackwardViewState *state, int width, int height,
                                  CsBackwardGrid grid, int row, int col, cairo_rectangle_t *rect)
{
  BackwardLayout L;

  g_return_val_if_fail (state != NULL, FALSE);
  g_return_val_if_fail (rect != NULL, FALSE);
  backward_layout (state, width, height, &L, NULL);
  return layout_cell_rect (&L, grid, row, col, rect);
}

gboolean
cs_backward_view_state_hit (const CsBackwardViewState *state, int width, int height, double x,
                            double y, CsBackwardGrid *grid, int *row, int *col)
{
  BackwardLayout L;

  g_return_val_if_fail (state != NULL, FALSE);
  backward_layout (state, width, height, &L, NULL);
  if (!L.picture)
    return FALSE;
  for (int g = 0; g < N_GRIDS; g++)
    {
      int c = (int) floor ((x - L.grid_x[g]) / L.cell) - L.pad_cols[g];
      int r = (int) floor ((y - L.grid_y[g]) / L.cell) - L.pad_rows[g];
      if (r < 0 || c < 0 || r >= L.rows[g] - 2 * L.pad_rows[g]
          || c >= L.cols[g] - 2 * L.pad_cols[g])
        continue;
      if (grid != NULL)
        *grid = g;
      if (row != NULL)
        *row = r;
      if (col != NULL)
        *col = c;
      return TRUE;
    }
  return FALSE;
}

int
cs_backward_view_state_step_of_cell (const CsBackwardViewState *state, CsBackwardGrid grid,
                                     int row, int col)
{
  static const CsBackwardPhase phases[] = {
    [CS_BACKWARD_GRID_INPUT] = CS_BACKWARD_PHASE_INPUT,
    [CS_BACKWARD_GRID_KERNEL] = CS_BACKWARD_PHASE_KERNEL,
    [CS_BACKWARD_GRID_CONV] = CS_BACKWARD_PHASE_CONV,
    [CS_BACKWARD_GRID_RELU] = CS_BACKWARD_PHASE_CONV,
    [CS_BACKWARD_GRID_POOL] = CS_BACKWARD_PHASE_OUTPUT,
    [CS_BACKWARD_GRID_DINPUT] = CS_BACKWARD_PHASE_INPUT,
    [CS_BACKWARD_GRID_DKERNEL] = CS_BACKWARD_PHASE_KERNEL,
    [CS_BACKWARD_GRID_DCONV] = CS_BACKWARD_PHASE_CONV,
    [CS_BACKWARD_GRID_DRELU] = CS_BACKWARD_PHASE_CONV,
    [CS_BACKWARD_GRID_DPOOL] = CS_BACKWARD_PHASE_OUTPUT,
    [CS_BACKWARD_GRID_UPDATED] = CS_BACKWARD_PHASE_KERNEL,
  };

  g_return_val_if_fail (state != NULL, -1);
  g_return_val_if_fail ((guint) grid < N_GRIDS, -1);
  return cs_backward_view_state_find_step (state, phases[grid], row, col);
}

/* ===========================================================================
 * The drawing
 */

static void
mark (cairo_t *cr, const BackwardLayout *L, CsBackwardGrid grid, int row, int col,
      CsGridMark kind)
{
  cairo_rectangle_t r;

  if (layout_cell_rect (L, grid, row, col, &r))
    cs_grid_draw_mark (cr, &r, kind);
}

/* "×g" in a cell: the gradient its number is multiplied by. */
static void
tag (cairo_t *cr, const BackwardLayout *L, const Scales *S, CsWorkedBackward *b,
     CsBackwardGrid grid, int row, int col, double g, gboolean padding)
{
  cairo_rectangle_t r;

  if (!layout_cell_rect (L, grid, row, col, &r))
    return;
  CsRgb fill = padding
    ? CS_GRID_PADDING
    : cs_palette_color (S->kind[grid], cs_palette_normalize (S->kind[grid],
                                                             grid_value (b, grid, row, col),
                                                             S->limit[grid]));
  g_autofree char *f = cs_worked_text_factor (g);
  g_autofree char *text = g_strdup_printf ("×%s", f);
  cs_grid_draw_tag (cr, &r, text, 1.0, cs_palette_text_on (fill), NULL);
}

/* A pooling window on the ReLU map, its winner in gold, its pooled cell. */
static void
draw_pool_window (cairo_t *cr, const BackwardLayout *L, CsWorked *w, int row, int col)
{
  const CsWorkedPoolCell *p = cs_worked_get_pool_cell (w, row, col);
  cairo_rectangle_t r;

  for (int k = 0; k < p->n_cells; k++)
    mark (cr, L, CS_BACKWARD_GRID_RELU, p->cells[k].row, p->cells[k].col, CS_GRID_MARK_HOVER);
  mark (cr, L, CS_BACKWARD_GRID_POOL, row, col, CS_GRID_MARK_HOVER);
  mark (cr, L, CS_BACKWARD_GRID_DPOOL, row, col, CS_GRID_MARK_HOVER);
  if (p->winner >= 0
      && layout_cell_rect (L, CS_BACKWARD_GRID_RELU, p->cells[p->winner].row,
                           p->cells[p->winner].col, &r))
    {
      cs_grid_draw_mark (cr, &r, CS_GRID_MARK_WINNER);
      cs_grid_draw_tag (cr, &r, "max", 0.5, (CsRgb) { 0, 0, 0 }, &CS_GRID_WINNER);
    }
}

static void
draw_step (cairo_t *cr, const BackwardLayout *L, const Scales *S,
           const CsBackwardViewState *state)
{
  CsWorkedBackward *b = state->backward;
  CsWorked *w = cs_worked_backward_get_worked (b);
  CsBackwardPhase phase;
  int row, col;

  if (!cs_backward_view_state_locate (state, state->step, &phase, &row, &col))
    return;
  switch (phase)
    {
    case CS_BACKWARD_PHASE_OUTPUT:
      mark (cr, L, CS_BACKWARD_GRID_POOL, row, col, CS_GRID_MARK_WINDOW);
      mark (cr, L, CS_BACKWARD_GRID_DPOOL, row, col, CS_GRID_MARK_WINDOW);
      break;

    case CS_BACKWARD_PHASE_CONV:
      {
        const CsWorkedRouteCell *route = route_cell (b, row, col);
        for (int t = 0; t < route->n_terms; t++)
          draw_pool_window (cr, L, w, route->terms[t].row, route->terms[t].col);
        mark (cr, L, CS_BACKWARD_GRID_CONV, row, col, CS_GRID_MARK_WINDOW);
        mark (cr, L, CS_BACKWARD_GRID_RELU, row, col, CS_GRID_MARK_WINDOW);
        mark (cr, L, CS_BACKWARD_GRID_DRELU, row, col, CS_GRID_MARK_WINDOW);
        mark (cr, L, CS_BACKWARD_GRID_DCONV, row, col, CS_GRID_MARK_WINDOW);
        break;
      }

    case CS_BACKWARD_PHASE_KERNEL:
    case CS_BACKWARD_PHASE_BIAS:
      {
        const CsWorkedGradCell *cell = param_cell (b, phase, row, col);
        for (int t = 0; t < cell->n_terms; t++)
          {
            const CsWorkedGradTerm *term = &cell->terms[t];
            mark (cr, L, CS_BACKWARD_GRID_DCONV, term->row, term->col, CS_GRID_MARK_HOVER);
            if (phase == CS_BACKWARD_PHASE_KERNEL)
              {
                mark (cr, L, CS_BACKWARD_GRID_INPUT, term->in_row, term->in_col,
                      CS_GRID_MARK_HOVER);
                tag (cr, L, S, b, CS_BACKWARD_GRID_INPUT, term->in_row, term->in_col,
                     term->grad, term->padding);
              }
          }
        if (phase == CS_BACKWARD_PHASE_KERNEL)
          {
            mark (cr, L, CS_BACKWARD_GRID_KERNEL, row, col, CS_GRID_MARK_WINDOW);
            mark (cr, L, CS_BACKWARD_GRID_DKERNEL, row, col, CS_GRID_MARK_WINDOW);
            mark (cr, L, CS_BACKWARD_GRID_UPDATED, row, col, CS_GRID_MARK_WINDOW);
          }
        break;
      }

    case CS_BACKWARD_PHASE_INPUT:
      {
        const CsWorkedGradCell *cell = param_cell (b, phase, row, col);
        for (int t = 0; t < cell->n_terms; t++)
          {
            const CsWorkedGradTerm *term = &cell->terms[t];
            mark (cr, L, CS_BACKWARD_GRID_DCONV, term->row, term->col, CS_GRID_MARK_HOVER);
            mark (cr, L, CS_BACKWARD_GRID_KERNEL, term->ki, term->kj, CS_GRID_MARK_HOVER);
            tag (cr, L, S, b, CS_BACKWARD_GRID_KERNEL, term->ki, term->kj, term->grad, FALSE);
          }
        mark (cr, L, CS_BACKWARD_GRID_INPUT, row, col, CS_GRID_MARK_WINDOW);
        mark (cr, L, CS_BACKWARD_GRID_DINPUT, row, col, CS_GRID_MARK_WINDOW);
        break;
      }

    default:
      g_assert_not_reached ();
    }
}

void
cs_backward_view_state_draw (const CsBackwardViewState *state, cairo_t *cr, int width,
                             int height)
{
  BackwardLayout L;
  BackwardText text;

  g_return_if_fail (state != NULL);
  g_return_if_fail (cr != NULL);

  backward_layout (state, width, height, &L, &text);
  cairo_save (cr);
  cs_palette_set_source (cr, CS_GRID_BACKGROUND);
  cairo_rectangle (cr, 0, 0, width, height);
  cairo_fill (cr);

  if (L.picture)
    {
      CsWorkedBackward *b = state->backward;
      CsWorked *w = cs_worked_backward_get_worked (b);
      const char *ring = is_max (w) ? "−∞" : "0";
      Scales S;
      cairo_rectangle_t r;

      scales_of (b, &S);
      for (int g = 0; g < N_GRIDS; g++)
        {
          g_autofree char *title = grid_title (b, g);
          double cx = L.box_x[g] + L.box_w[g] / 2;
          int pr = L.pad_rows[g], pc = L.pad_cols[g];

          cs_grid_draw_text (cr, title, L.title_size, TRUE, cx, L.grid_y[g] - 0.3 * L.type,
                             0.5, 1.0, CS_GRID_INK);
          for (int row = -pr; row < L.rows[g] - pr; row++)
            for (int col = -pc; col < L.cols[g] - pc; col++)
              {
                layout_cell_rect (&L, g, row, col, &r);
                if (row < 0 || col < 0 || row >= L.rows[g] - 2 * pr || col >= L.cols[g] - 2 * pc)
                  cs_grid_draw_padding (cr, &r, g == CS_BACKWARD_GRID_RELU ? ring : "0");
                else
                  cs_grid_draw_value (cr, &r, S.kind[g], S.limit[g],
                                      shown (grid_value (b, g, row, col)));
              }
          double lw = MIN (L.box_w[g], MAX (L.cols[g] * L.cell, L.legend_min));
          cs_palette_draw_legend (cr, S.kind[g], S.limit[g], NULL, cx - lw / 2,
                                  L.grid_y[g] + L.rows[g] * L.cell + 0.3 * L.type, lw,
                                  0.8 * L.type);
        }
      /* forward above, left to right; backward below, right to left */
      for (int s = 0; s < N_SLOTS - 1; s++)
        for (int band = 0; band < 2; band++)
          cs_grid_draw_text (cr, band == 0 ? "→" : "←", L.type * 1.6, FALSE, L.op_x[s],
                             L.band_y[band] + L.band_rows[band] * L.cell / 2, 0.5, 0.5,
                             band == 0 ? CS_GRID_INK_DIM : CS_GRID_INK);
      draw_step (cr, &L, &S, state);
      for (guint i = 0; i < G_N_ELEMENTS (highlight_grids) && state->highlight != NULL; i++)
        {
          CsBackwardGrid g = highlight_grids[i];
          if (g_str_equal (state->highlight, backward_highlights[i]) && L.rows[g] > 0)
            cs_view_draw_highlight (cr, L.grid_x[g], L.grid_y[g], L.cols[g] * L.cell,
                                    L.rows[g] * L.cell, L.type);
        }
    }

  double y = L.text_y;
  cs_grid_draw_layout (cr, text.equation, L.text_x, y, CS_GRID_INK);
  if (L.picture)
    {
      y += lines_height (text.equation, 2) + 0.3 * L.type;
      cs_grid_draw_layout (cr, text.body, L.text_x, y, CS_GRID_INK);
      y += lines_height (text.body, 2) + 0.5 * L.type;
      cs_grid_draw_layout (cr, text.loss, L.text_x, y, CS_GRID_INK);
      y += layout_height (text.loss) + 0.4 * L.type;
    }
  else
    y += layout_height (text.equation) + 0.5 * L.type;
  cs_grid_draw_layout (cr, text.hint, L.text_x, y, CS_GRID_INK_DIM);
  backward_text_clear (&text);
  cairo_restore (cr);
}

/* ===========================================================================
 * The widget
 */

struct _CsBackwardView
{
  GtkWidget parent_instance;

  CsWorkedSpec *spec;   /* 32 KiB: on the heap, an instance stays under 64 KiB */
  CsWorkedLoss loss;
  double lr;
  CsWorked *worked;
  CsWorkedBackward *backward;
  char *error;
  CsStepper *stepper;   /* the current step: a 1 × n grid */

  GtkWidget *box;
  GtkWidget *canvas;
  GtkWidget *loss_drop, *cell_label, *cell_spin, *target_label, *target_spin;
  GtkWidget *max_button, *avg_button;
  GtkWidget *lr_spin;
  gboolean syncing;
};

enum
{
  PROP_0,
  PROP_STEP,
  PROP_PLAYING,
  PROP_AVERAGE,
  PROP_LR,
  N_PROPS,
};

static GParamSpec *properties[N_PROPS];

static void cs_backward_view_iface_init (CsViewInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (CsBackwardView, cs_backward_view, GTK_TYPE_WIDGET,
                               G_IMPLEMENT_INTERFACE (CS_TYPE_VIEW, cs_backward_view_iface_init))

void
cs_backward_view_get_state (CsBackwardView *self, CsBackwardViewState *state)
{
  g_return_if_fail (CS_IS_BACKWARD_VIEW (self));
  g_return_if_fail (state != NULL);

  *state = (CsBackwardViewState) {
    .backward = self->backward,
    .error = self->error,
    .highlight = cs_view_get_highlight (CS_VIEW (self)),
  };
  cs_stepper_get_current (self->stepper, NULL, &state->step);
}

static void
cs_backward_view_draw (CsView *view, cairo_t *cr, int width, int height)
{
  CsBackwardViewState state;

  cs_backward_view_get_state (CS_BACKWARD_VIEW (view), &state);
  cs_backward_view_state_draw (&state, cr, width, height);
}

static void
cs_backward_view_iface_init (CsViewInterface *iface)
{
  iface->draw = cs_backward_view_draw;
  iface->highlights = backward_highlights;
}

static void
canvas_draw (GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer data)
{
  cs_backward_view_draw (CS_VIEW (data), cr, width, height);
}

static void
changed (CsBackwardView *self)
{
  CsBackwardViewState state;

  cs_backward_view_get_state (self, &state);
  g_autofree char *line = cs_backward_view_state_describe (&state);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->canvas),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, line,
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                  _("The backward pass of the worked example: the forward values "
                                    "above, their gradients below, with the sum of the current "
                                    "cell written out"),
                                  -1);
  gtk_widget_queue_draw (self->canvas);
}

static void
stepper_notify (CsStepper *stepper, GParamSpec *pspec, CsBackwardView *self)
{
  if (g_str_equal (pspec->name, "col"))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STEP]);
  else if (g_str_equal (pspec->name, "playing"))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PLAYING]);
}

static int
n_outputs (CsBackwardView *self)
{
  const CsWorkedStage *pool = self->worked != NULL
    ? cs_worked_find_stage (self->worked, CS_WORKED_STAGE_POOL) : NULL;
  return pool != NULL ? pool->rows * pool->cols : 0;
}

/* The loss's controls from the loss; the cell's range from the output. */
static void
sync_loss_controls (CsBackwardView *self)
{
  int n = n_outputs (self);

  self->syncing = TRUE;
  gtk_drop_down_set_selected (GTK_DROP_DOWN (self->loss_drop), self->loss.kind);
  gtk_spin_button_set_range (GTK_SPIN_BUTTON (self->cell_spin), 0, MAX (n - 1, 0));
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->cell_spin), self->loss.cell);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->target_spin), self->loss.target);
  gtk_widget_set_visible (self->cell_label, self->loss.kind == CS_WORKED_LOSS_CELL);
  gtk_widget_set_visible (self->cell_spin, self->loss.kind == CS_WORKED_LOSS_CELL);
  gtk_widget_set_visible (self->target_label, self->loss.kind == CS_WORKED_LOSS_MSE);
  gtk_widget_set_visible (self->target_spin, self->loss.kind == CS_WORKED_LOSS_MSE);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->lr_spin), self->lr);
  self->syncing = FALSE;
}

/* The engine's backward pass for the current example, loss and rate. */
static void
run_backward (CsBackwardView *self)
{
  g_autoptr(GError) error = NULL;

  g_clear_pointer (&self->backward, cs_worked_backward_free);
  if (self->worked == NULL)
    return;
  int n = n_outputs (self);
  self->loss.cell = CLAMP (self->loss.cell, 0, MAX (n - 1, 0));
  self->backward = cs_worked_backward_new (self->worked, &self->loss, self->lr, &error);
  if (self->backward == NULL)
    {
      g_clear_pointer (&self->error, g_free);
      self->error = g_strdup (error->message);
    }
}

static void
refresh (CsBackwardView *self)
{
  CsBackwardViewState state;

  cs_backward_view_get_state (self, &state);
  int n = cs_backward_view_state_n_steps (&state);
  cs_stepper_set_size (self->stepper, n > 0 ? 1 : 0, n);
  sync_loss_controls (self);
  changed (self);
}

static void
rebuild (CsBackwardView *self)
{
  g_autoptr(GError) error = NULL;

  g_clear_pointer (&self->backward, cs_worked_backward_free);
  g_clear_pointer (&self->worked, cs_worked_free);
  g_clear_pointer (&self->error, g_free);
  self->worked = cs_worked_new (self->spec, &error);
  if (self->worked == NULL)
    self->error = g_strdup (error->message);
  run_backward (self);
  refresh (self);
}

static void
loss_changed (CsBackwardView *self)
{
  run_backward (self);
  refresh (self);
}

/* ---------------------------------------------------------------------------
 * Controls, keys and pointer
 */

static void
loss_selected (GObject *drop, GParamSpec *pspec, CsBackwardView *self)
{
  if (self->syncing)
    return;
  self->loss.kind = gtk_drop_down_get_selected (GTK_DROP_DOWN (drop));
  loss_changed (self);
}

static void
spin_changed (GtkSpinButton *spin, CsBackwardView *self)
{
  if (self->syncing)
    return;
  if (GTK_WIDGET (spin) == self->cell_spin)
    self->loss.cell = gtk_spin_button_get_value_as_int (spin);
  else if (GTK_WIDGET (spin) == self->target_spin)
    self->loss.target = (float) gtk_spin_button_get_value (spin);
  else
    {
      cs_backward_view_set_lr (self, gtk_spin_button_get_value (spin));
      return;
    }
  loss_changed (self);
}

static void
kind_toggled (GtkToggleButton *button, CsBackwardView *self)
{
  if (self->syncing || !gtk_toggle_button_get_active (button))
    return;
  cs_backward_view_set_pool (self, GTK_WIDGET (button) == self->avg_button ? CS_WORKED_POOL_AVG
                                                                            : CS_WORKED_POOL_MAX);
}

static gboolean
key_pressed (GtkEventControllerKey *controller, guint keyval, guint keycode,
             GdkModifierType modifiers, CsBackwardView *self)
{
  CsBackwardViewState state;

  if (!(modifiers & (GDK_CONTROL_MASK | GDK_ALT_MASK)) && self->backward != NULL
      && (keyval == GDK_KEY_Up || keyval == GDK_KEY_KP_Up || keyval == GDK_KEY_Down
          || keyval == GDK_KEY_KP_Down))
    {
      cs_backward_view_get_state (self, &state);
      gboolean down = keyval == GDK_KEY_Down || keyval == GDK_KEY_KP_Down;
      cs_backward_view_set_step (self, cs_backward_view_state_phase_step (&state, down ? 1 : -1));
      return TRUE;
    }
  return cs_stepper_handle_key (self->stepper, keyval, modifiers);
}

static int
step_at (CsBackwardView *self, double x, double y)
{
  CsBackwardViewState state;
  CsBackwardGrid grid;
  int row, col;

  cs_backward_view_get_state (self, &state);
  if (!cs_backward_view_state_hit (&state, gtk_widget_get_width (self->canvas),
                                   gtk_widget_get_height (self->canvas), x, y, &grid, &row, &col))
    return -1;
  return cs_backward_view_state_step_of_cell (&state, grid, row, col);
}

static void
motion (GtkEventControllerMotion *controller, double x, double y, CsBackwardView *self)
{
  if (step_at (self, x, y) >= 0)
    gtk_widget_set_cursor_from_name (self->canvas, "pointer");
  else
    gtk_widget_set_cursor (self->canvas, NULL);
}

static void
pressed (GtkGestureClick *gesture, int n_press, double x, double y, CsBackwardView *self)
{
  int step;

  gtk_widget_grab_focus (self->canvas);
  step = step_at (self, x, y);
  if (step >= 0)
    cs_backward_view_set_step (self, step);
}

static GtkWidget *
labelled_spin (GtkWidget *bar, const char *mnemonic, double min, double max, double step_by,
               int digits, const char *tooltip, GtkWidget **label_out)
{
  GtkWidget *label = gtk_label_new_with_mnemonic (mnemonic);
  GtkWidget *spin = gtk_spin_button_new_with_range (min, max, step_by);

  gtk_spin_button_set_digits (GTK_SPIN_BUTTON (spin), digits);
  gtk_spin_button_set_numeric (GTK_SPIN_BUTTON (spin), TRUE);
  gtk_label_set_mnemonic_widget (GTK_LABEL (label), spin);
  gtk_widget_set_tooltip_text (spin, tooltip);
  gtk_accessible_update_property (GTK_ACCESSIBLE (spin), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                  tooltip, -1);
  gtk_widget_set_margin_start (label, 6);
  gtk_box_append (GTK_BOX (bar), label);
  gtk_box_append (GTK_BOX (bar), spin);
  if (label_out != NULL)
    *label_out = label;
  return spin;
}

static void
build_controls (CsBackwardView *self)
{
  GtkWidget *bar = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *label, *kinds;
  const char *const losses[] = {
    /* TRANSLATORS: the losses of the Backward view's drop-down */
    N_("L = Σ y"), N_("L = one output y[i]"), N_("L = MSE to a target t"), NULL,
  };
  const char *translated[G_N_ELEMENTS (losses)];

  gtk_widget_add_css_class (bar, "toolbar");
  gtk_accessible_update_property (GTK_ACCESSIBLE (bar), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Backward pass controls"), -1);
  cs_stepper_append_buttons (self->stepper, GTK_BOX (bar));

  label = gtk_label_new_with_mnemonic (_("_Loss"));
  gtk_widget_set_margin_start (label, 12);
  gtk_box_append (GTK_BOX (bar), label);
  for (guint i = 0; i < G_N_ELEMENTS (losses); i++)
    translated[i] = losses[i] != NULL ? _(losses[i]) : NULL;
  self->loss_drop = gtk_drop_down_new_from_strings (translated);
  gtk_label_set_mnemonic_widget (GTK_LABEL (label), self->loss_drop);
  gtk_widget_set_tooltip_text (self->loss_drop, _("The loss whose gradient flows back"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->loss_drop),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Loss"),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                  _("The loss whose gradient flows back"), -1);
  gtk_box_append (GTK_BOX (bar), self->loss_drop);
  self->cell_spin = labelled_spin (bar, _("_i"), 0, 0, 1, 0,
                                   _("The output the loss is: L = y[i]"), &self->cell_label);
  self->target_spin = labelled_spin (bar, _("_Target t"), -1000, 1000, 1, 2,
                                     _("The target every output is pulled towards"),
                                     &self->target_label);

  label = gtk_label_new (_("Pooling"));
  gtk_widget_set_margin_start (label, 12);
  gtk_box_append (GTK_BOX (bar), label);
  kinds = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);
  gtk_widget_add_css_class (kinds, "linked");
  self->max_button = gtk_toggle_button_new_with_label (_("Max"));
  self->avg_button = gtk_toggle_button_new_with_label (_("Average"));
  gtk_toggle_button_set_group (GTK_TOGGLE_BUTTON (self->avg_button),
                               GTK_TOGGLE_BUTTON (self->max_button));
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (self->max_button), TRUE);
  gtk_widget_set_tooltip_text (self->max_button,
                               _("Max pooling: only the winner of each window gets gradient"));
  gtk_widget_set_tooltip_text (self->avg_button,
                               _("Average pooling: every cell of a window gets a share"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->max_button),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                  _("Max pooling: only the winner of each window gets gradient"),
                                  -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->avg_button),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                  _("Average pooling: every cell of a window gets a share"), -1);
  gtk_accessible_update_relation (GTK_ACCESSIBLE (kinds), GTK_ACCESSIBLE_RELATION_LABELLED_BY,
                                  label, NULL, -1);
  gtk_box_append (GTK_BOX (kinds), self->max_button);
  gtk_box_append (GTK_BOX (kinds), self->avg_button);
  gtk_box_append (GTK_BOX (bar), kinds);

  self->lr_spin = labelled_spin (bar, _("Learning _rate"), 0.001, 10, 0.01, 3,
                                 _("lr in the update k ← k − lr·∂L/∂k"), NULL);

  gtk_box_append (GTK_BOX (self->box), bar);

  g_signal_connect (self->loss_drop, "notify::selected", G_CALLBACK (loss_selected), self);
  g_signal_connect (self->cell_spin, "value-changed", G_CALLBACK (spin_changed), self);
  g_signal_connect (self->target_spin, "value-changed", G_CALLBACK (spin_changed), self);
  g_signal_connect (self->lr_spin, "value-changed", G_CALLBACK (spin_changed), self);
  g_signal_connect (self->max_button, "toggled", G_CALLBACK (kind_toggled), self);
  g_signal_connect (self->avg_button, "toggled", G_CALLBACK (kind_toggled), self);
}

static void
cs_backward_view_unmap (GtkWidget *widget)
{
  cs_backward_view_set_playing (CS_BACKWARD_VIEW (widget), FALSE);
  GTK_WIDGET_CLASS (cs_backward_view_parent_class)->unmap (widget);
}

static void
cs_backward_view_dispose (GObject *object)
{
  CsBackwardView *self = CS_BACKWARD_VIEW (object);

  /* the stepper first: its timer and buttons go with it */
  if (self->stepper != NULL)
    g_signal_handlers_disconnect_by_data (self->stepper, self);
  g_clear_object (&self->stepper);
  g_clear_pointer (&self->box, gtk_widget_unparent);
  G_OBJECT_CLASS (cs_backward_view_parent_class)->dispose (object);
}

static void
cs_backward_view_finalize (GObject *object)
{
  CsBackwardView *self = CS_BACKWARD_VIEW (object);

  g_clear_pointer (&self->backward, cs_worked_backward_free);
  g_clear_pointer (&self->worked, cs_worked_free);
  g_clear_pointer (&self->error, g_free);
  g_clear_pointer (&self->spec, g_free);
  G_OBJECT_CLASS (cs_backward_view_parent_class)->finalize (object);
}

static void
cs_backward_view_get_property (GObject *object, guint prop_id, GValue *value,
                               GParamSpec *pspec)
{
  CsBackwardView *self = CS_BACKWARD_VIEW (object);

  switch (prop_id)
    {
    case PROP_STEP:
      g_value_set_int (value, cs_backward_view_get_step (self));
      break;
    case PROP_PLAYING:
      g_value_set_boolean (value, cs_backward_view_get_playing (self));
      break;
    case PROP_AVERAGE:
      g_value_set_boolean (value, self->spec->pool == CS_WORKED_POOL_AVG);
      break;
    case PROP_LR:
      g_value_set_double (value, self->lr);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cs_backward_view_set_property (GObject *object, guint prop_id, const GValue *value,
                               GParamSpec *pspec)
{
  CsBackwardView *self = CS_BACKWARD_VIEW (object);

  switch (prop_id)
    {
    case PROP_STEP:
      cs_backward_view_set_step (self, g_value_get_int (value));
      break;
    case PROP_PLAYING:
      cs_backward_view_set_playing (self, g_value_get_boolean (value));
      break;
    case PROP_AVERAGE:
      cs_backward_view_set_pool (self, g_value_get_boolean (value) ? CS_WORKED_POOL_AVG
                                                                   : CS_WORKED_POOL_MAX);
      break;
    case PROP_LR:
      cs_backward_view_set_lr (self, g_value_get_double (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cs_backward_view_class_init (CsBackwardViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = cs_backward_view_dispose;
  object_class->finalize = cs_backward_view_finalize;
  object_class->get_property = cs_backward_view_get_property;
  object_class->set_property = cs_backward_view_set_property;
  widget_class->unmap = cs_backward_view_unmap;

  properties[PROP_STEP] = g_param_spec_int ("step", NULL, NULL, 0, G_MAXINT, 0,
                                            G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY
                                            | G_PARAM_STATIC_STRINGS);
  properties[PROP_PLAYING] = g_param_spec_boolean ("playing", NULL, NULL, FALSE,
                                                   G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY
                                                   | G_PARAM_STATIC_STRINGS);
  properties[PROP_AVERAGE] = g_param_spec_boolean ("average", NULL, NULL, FALSE,
                                                   G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY
                                                   | G_PARAM_STATIC_STRINGS);
  properties[PROP_LR] = g_param_spec_double ("lr", NULL, NULL, 1e-6, CS_WORKED_MAX_LR, 0.1,
                                             G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY
                                             | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "backwardview");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
cs_backward_view_init (CsBackwardView *self)
{
  GtkEventController *key, *motion_controller;
  GtkGesture *click;

  self->spec = g_new (CsWorkedSpec, 1);
  cs_worked_spec_init_default (self->spec);
  self->loss = (CsWorkedLoss) { .kind = CS_WORKED_LOSS_SUM, .cell = 0, .target = 20.0f };
  self->lr = 0.1;

  self->stepper = cs_stepper_new (PLAY_INTERVAL_MS, &(CsStepperText) {
    .prev_name = _("Previous step"), .prev_tooltip = _("Previous step of the backward pass (←)"),
    .next_name = _("Next step"), .next_tooltip = _("Next step of the backward pass (→)"),
    .play_name = _("Play: step through the backward pass"),
    .play_tooltip = _("Step through the backward pass"),
  });
  g_signal_connect (self->stepper, "notify", G_CALLBACK (stepper_notify), self);
  g_signal_connect_swapped (self->stepper, "moved", G_CALLBACK (changed), self);

  self->box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_widget_set_parent (self->box, GTK_WIDGET (self));
  build_controls (self);

  self->canvas = gtk_drawing_area_new ();
  gtk_widget_set_hexpand (self->canvas, TRUE);
  gtk_widget_set_vexpand (self->canvas, TRUE);
  gtk_widget_set_focusable (self->canvas, TRUE);
  gtk_drawing_area_set_content_width (GTK_DRAWING_AREA (self->canvas), 640);
  gtk_drawing_area_set_content_height (GTK_DRAWING_AREA (self->canvas), 460);
  gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (self->canvas), canvas_draw, self, NULL);
  gtk_box_append (GTK_BOX (self->box), self->canvas);

  key = gtk_event_controller_key_new ();
  g_signal_connect (key, "key-pressed", G_CALLBACK (key_pressed), self);
  gtk_widget_add_controller (self->canvas, key);
  motion_controller = gtk_event_controller_motion_new ();
  g_signal_connect (motion_controller, "motion", G_CALLBACK (motion), self);
  gtk_widget_add_controller (self->canvas, motion_controller);
  click = gtk_gesture_click_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (click), GDK_BUTTON_PRIMARY);
  g_signal_connect (click, "pressed", G_CALLBACK (pressed), self);
  gtk_widget_add_controller (self->canvas, GTK_EVENT_CONTROLLER (click));

  rebuild (self);
}

GtkWidget *
cs_backward_view_new (void)
{
  return g_object_new (CS_TYPE_BACKWARD_VIEW, NULL);
}

void
cs_backward_view_set_spec (CsBackwardView *self, const CsWorkedSpec *spec)
{
  g_return_if_fail (CS_IS_BACKWARD_VIEW (self));
  g_return_if_fail (spec != NULL);

  CsWorkedPool kind = self->spec->pool;
  CsWorkedSpec next = *spec;
  if (spec->pool == CS_WORKED_POOL_NONE)
    {
      CsWorkedSpec defaults;
      cs_worked_spec_init_default (&defaults);
      memcpy (next.pool_kernel, defaults.pool_kernel, sizeof next.pool_kernel);
      memcpy (next.pool_stride, defaults.pool_stride, sizeof next.pool_stride);
      memcpy (next.pool_padding, defaults.pool_padding, sizeof next.pool_padding);
    }
  next.relu = TRUE;
  next.pool = kind;
  next.flatten = TRUE;
  if (memcmp (&next, self->spec, sizeof next) == 0)
    return;
  *self->spec = next;
  rebuild (self);
}

const CsWorkedSpec *
cs_backward_view_get_spec (CsBackwardView *self)
{
  g_return_val_if_fail (CS_IS_BACKWARD_VIEW (self), NULL);
  return self->spec;
}

CsWorkedBackward *
cs_backward_view_get_backward (CsBackwardView *self)
{
  g_return_val_if_fail (CS_IS_BACKWARD_VIEW (self), NULL);
  return self->backward;
}

void
cs_backward_view_set_pool (CsBackwardView *self, CsWorkedPool pool)
{
  g_return_if_fail (CS_IS_BACKWARD_VIEW (self));
  g_return_if_fail (pool == CS_WORKED_POOL_MAX || pool == CS_WORKED_POOL_AVG);

  if (pool == self->spec->pool)
    return;
  self->spec->pool = pool;
  self->syncing = TRUE;
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (pool == CS_WORKED_POOL_AVG
                                                   ? self->avg_button : self->max_button),
                                TRUE);
  self->syncing = FALSE;
  rebuild (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_AVERAGE]);
}

CsWorkedPool
cs_backward_view_get_pool (CsBackwardView *self)
{
  g_return_val_if_fail (CS_IS_BACKWARD_VIEW (self), CS_WORKED_POOL_MAX);
  return self->spec->pool;
}

void
cs_backward_view_set_loss (CsBackwardView *self, const CsWorkedLoss *loss)
{
  g_return_if_fail (CS_IS_BACKWARD_VIEW (self));
  g_return_if_fail (loss != NULL);
  g_return_if_fail (loss->kind <= CS_WORKED_LOSS_MSE);

  if (memcmp (loss, &self->loss, sizeof *loss) == 0)
    return;
  self->loss = *loss;
  loss_changed (self);
}

const CsWorkedLoss *
cs_backward_view_get_loss (CsBackwardView *self)
{
  g_return_val_if_fail (CS_IS_BACKWARD_VIEW (self), NULL);
  return &self->loss;
}

void
cs_backward_view_set_lr (CsBackwardView *self, double lr)
{
  g_return_if_fail (CS_IS_BACKWARD_VIEW (self));
  g_return_if_fail (lr > 0 && lr <= CS_WORKED_MAX_LR);

  if (lr == self->lr)
    return;
  self->lr = lr;
  loss_changed (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LR]);
}

double
cs_backward_view_get_lr (CsBackwardView *self)
{
  g_return_val_if_fail (CS_IS_BACKWARD_VIEW (self), 0.0);
  return self->lr;
}

void
cs_backward_view_set_step (CsBackwardView *self, int step)
{
  g_return_if_fail (CS_IS_BACKWARD_VIEW (self));
  cs_stepper_move_to (self->stepper, 0, step);
}

int
cs_backward_view_get_step (CsBackwardView *self)
{
  int step;

  g_return_val_if_fail (CS_IS_BACKWARD_VIEW (self), 0);
  cs_stepper_get_current (self->stepper, NULL, &step);
  return step;
}

void
cs_backward_view_set_playing (CsBackwardView *self, gboolean playing)
{
  g_return_if_fail (CS_IS_BACKWARD_VIEW (self));
  cs_stepper_set_playing (self->stepper, playing);
}

gboolean
cs_backward_view_get_playing (CsBackwardView *self)
{
  g_return_val_if_fail (CS_IS_BACKWARD_VIEW (self), FALSE);
  return cs_stepper_get_playing (self->stepper);
}
