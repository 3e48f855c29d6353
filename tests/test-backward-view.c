/* test-backward-view.c — the Backward view's numbers and picture
 *
 * The view draws and writes the engine's gradients: for DESIGN.md's example
 * and for other geometries (padding with a bias and average pooling, stride
 * 2 with negative numbers), every gradient cell is coloured by the number
 * the model holds, every written-out sum ends in that number, every kernel
 * update is k − lr·∂L/∂k, and a ReLU cell that wins no max-pool window gets
 * exactly 0. The steps walk every cell of every stage in order; the current
 * cell is outlined, the cells its sum reads are dashed, the winner is gold,
 * and the picture changes from step to step.
 */
#include "app/views/cs-backward-view.h"
#include "app/views/cs-grid.h"
#include "app/views/cs-worked-text.h"
#include "view-pixels.h"

#include <glib/gstdio.h>
#include <string.h>

#define WIDTH 1280
#define HEIGHT 720

typedef struct
{
  CsWorkedSpec spec;
  CsWorked *worked;
  CsWorkedBackward *backward;
  GError *error;
  CsBackwardViewState state;
  cairo_surface_t *surface;
  int width, height;
} Fixture;

static void
fixture_draw (Fixture *f)
{
  cairo_t *cr = cairo_create (f->surface);
  cs_backward_view_state_draw (&f->state, cr, f->width, f->height);
  g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);
  cairo_destroy (cr);
  cairo_surface_flush (f->surface);
}

static void
fixture_run (Fixture *f, const CsWorkedLoss *loss, double lr, int step)
{
  g_clear_pointer (&f->backward, cs_worked_backward_free);
  g_clear_pointer (&f->worked, cs_worked_free);
  g_clear_error (&f->error);
  f->worked = cs_worked_new (&f->spec, &f->error);
  if (f->worked != NULL)
    f->backward = cs_worked_backward_new (f->worked, loss, lr, &f->error);
  f->state = (CsBackwardViewState) {
    .backward = f->backward,
    .error = f->error != NULL ? f->error->message : NULL,
    .step = step,
  };
  fixture_draw (f);
}

static void
fixture_run_sum (Fixture *f, int step)
{
  CsWorkedLoss loss = { CS_WORKED_LOSS_SUM, 0, 0 };
  fixture_run (f, &loss, 0.1, step);
  g_assert_no_error (f->error);
}

static void
fixture_step (Fixture *f, int step)
{
  f->state.step = step;
  fixture_draw (f);
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  memset (f, 0, sizeof *f);
  cs_worked_spec_init_default (&f->spec);  /* ReLU, MaxPool2d(2, 2, 1), flatten */
  f->width = WIDTH;
  f->height = HEIGHT;
  f->surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, WIDTH, HEIGHT);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_clear_pointer (&f->backward, cs_worked_backward_free);
  g_clear_pointer (&f->worked, cs_worked_free);
  g_clear_error (&f->error);
  g_clear_pointer (&f->surface, cairo_surface_destroy);
}

static cairo_rectangle_t
cell_rect (Fixture *f, CsBackwardGrid grid, int row, int col)
{
  cairo_rectangle_t r;

  if (!cs_backward_view_state_cell_rect (&f->state, f->width, f->height, grid, row, col, &r))
    g_error ("no cell %d [%d,%d] in the picture", grid, row, col);
  return r;
}

static CsRgb
diverging (double value, double limit)
{
  return cs_palette_color (CS_PALETTE_DIVERGING,
                           cs_palette_normalize (CS_PALETTE_DIVERGING, value, limit));
}

static void
assert_cell_fill (Fixture *f, CsBackwardGrid grid, int row, int col, CsRgb c)
{
  cairo_rectangle_t r = cell_rect (f, grid, row, col);
  double x0, y0, x1, y1;
  g_autofree char *what = g_strdup_printf ("grid %d cell [%d,%d]", grid, row, col);

  view_cell_band (&r, &x0, &y0, &x1, &y1);
  view_assert_area (f->surface, x0, y0, x1, y1, c, what);
}

/* How much of the line a mark draws along a cell's top edge is the mark's
 * ink: ~1 for the current cell's solid outline, about 0.6 for the dashed
 * outline of a cell in the sum, 0 for a cell with neither. */
static double
mark_fraction (Fixture *f, CsBackwardGrid grid, int row, int col)
{
  cairo_rectangle_t r = cell_rect (f, grid, row, col);
  double w = cs_grid_mark_width (r.width);
  int y = (int) (r.y + 0.3 * w), n = 0, dark = 0;

  for (int x = (int) ceil (r.x + w); x < (int) floor (r.x + r.width - w); x++, n++)
    dark += view_pixel_is (view_pixel (f->surface, x, y), CS_GRID_WINDOW, 10);
  return (double) dark / n;
}

static gboolean
is_current (Fixture *f, CsBackwardGrid grid, int row, int col)
{
  return mark_fraction (f, grid, row, col) > 0.9;
}

static gboolean
is_dashed (Fixture *f, CsBackwardGrid grid, int row, int col)
{
  double m = mark_fraction (f, grid, row, col);
  return m > 0.3 && m < 0.85;
}

static gboolean
is_plain (Fixture *f, CsBackwardGrid grid, int row, int col)
{
  return mark_fraction (f, grid, row, col) < 0.05;
}

/* The gold of the winner mark, half-way down its band inside the left edge. */
static gboolean
has_winner (Fixture *f, int row, int col)
{
  cairo_rectangle_t r = cell_rect (f, CS_BACKWARD_GRID_RELU, row, col);
  double w = cs_grid_mark_width (r.width);

  return view_pixel_is (view_pixel (f->surface, (int) (r.x + 2.25 * w), (int) (r.y + r.height / 2)),
                        CS_GRID_WINNER, 2);
}

/* ---------------------------------------------------------------------------
 * The steps
 */

static void
test_steps (Fixture *f, gconstpointer data)
{
  const struct { int step; CsBackwardPhase phase; int row, col; } where[] = {
    { 0, CS_BACKWARD_PHASE_OUTPUT, 0, 0 }, { 3, CS_BACKWARD_PHASE_OUTPUT, 1, 1 },
    { 4, CS_BACKWARD_PHASE_CONV, 0, 0 }, { 12, CS_BACKWARD_PHASE_CONV, 2, 2 },
    { 13, CS_BACKWARD_PHASE_KERNEL, 0, 0 }, { 21, CS_BACKWARD_PHASE_KERNEL, 2, 2 },
    { 22, CS_BACKWARD_PHASE_INPUT, 0, 0 }, { 46, CS_BACKWARD_PHASE_INPUT, 4, 4 },
  };
  CsBackwardPhase phase;
  int row, col;

  fixture_run_sum (f, 0);
  /* 4 outputs, 9 convolution cells, 9 kernel cells, 25 input cells */
  g_assert_cmpint (cs_backward_view_state_n_steps (&f->state), ==, 47);
  for (guint i = 0; i < G_N_ELEMENTS (where); i++)
    {
      g_assert_true (cs_backward_view_state_locate (&f->state, where[i].step, &phase, &row, &col));
      g_assert_cmpint (phase, ==, where[i].phase);
      g_assert_cmpint (row, ==, where[i].row);
      g_assert_cmpint (col, ==, where[i].col);
    }
  g_assert_false (cs_backward_view_state_locate (&f->state, 47, NULL, NULL, NULL));
  g_assert_false (cs_backward_view_state_locate (&f->state, -1, NULL, NULL, NULL));
  for (int s = 0; s < 47; s++)
    {
      cs_backward_view_state_locate (&f->state, s, &phase, &row, &col);
      g_assert_cmpint (cs_backward_view_state_find_step (&f->state, phase, row, col), ==, s);
    }
  g_assert_cmpint (cs_backward_view_state_find_step (&f->state, CS_BACKWARD_PHASE_BIAS, 0, 0),
                   ==, -1);

  /* ↑ ↓: the first cell of the stage before or after */
  f->state.step = 7;
  g_assert_cmpint (cs_backward_view_state_phase_step (&f->state, 1), ==, 13);
  g_assert_cmpint (cs_backward_view_state_phase_step (&f->state, -1), ==, 0);
  f->state.step = 30;
  g_assert_cmpint (cs_backward_view_state_phase_step (&f->state, 1), ==, 30);
  g_assert_cmpint (cs_backward_view_state_phase_step (&f->state, -1), ==, 13);

  /* a click on a cell goes to the step that explains it */
  g_assert_cmpint (cs_backward_view_state_step_of_cell (&f->state, CS_BACKWARD_GRID_DPOOL, 1, 0),
                   ==, 2);
  g_assert_cmpint (cs_backward_view_state_step_of_cell (&f->state, CS_BACKWARD_GRID_RELU, 1, 0),
                   ==, 7);
  g_assert_cmpint (cs_backward_view_state_step_of_cell (&f->state, CS_BACKWARD_GRID_UPDATED, 2, 1),
                   ==, 20);
  g_assert_cmpint (cs_backward_view_state_step_of_cell (&f->state, CS_BACKWARD_GRID_INPUT, 4, 4),
                   ==, 46);

  /* a bias adds one step, between the kernel and the input */
  f->spec.has_bias = TRUE;
  f->spec.bias = 0.5f;
  fixture_run_sum (f, 0);
  g_assert_cmpint (cs_backward_view_state_n_steps (&f->state), ==, 48);
  g_assert_true (cs_backward_view_state_locate (&f->state, 22, &phase, &row, &col));
  g_assert_cmpint (phase, ==, CS_BACKWARD_PHASE_BIAS);
  f->state.step = 22;
  g_assert_cmpint (cs_backward_view_state_phase_step (&f->state, 1), ==, 23);
}

/* ---------------------------------------------------------------------------
 * The engine's numbers, drawn and written
 */

typedef struct
{
  const char *name;
  void (*spec) (CsWorkedSpec *spec);
  CsWorkedLoss loss;
  double lr;
} NumbersCase;

static void
spec_default (CsWorkedSpec *spec)
{
}

static void
spec_padding_avg_bias (CsWorkedSpec *spec)
{
  spec->padding[0] = spec->padding[1] = 1;
  spec->has_bias = TRUE;
  spec->bias = 0.5f;
  spec->pool = CS_WORKED_POOL_AVG;
}

/* 7×7 with negative numbers, stride 2: some convolution cells are
 * negative, so ReLU stops their gradient */
static void
spec_stride2 (CsWorkedSpec *spec)
{
  spec->H = spec->W = 7;
  for (int i = 0; i < 49; i++)
    spec->input[i] = (float) ((i / 7 * 3 + i % 7 * 5) % 7 - 3);
  spec->stride[0] = spec->stride[1] = 2;
  spec->pool_padding[0] = spec->pool_padding[1] = 0;
  spec->pool_stride[0] = spec->pool_stride[1] = 1;
}

static const NumbersCase numbers_cases[] = {
  { "default-sum", spec_default, { CS_WORKED_LOSS_SUM, 0, 0 }, 0.1 },
  { "padding1-avg-bias-mse", spec_padding_avg_bias, { CS_WORKED_LOSS_MSE, 0, 5 }, 0.05 },
  { "stride2-max-cell", spec_stride2, { CS_WORKED_LOSS_CELL, 1, 0 }, 0.5 },
};

/* " = X" at the end of a line: X is the engine's number (to 6 significant
 * digits, "≈" when a number of the line was rounded) */
static void
assert_ends_with (const char *line, double engine)
{
  gboolean exact = TRUE;
  g_autofree char *n = cs_worked_text_short (engine, &exact);
  g_autofree char *equal = g_strconcat (" = ", n, NULL);
  g_autofree char *about = g_strconcat (" ≈ ", n, NULL);
  if (!(g_str_has_suffix (line, about) || (exact && g_str_has_suffix (line, equal))))
    g_test_fail_printf ("“%s” does not end in the engine's %s", line, n);
}

static void
test_numbers (Fixture *f, gconstpointer data)
{
  const NumbersCase *nc = data;

  /* the larger examples have smaller cells: draw them on a larger surface */
  f->width = 1920;
  f->height = 1080;
  cairo_surface_destroy (f->surface);
  f->surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, f->width, f->height);
  nc->spec (&f->spec);
  fixture_run (f, &nc->loss, nc->lr, 0);
  g_assert_no_error (f->error);
  g_autofree char *png = g_strdup_printf ("backward-%s.png", nc->name);
  view_save (f->surface, png);

  /* the engine's own gradients, read from the model */
  CsModel *model = cs_worked_get_model (f->worked);
  const CsParam *weight = cs_model_find_entry (model, "0.weight")->param;
  const CsModelEntry *bias_entry = cs_model_find_entry (model, "0.bias");
  CsTensor dx = cs_model_get_activation_grad (model, 0);
  CsTensor dconv = cs_model_get_activation_grad (model, 1);
  CsTensor drelu = cs_model_get_activation_grad (model, 2);
  CsTensor dpool = cs_model_get_activation_grad (model, 3);
  CsTensor dy = cs_model_get_activation_grad (model, 4);
  const CsWorkedStage *conv = cs_worked_find_stage (f->worked, CS_WORKED_STAGE_CONV);
  const CsWorkedStage *pool = cs_worked_find_stage (f->worked, CS_WORKED_STAGE_POOL);
  const CsWorkedSpec *spec = &f->spec;
  int n_conv = conv->rows * conv->cols, n_pool = pool->rows * pool->cols;
  g_assert_cmpint (cs_tensor_numel (&dy), ==, n_pool);
  for (int i = 0; i < n_pool; i++)
    g_assert_cmpfloat (dy.data[i], ==, dpool.data[i]);

  /* every gradient cell coloured by the engine's number, on its scale */
  double flow = 0, dk_limit = 0, dx_limit = 0;
  for (int i = 0; i < n_conv; i++)
    flow = MAX (flow, MAX (fabsf (dconv.data[i]), fabsf (drelu.data[i])));
  for (int i = 0; i < n_pool; i++)
    flow = MAX (flow, fabsf (dpool.data[i]));
  for (int i = 0; i < spec->kh * spec->kw; i++)
    dk_limit = MAX (dk_limit, fabsf (weight->grad->data[i]));
  for (int i = 0; i < spec->H * spec->W; i++)
    dx_limit = MAX (dx_limit, fabsf (dx.data[i]));
  g_assert_cmpfloat (flow, >, 0);
  for (int i = 0; i < n_pool; i++)
    assert_cell_fill (f, CS_BACKWARD_GRID_DPOOL, i / pool->cols, i % pool->cols,
                      diverging (dpool.data[i], flow));
  for (int i = 0; i < n_conv; i++)
    {
      assert_cell_fill (f, CS_BACKWARD_GRID_DRELU, i / conv->cols, i % conv->cols,
                        diverging (drelu.data[i], flow));
      assert_cell_fill (f, CS_BACKWARD_GRID_DCONV, i / conv->cols, i % conv->cols,
                        diverging (dconv.data[i], flow));
    }
  for (int i = 0; i < spec->kh * spec->kw; i++)
    assert_cell_fill (f, CS_BACKWARD_GRID_DKERNEL, i / spec->kw, i % spec->kw,
                      diverging (weight->grad->data[i], dk_limit));
  for (int i = 0; i < spec->H * spec->W; i++)
    assert_cell_fill (f, CS_BACKWARD_GRID_DINPUT, i / spec->W, i % spec->W,
                      diverging (dx.data[i], dx_limit));

  /* every step's sum ends in the engine's number; updates are k − lr·g */
  int n = cs_backward_view_state_n_steps (&f->state), updates = 0;
  g_assert_cmpint (n, ==, n_pool + n_conv + 9 + spec->has_bias + spec->H * spec->W);
  for (int s = 0; s < n; s++)
    {
      CsBackwardPhase phase;
      int row, col;
      f->state.step = s;
      cs_backward_view_state_locate (&f->state, s, &phase, &row, &col);
      g_autofree char *eq = cs_backward_view_state_equation_text (&f->state);
      g_autofree char *update = cs_backward_view_state_update_text (&f->state);
      g_auto(GStrv) lines = g_strsplit (eq, "\n", -1);
      switch (phase)
        {
        case CS_BACKWARD_PHASE_OUTPUT:
          assert_ends_with (lines[0], dpool.data[row * pool->cols + col]);
          break;
        case CS_BACKWARD_PHASE_CONV:
          assert_ends_with (lines[0], drelu.data[row * conv->cols + col]);
          assert_ends_with (lines[1], dconv.data[row * conv->cols + col]);
          break;
        case CS_BACKWARD_PHASE_KERNEL:
        case CS_BACKWARD_PHASE_BIAS:
          {
            const float *p = phase == CS_BACKWARD_PHASE_BIAS
              ? cs_model_get_params (model) + cs_model_get_entry_offset (model, bias_entry)
              : weight->value->data + row * spec->kw + col;
            const float *g = phase == CS_BACKWARD_PHASE_BIAS
              ? bias_entry->param->grad->data : weight->grad->data + row * spec->kw + col;
            /* the model kept its weights: the update was undone */
            g_assert_cmpfloat (*p, ==, phase == CS_BACKWARD_PHASE_BIAS
                                       ? spec->bias : spec->kernel[row * spec->kw + col]);
            double after = *p - nc->lr * *g;
            assert_ends_with (lines[0], *g);
            g_assert_nonnull (update);
            g_autofree char *lr = cs_worked_text_number (nc->lr);
            g_assert_nonnull (strstr (update, lr));
            const CsWorkedGradCell *cell = phase == CS_BACKWARD_PHASE_BIAS
              ? cs_worked_backward_get_bias_cell (f->backward)
              : cs_worked_backward_get_kernel_cell (f->backward, row, col);
            g_assert_cmpfloat_with_epsilon (cell->after, after, 1e-6 * MAX (1.0, fabs (after)));
            assert_ends_with (update, cell->after);
            updates++;
            break;
          }
        case CS_BACKWARD_PHASE_INPUT:
          assert_ends_with (lines[0], dx.data[row * spec->W + col]);
          break;
        default:
          g_assert_not_reached ();
        }
      if (phase != CS_BACKWARD_PHASE_KERNEL && phase != CS_BACKWARD_PHASE_BIAS)
        g_assert_null (update);
    }
  g_assert_cmpint (updates, ==, 9 + spec->has_bias);

  /* max pooling: a cell that wins no window gets exactly 0, in the
   * engine's numbers and in the view's words */
  if (spec->pool == CS_WORKED_POOL_MAX)
    {
      g_autofree gboolean *won = g_new0 (gboolean, n_conv);
      int losers = 0;
      for (int o = 0; o < n_pool; o++)
        {
          const CsWorkedPoolCell *p = cs_worked_get_pool_cell (f->worked, o / pool->cols,
                                                               o % pool->cols);
          won[p->cells[p->winner].row * conv->cols + p->cells[p->winner].col] = TRUE;
        }
      for (int i = 0; i < n_conv; i++)
        {
          if (won[i])
            continue;
          losers++;
          g_assert_cmpfloat (drelu.data[i], ==, 0.0f);
          g_assert_cmpfloat (dconv.data[i], ==, 0.0f);
          f->state.step = cs_backward_view_state_find_step (&f->state, CS_BACKWARD_PHASE_CONV,
                                                            i / conv->cols, i % conv->cols);
          /* "∂L/∂ReLU[1,0] = 0", or "= 0 + 0 = 0" for a cell in two windows */
          g_autofree char *eq = cs_backward_view_state_equation_text (&f->state);
          g_autofree char *zero = g_strdup_printf ("^∂L/∂ReLU\\[%d,%d\\] = 0( \\+ 0)*( = 0)?\n",
                                                   i / conv->cols, i % conv->cols);
          if (!g_regex_match_simple (zero, eq, 0, 0))
            g_test_fail_printf ("ReLU [%d,%d] wins no window, but the view writes “%s”",
                                i / conv->cols, i % conv->cols, eq);
          assert_cell_fill (f, CS_BACKWARD_GRID_DRELU, i / conv->cols, i % conv->cols,
                            diverging (0, 1));
        }
      g_assert_cmpint (losers, >, 0);
    }
}

/* ---------------------------------------------------------------------------
 * The current cell and the picture
 */

static void
test_highlight (Fixture *f, gconstpointer data)
{
  /* ∂L/∂k[1,2]: the kernel cell everywhere, dashed on the nine input cells
   * x[oh + 1, ow + 2] it met and on all of ∂L/∂conv */
  fixture_run_sum (f, 13 + 1 * 3 + 2);
  view_save (f->surface, "backward-kernel-1-2.png");
  for (int r = 0; r < 3; r++)
    for (int c = 0; c < 3; c++)
      {
        gboolean here = r == 1 && c == 2;
        g_assert_cmpint (is_current (f, CS_BACKWARD_GRID_DKERNEL, r, c), ==, here);
        g_assert_cmpint (is_current (f, CS_BACKWARD_GRID_KERNEL, r, c), ==, here);
        g_assert_cmpint (is_current (f, CS_BACKWARD_GRID_UPDATED, r, c), ==, here);
        g_assert_true (is_dashed (f, CS_BACKWARD_GRID_DCONV, r, c));
      }
  for (int r = 0; r < 5; r++)
    for (int c = 0; c < 5; c++)
      {
        gboolean read = r >= 1 && r <= 3 && c >= 2;
        g_assert_cmpint (is_dashed (f, CS_BACKWARD_GRID_INPUT, r, c), ==, read);
        g_assert_true (is_plain (f, CS_BACKWARD_GRID_DINPUT, r, c));
      }

  /* ∂L/∂x[2,2]: the cell, dashed on the kernel and on ∂L/∂conv (all nine
   * kernel cells reach the middle) */
  fixture_step (f, 22 + 2 * 5 + 2);
  for (int r = 0; r < 5; r++)
    for (int c = 0; c < 5; c++)
      {
        g_assert_cmpint (is_current (f, CS_BACKWARD_GRID_DINPUT, r, c), ==, r == 2 && c == 2);
        g_assert_cmpint (is_current (f, CS_BACKWARD_GRID_INPUT, r, c), ==, r == 2 && c == 2);
      }
  for (int r = 0; r < 3; r++)
    for (int c = 0; c < 3; c++)
      {
        g_assert_true (is_dashed (f, CS_BACKWARD_GRID_KERNEL, r, c));
        g_assert_true (is_plain (f, CS_BACKWARD_GRID_DKERNEL, r, c));
      }
  /* ∂L/∂x[0,4]: one product, k[0,2] with output [0,2] */
  fixture_step (f, 22 + 4);
  for (int r = 0; r < 3; r++)
    for (int c = 0; c < 3; c++)
      {
        g_assert_cmpint (is_dashed (f, CS_BACKWARD_GRID_KERNEL, r, c), ==, r == 0 && c == 2);
        g_assert_cmpint (is_dashed (f, CS_BACKWARD_GRID_DCONV, r, c), ==, r == 0 && c == 2);
      }

  /* ∂L/∂y[1]: the output cell only */
  fixture_step (f, 1);
  g_assert_true (is_current (f, CS_BACKWARD_GRID_DPOOL, 0, 1));
  g_assert_true (is_current (f, CS_BACKWARD_GRID_POOL, 0, 1));
  g_assert_true (is_plain (f, CS_BACKWARD_GRID_DPOOL, 0, 0));
  g_assert_true (is_plain (f, CS_BACKWARD_GRID_DKERNEL, 0, 0));
}

/* Through the max pool: ReLU [1,0] lost its window to [2,0] = 28. */
static void
test_routing (Fixture *f, gconstpointer data)
{
  fixture_run_sum (f, 4 + 1 * 3 + 0);
  view_save (f->surface, "backward-route-1-0.png");
  g_assert_true (is_current (f, CS_BACKWARD_GRID_DRELU, 1, 0));
  g_assert_true (is_current (f, CS_BACKWARD_GRID_DCONV, 1, 0));
  g_assert_true (is_current (f, CS_BACKWARD_GRID_RELU, 1, 0));
  /* the window of y[2] dashed, its winner gold, no other gold */
  g_assert_true (is_dashed (f, CS_BACKWARD_GRID_RELU, 2, 0));
  g_assert_true (is_dashed (f, CS_BACKWARD_GRID_DPOOL, 1, 0));
  for (int r = -1; r <= 3; r++)
    for (int c = -1; c <= 3; c++)
      g_assert_cmpint (has_winner (f, r, c), ==, r == 2 && c == 0);
  g_autofree char *eq = cs_backward_view_state_equation_text (&f->state);
  g_assert_cmpstr (eq, ==, "∂L/∂ReLU[1,0] = 0\n"
                           "∂L/∂conv[1,0] = ∂L/∂ReLU[1,0]·[26 > 0] = 0·1 = 0");
  assert_cell_fill (f, CS_BACKWARD_GRID_DRELU, 1, 0, diverging (0, 1));
  assert_cell_fill (f, CS_BACKWARD_GRID_DRELU, 2, 0, diverging (1, 1));

  /* the winner itself */
  fixture_step (f, 4 + 2 * 3 + 0);
  g_autofree char *won = cs_backward_view_state_equation_text (&f->state);
  g_assert_cmpstr (won, ==, "∂L/∂ReLU[2,0] = 1\n"
                            "∂L/∂conv[2,0] = ∂L/∂ReLU[2,0]·[28 > 0] = 1·1 = 1");
  g_assert_true (has_winner (f, 2, 0));

  /* average pooling divides: a quarter of ∂L/∂y to every cell */
  f->spec.pool = CS_WORKED_POOL_AVG;
  fixture_run_sum (f, 4 + 1 * 3 + 1);
  g_autofree char *avg = cs_backward_view_state_equation_text (&f->state);
  g_assert_cmpstr (avg, ==, "∂L/∂ReLU[1,1] = 1/4 = 0.25\n"
                            "∂L/∂conv[1,1] = ∂L/∂ReLU[1,1]·[18 > 0] = 0.25·1 = 0.25");
  int gold = 0;
  for (int y = 0; y < HEIGHT; y++)
    for (int x = 0; x < WIDTH; x++)
      gold += view_pixel_is (view_pixel (f->surface, x, y), CS_GRID_WINNER, 10);
  g_assert_cmpint (gold, ==, 0);
}

/* Each step draws another picture; stepping back draws the first again. */
static void
test_changes (Fixture *f, gconstpointer data)
{
  fixture_run_sum (f, 13);
  gsize size = (gsize) cairo_image_surface_get_stride (f->surface) * HEIGHT;
  g_autofree guint8 *first = g_memdup2 (cairo_image_surface_get_data (f->surface), size);
  int n = cs_backward_view_state_n_steps (&f->state);

  for (int s = 0; s < n; s++)
    {
      if (s == 13)
        continue;
      fixture_step (f, s);
      const guint8 *now = cairo_image_surface_get_data (f->surface);
      gsize differ = 0;
      for (gsize i = 0; i < size; i += 4)
        differ += memcmp (now + i, first + i, 4) != 0;
      if (differ < 200)
        g_test_fail_printf ("step %d draws almost the picture of step 13 (%" G_GSIZE_FORMAT
                            " pixels differ)", s, differ);
    }
  fixture_step (f, 14);
  g_assert_true (is_current (f, CS_BACKWARD_GRID_DKERNEL, 0, 1));
  g_assert_true (is_plain (f, CS_BACKWARD_GRID_DKERNEL, 0, 0));
  fixture_step (f, 13);
  g_assert_cmpmem (cairo_image_surface_get_data (f->surface), size, first, size);
}

/* ---------------------------------------------------------------------------
 * The text
 */

static void
test_text (Fixture *f, gconstpointer data)
{
  fixture_run_sum (f, 0);
  g_autofree char *y0 = cs_backward_view_state_equation_text (&f->state);
  g_assert_cmpstr (y0, ==, "∂L/∂y[0] = 1");
  g_autofree char *loss = cs_backward_view_state_loss_text (&f->state);
  g_assert_cmpstr (loss, ==, "L = Σ y = 24 + 18 + 28 + 18 = 88");
  g_assert_null (cs_backward_view_state_update_text (&f->state));

  f->state.step = 13;
  g_autofree char *k00 = cs_backward_view_state_equation_text (&f->state);
  g_assert_cmpstr (k00, ==, "∂L/∂k[0,0] = 3·1 + 3·1 + 2·0 + 2·0 + 3·1 + 2·0 + 3·1 + 3·0 + 2·0 "
                            "= 12");
  g_autofree char *u00 = cs_backward_view_state_update_text (&f->state);
  g_assert_cmpstr (u00, ==, "k[0,0] ← 0 − 0.1·12 = −1.2");
  g_autofree char *line = cs_backward_view_state_describe (&f->state);
  g_assert_cmpstr (line, ==, "∂L/∂k[0,0] = 3·1 + 3·1 + 2·0 + 2·0 + 3·1 + 2·0 + 3·1 + 3·0 + "
                             "2·0 = 12; k[0,0] ← 0 − 0.1·12 = −1.2 (L = Σ y = 24 + 18 + 28 + "
                             "18 = 88)");

  /* float32: 2 − 0.1·12 is 0.79999995, written to 6 digits with "≈" */
  f->state.step = 13 + 3;
  g_autofree char *u10 = cs_backward_view_state_update_text (&f->state);
  g_assert_cmpstr (u10, ==, "k[1,0] ← 2 − 0.1·12 ≈ 0.8");
  g_assert_cmpfloat (cs_worked_backward_get_kernel_cell (f->backward, 1, 0)->after, ==,
                     0.79999995f);

  f->state.step = 22 + 2 * 5 + 2;
  g_autofree char *x22 = cs_backward_view_state_equation_text (&f->state);
  g_assert_cmpstr (x22, ==, "∂L/∂x[2,2] = 0·0 + 1·0 + 2·1 + 2·0 + 2·1 + 0·0 + 0·0 + 1·1 + 2·1 "
                            "= 7");

  /* the engine's MSE against t = 20 */
  CsWorkedLoss mse = { CS_WORKED_LOSS_MSE, 0, 20 };
  fixture_run (f, &mse, 0.1, 2);
  g_autofree char *y2 = cs_backward_view_state_equation_text (&f->state);
  g_assert_cmpstr (y2, ==, "∂L/∂y[2] = 2·(28 − 20)/4 = 4");
  g_autofree char *mse_loss = cs_backward_view_state_loss_text (&f->state);
  g_assert_cmpstr (mse_loss, ==, "L = Σ (y − t)²/n = ((24 − 20)² + (18 − 20)² + (28 − 20)² + "
                                 "(18 − 20)²)/4 = 22");
  f->state.step = 13 + 1;
  g_autofree char *k01 = cs_backward_view_state_equation_text (&f->state);
  /* ∂L/∂y = [2, −1, 4, −1] reaches ReLU [0,0], [0,1], [2,0], [1,1] */
  g_assert_cmpstr (k01, ==, "∂L/∂k[0,1] = 3·2 + 2·(−1) + 1·0 + 3·0 + 2·(−1) + 1·0 + 3·4 + 2·0 "
                            "+ 1·0 = 14");

  /* one output, and a bias */
  CsWorkedLoss cell = { CS_WORKED_LOSS_CELL, 2, 0 };
  f->spec.has_bias = TRUE;
  f->spec.bias = 0.5f;
  fixture_run (f, &cell, 0.1, 22);
  g_autofree char *cell_loss = cs_backward_view_state_loss_text (&f->state);
  g_assert_cmpstr (cell_loss, ==, "L = y[2] = 28.5");
  g_autofree char *b = cs_backward_view_state_equation_text (&f->state);
  g_assert_cmpstr (b, ==, "∂L/∂b = 0 + 0 + 0 + 0 + 0 + 0 + 1 + 0 + 0 = 1");
  g_autofree char *bu = cs_backward_view_state_update_text (&f->state);
  g_assert_cmpstr (bu, ==, "b ← 0.5 − 0.1·1 = 0.4");
  f->state.step = 0;
  g_autofree char *y0_cell = cs_backward_view_state_equation_text (&f->state);
  g_assert_cmpstr (y0_cell, ==, "∂L/∂y[0] = 0");
}

/* Numbers to 6 significant digits, and whether that is the same float. */
static void
test_short (void)
{
  const struct { float value; const char *text; gboolean exact; } cases[] = {
    { 24, "24", TRUE }, { -1.2f, "−1.2", TRUE }, { 0.79999995f, "0.8", FALSE },
    { 1.0f / 3, "0.333333", FALSE }, { -0.30555555f, "−0.305556", FALSE },
    { 0.25f, "0.25", TRUE }, { 123456789.0f, "1.23457e+08", FALSE }, { -0.0f, "0", TRUE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      gboolean exact = TRUE;
      g_autofree char *text = cs_worked_text_short (cases[i].value, &exact);
      g_assert_cmpstr (text, ==, cases[i].text);
      g_assert_cmpint (exact, ==, cases[i].exact);
    }
  gboolean exact = TRUE;
  g_autofree char *f = cs_worked_text_short_factor (-0.30555555f, &exact);
  g_assert_cmpstr (f, ==, "(−0.305556)");
  g_assert_false (exact);
}

static void
test_hit (Fixture *f, gconstpointer data)
{
  fixture_run_sum (f, 0);
  for (int g = 0; g < CS_BACKWARD_N_GRIDS; g++)
    {
      int rows = g == CS_BACKWARD_GRID_INPUT || g == CS_BACKWARD_GRID_DINPUT ? 5
               : g == CS_BACKWARD_GRID_POOL || g == CS_BACKWARD_GRID_DPOOL ? 2 : 3;
      for (int row = 0; row < rows; row++)
        for (int col = 0; col < rows; col++)
          {
            cairo_rectangle_t r = cell_rect (f, g, row, col);
            CsBackwardGrid grid;
            int hr, hc;
            g_assert_true (cs_backward_view_state_hit (&f->state, WIDTH, HEIGHT,
                                                       r.x + r.width / 2, r.y + r.height / 2,
                                                       &grid, &hr, &hc));
            g_assert_cmpint (grid, ==, g);
            g_assert_cmpint (hr, ==, row);
            g_assert_cmpint (hc, ==, col);
          }
    }
  /* the padding ring is not data; grids do not overlap */
  cairo_rectangle_t r = cell_rect (f, CS_BACKWARD_GRID_RELU, -1, 0);
  g_assert_false (cs_backward_view_state_hit (&f->state, WIDTH, HEIGHT, r.x + r.width / 2,
                                              r.y + r.height / 2, NULL, NULL, NULL));
  for (int a = 0; a < CS_BACKWARD_N_GRIDS; a++)
    for (int b = a + 1; b < CS_BACKWARD_N_GRIDS; b++)
      {
        cairo_rectangle_t ra = cell_rect (f, a, 0, 0), rb = cell_rect (f, b, 0, 0);
        g_assert_false (ra.x == rb.x && ra.y == rb.y);
      }
}

/* An example the engine refuses: the reason, no grids. */
static void
test_refused (Fixture *f, gconstpointer data)
{
  CsWorkedLoss loss = { CS_WORKED_LOSS_SUM, 0, 0 };
  cairo_rectangle_t r;

  f->spec.dilation[0] = f->spec.dilation[1] = 2;   /* conv output 1×1 */
  f->spec.pool_padding[0] = f->spec.pool_padding[1] = 0;
  fixture_run (f, &loss, 0.1, 0);
  g_assert_error (f->error, CS_WORKED_ERROR, CS_WORKED_ARG_POOL_KERNEL);
  g_assert_cmpint (cs_backward_view_state_n_steps (&f->state), ==, 0);
  g_assert_false (cs_backward_view_state_cell_rect (&f->state, WIDTH, HEIGHT,
                                                    CS_BACKWARD_GRID_DKERNEL, 0, 0, &r));
  g_assert_null (cs_backward_view_state_equation_text (&f->state));
  g_autofree char *line = cs_backward_view_state_describe (&f->state);
  g_assert_true (g_str_has_prefix (line, "No backward pass: pool-kernel: "));
  /* something is written, on the background */
  g_assert_cmpint (view_count_other (f->surface, 0, 0, WIDTH, HEIGHT / 4, CS_GRID_BACKGROUND),
                   >, 100);
}

static void
test_type (void)
{
  GTypeQuery query;

  g_type_ensure (CS_TYPE_BACKWARD_VIEW);
  g_type_query (CS_TYPE_BACKWARD_VIEW, &query);
  g_assert_cmpuint (query.type, ==, CS_TYPE_BACKWARD_VIEW);
  g_assert_true (g_type_is_a (CS_TYPE_BACKWARD_VIEW, CS_TYPE_VIEW));
}

/* The widget's API (and the stepping through it); skipped without a
 * display, run on Xvfb by the gui suite. */
static void
test_widget (void)
{
  if (!gtk_init_check ())
    {
      g_test_skip ("no display");
      return;
    }

  CsBackwardView *view = g_object_ref_sink (CS_BACKWARD_VIEW (cs_backward_view_new ()));
  CsBackwardViewState state;
  CsWorkedSpec spec;

  g_assert_nonnull (cs_backward_view_get_backward (view));
  g_assert_cmpfloat (cs_backward_view_get_lr (view), ==, 0.1);
  g_assert_cmpint (cs_backward_view_get_loss (view)->kind, ==, CS_WORKED_LOSS_SUM);
  cs_backward_view_set_step (view, 13);
  cs_backward_view_get_state (view, &state);
  g_autofree char *u = cs_backward_view_state_update_text (&state);
  g_assert_cmpstr (u, ==, "k[0,0] ← 0 − 0.1·12 = −1.2");

  /* the learning rate and the loss run the engine again */
  cs_backward_view_set_lr (view, 0.5);
  cs_backward_view_get_state (view, &state);
  g_autofree char *u5 = cs_backward_view_state_update_text (&state);
  g_assert_cmpstr (u5, ==, "k[0,0] ← 0 − 0.5·12 = −6");
  CsWorkedLoss cell = { CS_WORKED_LOSS_CELL, 9, 0 };
  cs_backward_view_set_loss (view, &cell);
  g_assert_cmpint (cs_backward_view_get_loss (view)->cell, ==, 3);   /* clamped */
  cs_backward_view_get_state (view, &state);
  g_autofree char *k3 = cs_backward_view_state_equation_text (&state);
  /* L = y[3]: the window of pooled [1,1], won by ReLU [1,1] */
  g_assert_cmpstr (k3, ==, "∂L/∂k[0,0] = 3·0 + 3·0 + 2·0 + 2·0 + 3·1 + 2·0 + 3·0 + 3·0 + 2·0 "
                           "= 3");

  /* the Convolution view's spec: ReLU and flatten on, pooling its own */
  cs_backward_view_set_pool (view, CS_WORKED_POOL_AVG);
  cs_worked_spec_init_default (&spec);
  spec.relu = FALSE;
  spec.pool = CS_WORKED_POOL_NONE;
  spec.flatten = FALSE;
  spec.stride[0] = spec.stride[1] = 2;   /* conv 2×2, pooled 2×2 */
  cs_backward_view_set_spec (view, &spec);
  g_assert_true (cs_backward_view_get_spec (view)->relu);
  g_assert_cmpint (cs_backward_view_get_pool (view), ==, CS_WORKED_POOL_AVG);
  cs_backward_view_get_state (view, &state);
  g_assert_cmpint (cs_backward_view_state_n_steps (&state), ==, 4 + 4 + 9 + 25);
  g_assert_cmpint (cs_backward_view_get_step (view), ==, 13);

  /* stepping: wraps at the end, clamps when set */
  cs_backward_view_set_step (view, 1000);
  g_assert_cmpint (cs_backward_view_get_step (view), ==, 41);
  cs_backward_view_set_playing (view, TRUE);
  g_assert_true (cs_backward_view_get_playing (view));
  cs_backward_view_set_playing (view, FALSE);

  /* refused: no steps, no autoplay */
  spec.dilation[0] = spec.dilation[1] = 3;
  cs_backward_view_set_spec (view, &spec);
  g_assert_null (cs_backward_view_get_backward (view));
  cs_backward_view_set_playing (view, TRUE);
  g_assert_false (cs_backward_view_get_playing (view));

  /* exported through the CsView interface */
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("test-backward-view-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *path = g_build_filename (dir, "backward.svg", NULL);
  cs_worked_spec_init_default (&spec);
  cs_backward_view_set_spec (view, &spec);
  g_assert_true (cs_view_export (CS_VIEW (view), path, CS_EXPORT_SVG, 900, 600, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
  g_unlink (path);
  g_rmdir (dir);

  g_object_unref (view);
}

int
main (int argc, char **argv)
{
  /* (for the widget test: no accessibility bus to look for) */
  g_setenv ("GTK_A11Y", "none", FALSE);
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func, data) \
  g_test_add (path, Fixture, data, fixture_setup, func, fixture_teardown)
  ADD ("/views/backward/steps", test_steps, NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (numbers_cases); i++)
    {
      g_autofree char *path = g_strconcat ("/views/backward/numbers/", numbers_cases[i].name,
                                           NULL);
      ADD (path, test_numbers, &numbers_cases[i]);
    }
  ADD ("/views/backward/highlight", test_highlight, NULL);
  ADD ("/views/backward/routing", test_routing, NULL);
  ADD ("/views/backward/changes", test_changes, NULL);
  ADD ("/views/backward/text", test_text, NULL);
  ADD ("/views/backward/hit", test_hit, NULL);
  ADD ("/views/backward/refused", test_refused, NULL);
#undef ADD
  g_test_add_func ("/views/backward/short", test_short);
  g_test_add_func ("/views/backward/type", test_type);
  g_test_add_func ("/views/backward/widget", test_widget);
  return g_test_run ();
}
