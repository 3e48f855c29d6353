/* cs-pool-view.c — the "ReLU, pooling, flatten" view
 *
 * As in cs-conv-view.c: a layout from the state and the size, the drawing
 * and the hit-testing on it, then the widget, which owns the spec, runs the
 * engine after every change and draws its state.
 */
#include "cs-pool-view.h"
#include "cs-grid.h"
#include "cs-palette.h"
#include "cs-stepper.h"
#include "cs-worked-text.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#define PLAY_INTERVAL_MS 1200

/* Flattened cells are never drawn smaller than this; more wrap to a new row. */
#define MIN_FLAT_CELL 18.0

/* ===========================================================================
 * The picture
 */

typedef struct
{
  gboolean picture;
  double margin, type, cell;
  int rows[3], cols[3];        /* conv, ReLU (with the padding ring), pool */
  int pad_rows, pad_cols;      /* the pooling's padding */
  double slot_x[3], slot_w[3];
  double grid_x[3], grid_y[3];
  double op_x[2], op_y;
  double title_size;
  double legend_y, legend_h;
  /* the flattened vector: n cells, per_row to a row */
  int flat_n, flat_per_row, flat_rows;
  double flat_cell, flat_x, flat_y, flat_title_y, flat_index_h;
  double text_x, text_y, text_w;
  double eq_size;
} PoolLayout;

typedef struct
{
  PangoLayout *window;  /* the current window written out */
  PangoLayout *body;    /* ReLU, flatten, sizes */
  PangoLayout *hint;
} PoolText;

static void
pool_text_clear (PoolText *text)
{
  g_clear_object (&text->window);
  g_clear_object (&text->body);
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

static PangoLayout *
wrapped (const char *markup, double size, double width)
{
  PangoLayout *layout = cs_grid_layout_new ("", size, FALSE);

  pango_layout_set_markup (layout, markup, -1);
  pango_layout_set_width (layout, (int) (width * PANGO_SCALE));
  pango_layout_set_wrap (layout, PANGO_WRAP_WORD_CHAR);
  return layout;
}

static gboolean
is_max (CsWorked *worked)
{
  return cs_worked_get_spec (worked)->pool == CS_WORKED_POOL_MAX;
}

/* "MaxPool [1,0]" / "AvgPool [1,0]" */
static char *
pool_name (CsWorked *worked, int row, int col)
{
  if (is_max (worked))
    /* TRANSLATORS: a cell of the max-pooled map, [row,column] */
    return g_strdup_printf (_("MaxPool [%d,%d]"), row, col);
  /* TRANSLATORS: a cell of the average-pooled map, [row,column] */
  return g_strdup_printf (_("AvgPool [%d,%d]"), row, col);
}

static char *
grid_title (CsWorked *worked, int grid)
{
  const CsWorkedSpec *spec = cs_worked_get_spec (worked);
  const CsWorkedStage *s;

  switch (grid)
    {
    case CS_POOL_GRID_CONV:
      s = cs_worked_find_stage (worked, CS_WORKED_STAGE_CONV);
      return g_strdup_printf (_("Convolution output  %d×%d"), s->rows, s->cols);
    case CS_POOL_GRID_RELU:
      s = cs_worked_find_stage (worked, CS_WORKED_STAGE_RELU);
      return g_strdup_printf (_("ReLU: max(0, x)  %d×%d"), s->rows, s->cols);
    case CS_POOL_GRID_POOL:
      s = cs_worked_find_stage (worked, CS_WORKED_STAGE_POOL);
      return g_strdup_printf ("%s(%d, %d, padding=%d)  %d×%d",
                              is_max (worked) ? "MaxPool2d" : "AvgPool2d",
                              spec->pool_kernel[0], spec->pool_stride[0],
                              spec->pool_padding[0], s->rows, s->cols);
    case CS_POOL_GRID_FLAT:
      s = cs_worked_find_stage (worked, CS_WORKED_STAGE_FLATTEN);
      return g_strdup_printf (_("Flatten  1×%d"), s->cols);
    default:
      g_assert_not_reached ();
    }
}

static const CsWorkedPoolCell *
pool_cell (const CsPoolViewState *state, int row, int col)
{
  const CsWorkedStage *pool;

  if (state->worked == NULL)
    return NULL;
  pool = cs_worked_find_stage (state->worked, CS_WORKED_STAGE_POOL);
  if (row < 0 || col < 0 || row >= pool->rows || col >= pool->cols)
    return NULL;
  return cs_worked_get_pool_cell (state->worked, row, col);
}

char *
cs_pool_view_state_window_text (const CsPoolViewState *state)
{
  g_return_val_if_fail (state != NULL, NULL);

  const CsWorkedPoolCell *cell = pool_cell (state, state->row, state->col);
  if (cell == NULL)
    return NULL;
  return cs_worked_text_pool_cell (cell, cs_worked_get_spec (state->worked)->pool);
}

/* "MaxPool [1,0] = max(…) = 28, from ReLU [2,0]" */
static char *
window_line (const CsPoolViewState *state, gboolean markup)
{
  const CsWorkedPoolCell *cell = pool_cell (state, state->row, state->col);
  g_autofree char *name = pool_name (state->worked, state->row, state->col);
  g_autofree char *text = cs_pool_view_state_window_text (state);
  g_autofree char *from = NULL;

  if (cell->winner >= 0)
    /* TRANSLATORS: after a max-pool window, where the winner was, [row,column] */
    from = g_strdup_printf (_(", from ReLU [%d,%d]"), cell->cells[cell->winner].row,
                            cell->cells[cell->winner].col);
  if (markup)
    return g_markup_printf_escaped ("<b>%s</b> = %s%s", name, text, from != NULL ? from : "");
  return g_strdup_printf ("%s = %s%s", name, text, from != NULL ? from : "");
}

char *
cs_pool_view_state_describe (const CsPoolViewState *state)
{
  g_return_val_if_fail (state != NULL, NULL);

  if (pool_cell (state, state->row, state->col) == NULL)
    return g_strdup_printf (_("No output: %s"), state->error != NULL ? state->error : "");
  g_autofree char *line = window_line (state, FALSE);
  const CsWorkedStage *pool = cs_worked_find_stage (state->worked, CS_WORKED_STAGE_POOL);
  /* TRANSLATORS: the pooled cell's place in the flattened vector */
  return g_strdup_printf (_("%s; flattened index %d"), line,
                          state->row * pool->cols + state->col);
}

static PoolText
pool_text (const CsPoolViewState *state, const PoolLayout *L)
{
  PoolText text = { NULL };

  if (state->worked == NULL)
    {
      g_autofree char *markup = g_markup_printf_escaped (
        "<b>%s</b>\n%s", _("No pooled output for this example."),
        state->error != NULL ? state->error : "");
      text.window = wrapped (markup, L->eq_size, L->text_w);
      text.hint = wrapped (_("Change the convolution in the Convolution view so that its "
                             "output is large enough to pool."), L->type * 0.8, L->text_w);
      return text;
    }

  CsWorked *w = state->worked;
  const CsWorkedSpec *spec = cs_worked_get_spec (w);
  const CsWorkedStage *conv = cs_worked_find_stage (w, CS_WORKED_STAGE_CONV);
  const CsWorkedStage *relu = cs_worked_find_stage (w, CS_WORKED_STAGE_RELU);
  const CsWorkedStage *pool = cs_worked_find_stage (w, CS_WORKED_STAGE_POOL);
  const CsWorkedStage *flat = cs_worked_find_stage (w, CS_WORKED_STAGE_FLATTEN);
  const CsWorkedPoolCell *cell = pool_cell (state, state->row, state->col);
  GString *body = g_string_new (NULL);

  g_autofree char *window = window_line (state, TRUE);
  text.window = wrapped (window, L->eq_size, L->text_w);

  /* the ReLU of the window's cells, the engine's numbers before and after */
  g_string_append (body, "ReLU: ");
  int shown = 0;
  for (int t = 0; t < cell->n_cells; t++)
    {
      const CsWorkedPoolTerm *term = &cell->cells[t];
      if (term->padding)
        continue;
      if (shown == 9)
        {
          g_string_append (body, ", …");
          break;
        }
      int i = term->row * relu->cols + term->col;
      g_autofree char *in = cs_worked_text_number (conv->values[i]);
      g_autofree char *out = cs_worked_text_number (relu->values[i]);
      g_autofree char *piece = g_markup_printf_escaped ("%smax(0, %s) = %s",
                                                        shown > 0 ? ", " : "", in, out);
      g_string_append (body, piece);
      shown++;
    }
  g_string_append_c (body, '\n');

  int index = state->row * pool->cols + state->col;
  g_autofree char *name = pool_name (w, state->row, state->col);
  g_autofree char *value = cs_worked_text_number (flat->values[index]);
  g_autofree char *flat_line = g_markup_printf_escaped (
    /* TRANSLATORS: Flatten [2] = MaxPool [1,0] = 28   (index 2 = 1·2 + 0) */
    _("Flatten [%d] = %s = %s   (index %d = %d·%d + %d)"), index, name, value, index,
    state->row, pool->cols, state->col);
  g_string_append (body, flat_line);
  g_string_append_c (body, '\n');

  g_autofree char *h = cs_window_out_size_formula (relu->rows, spec->pool_kernel[0],
                                                   spec->pool_stride[0],
                                                   spec->pool_padding[0], 1);
  g_autofree char *wf = cs_window_out_size_formula (relu->cols, spec->pool_kernel[1],
                                                    spec->pool_stride[1],
                                                    spec->pool_padding[1], 1);
  g_autofree char *sizes = g_markup_printf_escaped ("%s", _("Pooled size"));
  g_autofree char *hl = g_markup_escape_text (h, -1), *wl = g_markup_escape_text (wf, -1);
  g_string_append_printf (body, "<span foreground=\"%s\">%s</span>   "
                          "H<sub>out</sub> = %s     W<sub>out</sub> = %s", CS_STYLE_DIM_MARKUP, sizes,
                          hl, wl);
  text.body = wrapped (body->str, L->type, L->text_w);
  g_string_free (body, TRUE);

  const char *hint = is_max (w)
    ? _("Grey −∞ cells are the pooling's padding: they never win the max. "
        "← → ↑ ↓, Home, End or a click on a pooled cell move the window.")
    : _("Grey cells are the pooling's padding: they add 0 but count in the divisor "
        "(PyTorch's count_include_pad=True). ← → ↑ ↓, Home, End or a click on a pooled "
        "cell move the window.");
  text.hint = wrapped (hint, L->type * 0.8, L->text_w);
  return text;
}

static void
pool_layout (const CsPoolViewState *state, int width, int height, PoolLayout *L,
             PoolText *text_out)
{
  memset (L, 0, sizeof *L);
  L->margin = round (MAX (10.0, 0.025 * MIN (width, height)));
  L->type = CLAMP (MIN (width / 68.0, height / 44.0), 10.0, 40.0) * cs_style_type ();
  L->eq_size = L->type * 1.15;
  L->title_size = L->type * 1.05;
  L->text_x = L->margin;
  L->text_w = MAX (1.0, width - 2 * L->margin);

  double t = L->type;
  PoolText text = pool_text (state, L);
  double text_h = layout_height (text.window) + 0.3 * t + layout_height (text.body)
                  + 0.5 * t + layout_height (text.hint);

  if (state->worked == NULL)
    {
      L->text_y = L->margin;
      if (text_out != NULL)
        *text_out = text;
      else
        pool_text_clear (&text);
      return;
    }
  L->picture = TRUE;

  CsWorked *w = state->worked;
  const CsWorkedStage *conv = cs_worked_find_stage (w, CS_WORKED_STAGE_CONV);
  const CsWorkedStage *pool = cs_worked_find_stage (w, CS_WORKED_STAGE_POOL);
  const CsWorkedStage *flat = cs_worked_find_stage (w, CS_WORKED_STAGE_FLATTEN);
  const CsSlidingWindow *g = pool->window;

  L->pad_rows = g->ph;
  L->pad_cols = g->pw;
  L->rows[CS_POOL_GRID_CONV] = conv->rows;
  L->cols[CS_POOL_GRID_CONV] = conv->cols;
  L->rows[CS_POOL_GRID_RELU] = g->H + 2 * g->ph;
  L->cols[CS_POOL_GRID_RELU] = g->W + 2 * g->pw;
  L->rows[CS_POOL_GRID_POOL] = pool->rows;
  L->cols[CS_POOL_GRID_POOL] = pool->cols;
  L->flat_n = flat->cols;

  double fixed[3], op_w = 2.4 * t, legend_min = 6.5 * t, title_h = 0;
  int R = 0;
  for (int i = 0; i < 3; i++)
    {
      g_autofree char *title = grid_title (w, i);
      double tw, th;
      cs_grid_text_extents (title, L->title_size, TRUE, &tw, &th);
      fixed[i] = MAX (tw, legend_min);
      title_h = MAX (title_h, th);
      R = MAX (R, L->rows[i]);
    }

  double avail = L->text_w - 2 * op_w, c_w = 0;
  gboolean by_grid[3] = { TRUE, TRUE, TRUE };
  for (int pass = 0; pass < 4; pass++)
    {
      double rest = avail;
      int n = 0;
      for (int i = 0; i < 3; i++)
        if (by_grid[i])
          n += L->cols[i];
        else
          rest -= fixed[i];
      c_w = n > 0 ? rest / n : 1e9;
      gboolean changed = FALSE;
      for (int i = 0; i < 3; i++)
        if (by_grid[i] && L->cols[i] * c_w < fixed[i])
          by_grid[i] = FALSE, changed = TRUE;
      if (!changed)
        break;
    }

  /* The flattened vector: one row if it fits, else rows of per_row. */
  L->flat_per_row = MIN (L->flat_n, MAX (1, (int) floor (L->text_w / MIN_FLAT_CELL)));
  L->flat_rows = (L->flat_n + L->flat_per_row - 1) / L->flat_per_row;
  L->flat_index_h = 0.75 * t * 1.4;

  double legend_bar = 0.9 * t;
  L->legend_h = legend_bar + 2 + MAX (9.0, legend_bar * 0.8) * 1.3;
  double fixed_h = title_h + 0.35 * t + 0.7 * t + L->legend_h + 0.9 * t
                   + title_h + 0.35 * t + L->flat_rows * L->flat_index_h + 0.6 * t + text_h;
  double c_h = (height - 2 * L->margin - fixed_h) / (R + L->flat_rows);
  L->cell = floor (MAX (6.0, MIN (MIN (c_w, c_h), 5.5 * t)));
  double c = L->cell;
  L->flat_cell = floor (MIN (c, L->text_w / L->flat_per_row));

  double total = 2 * op_w;
  for (int i = 0; i < 3; i++)
    {
      L->slot_w[i] = MAX (L->cols[i] * c, fixed[i]);
      total += L->slot_w[i];
    }
  double flat_h = title_h + 0.35 * t + L->flat_rows * (L->flat_cell + L->flat_index_h);
  double content_h = fixed_h - L->flat_rows * L->flat_index_h - title_h - 0.35 * t
                     + R * c + flat_h;
  double x = L->margin + MAX (0.0, (L->text_w - total) / 2);
  double y = L->margin + MAX (0.0, (height - 2 * L->margin - content_h) / 2);
  double band_y = y + title_h + 0.35 * t;

  for (int i = 0; i < 3; i++)
    {
      L->slot_x[i] = x;
      L->grid_x[i] = round (x + (L->slot_w[i] - L->cols[i] * c) / 2);
      L->grid_y[i] = round (band_y + (R - L->rows[i]) * c / 2);
      x += L->slot_w[i];
      if (i < 2)
        {
          L->op_x[i] = x + op_w / 2;
          x += op_w;
        }
    }
  L->op_y = band_y + R * c / 2;
  L->legend_y = band_y + R * c + 0.7 * t;
  L->flat_title_y = L->legend_y + L->legend_h + 0.9 * t;
  L->flat_y = round (L->flat_title_y + title_h + 0.35 * t);
  L->flat_x = round (L->margin + (L->text_w - L->flat_per_row * L->flat_cell) / 2);
  L->text_y = L->flat_y + L->flat_rows * (L->flat_cell + L->flat_index_h) + 0.6 * t;

  if (text_out != NULL)
    *text_out = text;
  else
    pool_text_clear (&text);
}

/* The parts a lesson can point at, by CsPoolGrid */
static const char *const pool_highlights[] = { "conv", "relu", "pool", "flatten", NULL };

static gboolean
layout_cell_rect (const PoolLayout *L, CsPoolGrid grid, int row, int col,
                  cairo_rectangle_t *rect)
{
  if (!L->picture)
    return FALSE;
  if (grid == CS_POOL_GRID_FLAT)
    {
      if (row != 0 || col < 0 || col >= L->flat_n)
        return FALSE;
      int r = col / L->flat_per_row, c = col % L->flat_per_row;
      *rect = (cairo_rectangle_t) {
        L->flat_x + c * L->flat_cell, L->flat_y + r * (L->flat_cell + L->flat_index_h),
        L->flat_cell, L->flat_cell,
      };
      return TRUE;
    }
  if ((guint) grid > CS_POOL_GRID_POOL)
    return FALSE;
  if (grid == CS_POOL_GRID_RELU)
    row += L->pad_rows, col += L->pad_cols;
  if (row < 0 || col < 0 || row >= L->rows[grid] || col >= L->cols[grid])
    return FALSE;
  *rect = (cairo_rectangle_t) {
    L->grid_x[grid] + col * L->cell, L->grid_y[grid] + row * L->cell, L->cell, L->cell,
  };
  return TRUE;
}

gboolean
cs_pool_view_state_cell_rect (const CsPoolViewState *state, int width, int height,
                              CsPoolGrid grid, int row, int col, cairo_rectangle_t *rect)
{
  PoolLayout L;

  g_return_val_if_fail (state != NULL, FALSE);
  g_return_val_if_fail (rect != NULL, FALSE);
  pool_layout (state, width, height, &L, NULL);
  return layout_cell_rect (&L, grid, row, col, rect);
}

gboolean
cs_pool_view_state_hit (const CsPoolViewState *state, int width, int height, double x,
                        double y, CsPoolGrid *grid, int *row, int *col)
{
  PoolLayout L;
  cairo_rectangle_t r;

  g_return_val_if_fail (state != NULL, FALSE);
  pool_layout (state, width, height, &L, NULL);
  if (!L.picture)
    return FALSE;
  for (int i = 0; i <= CS_POOL_GRID_FLAT; i++)
    {
      int rows = i == CS_POOL_GRID_FLAT ? 1 : L.rows[i] - (i == CS_POOL_GRID_RELU ? 2 * L.pad_rows : 0);
      int cols = i == CS_POOL_GRID_FLAT ? L.flat_n : L.cols[i] - (i == CS_POOL_GRID_RELU ? 2 * L.pad_cols : 0);
      for (int rr = 0; rr < rows; rr++)
        for (int cc = 0; cc < cols; cc++)
          if (layout_cell_rect (&L, i, rr, cc, &r) && x >= r.x && x < r.x + r.width
              && y >= r.y && y < r.y + r.height)
            {
              if (grid != NULL)
                *grid = i;
              if (row != NULL)
                *row = rr;
              if (col != NULL)
                *col = cc;
              return TRUE;
            }
    }
  return FALSE;
}

static void
draw_window (cairo_t *cr, const PoolLayout *L, const CsWorkedPoolCell *cell, CsGridMark mark)
{
  cairo_rectangle_t r;

  for (int t = 0; t < cell->n_cells; t++)
    if (layout_cell_rect (L, CS_POOL_GRID_RELU, cell->cells[t].row, cell->cells[t].col, &r))
      cs_grid_draw_mark (cr, &r, mark);
  if (layout_cell_rect (L, CS_POOL_GRID_POOL, cell->row, cell->col, &r))
    cs_grid_draw_mark (cr, &r, mark);
  if (layout_cell_rect (L, CS_POOL_GRID_FLAT, 0, cell->row * L->cols[CS_POOL_GRID_POOL] + cell->col,
                        &r))
    cs_grid_draw_mark (cr, &r, mark);
}

static void
draw_title (cairo_t *cr, const PoolLayout *L, const char *title, double x, double y)
{
  cs_grid_draw_text (cr, title, L->title_size, TRUE, x, y, 0.5, 1.0, CS_GRID_INK);
}

void
cs_pool_view_state_draw (const CsPoolViewState *state, cairo_t *cr, int width, int height)
{
  PoolLayout L;
  PoolText text;

  g_return_if_fail (state != NULL);
  g_return_if_fail (cr != NULL);

  pool_layout (state, width, height, &L, &text);
  cairo_save (cr);
  cs_palette_set_source (cr, CS_GRID_BACKGROUND);
  cairo_rectangle (cr, 0, 0, width, height);
  cairo_fill (cr);

  if (L.picture)
    {
      CsWorked *w = state->worked;
      const CsWorkedStage *conv = cs_worked_find_stage (w, CS_WORKED_STAGE_CONV);
      const CsWorkedStage *relu = cs_worked_find_stage (w, CS_WORKED_STAGE_RELU);
      const CsWorkedStage *pool = cs_worked_find_stage (w, CS_WORKED_STAGE_POOL);
      const CsWorkedStage *flat = cs_worked_find_stage (w, CS_WORKED_STAGE_FLATTEN);
      gboolean max = is_max (w);
      /* ReLU, the pooled map and the vector share one scale: a number has
       * one colour wherever it goes. */
      double conv_limit = cs_grid_limit (conv->values, conv->rows * conv->cols);
      double limit = cs_grid_limit (relu->values, relu->rows * relu->cols);
      cairo_rectangle_t r;

      for (int i = 0; i < 3; i++)
        {
          g_autofree char *title = grid_title (w, i);
          draw_title (cr, &L, title, L.slot_x[i] + L.slot_w[i] / 2,
                      L.grid_y[i] - 0.35 * L.type);
        }
      for (int row = 0; row < conv->rows; row++)
        for (int col = 0; col < conv->cols; col++)
          {
            layout_cell_rect (&L, CS_POOL_GRID_CONV, row, col, &r);
            cs_grid_draw_value (cr, &r, CS_PALETTE_DIVERGING, conv_limit,
                                conv->values[row * conv->cols + col]);
          }
      for (int row = -L.pad_rows; row < relu->rows + L.pad_rows; row++)
        for (int col = -L.pad_cols; col < relu->cols + L.pad_cols; col++)
          {
            layout_cell_rect (&L, CS_POOL_GRID_RELU, row, col, &r);
            if (row < 0 || col < 0 || row >= relu->rows || col >= relu->cols)
              cs_grid_draw_padding (cr, &r, max ? "−∞" : "0");
            else
              cs_grid_draw_value (cr, &r, CS_PALETTE_SEQUENTIAL, limit,
                                  relu->values[row * relu->cols + col]);
          }
      for (int row = 0; row < pool->rows; row++)
        for (int col = 0; col < pool->cols; col++)
          {
            layout_cell_rect (&L, CS_POOL_GRID_POOL, row, col, &r);
            cs_grid_draw_value (cr, &r, CS_PALETTE_SEQUENTIAL, limit,
                                pool->values[row * pool->cols + col]);
          }

      /* legends: the convolution's signed scale, then the shared one */
      for (int i = 0; i < 3; i++)
        {
          double lw = MIN (L.slot_w[i], MAX (L.cols[i] * L.cell, 6.5 * L.type));
          cs_palette_draw_legend (cr, i == CS_POOL_GRID_CONV ? CS_PALETTE_DIVERGING
                                                             : CS_PALETTE_SEQUENTIAL,
                                  i == CS_POOL_GRID_CONV ? conv_limit : limit, NULL,
                                  L.slot_x[i] + (L.slot_w[i] - lw) / 2, L.legend_y, lw,
                                  0.9 * L.type);
        }
      cs_grid_draw_text (cr, "→", L.type * 1.8, FALSE, L.op_x[0], L.op_y, 0.5, 0.5,
                         CS_GRID_INK);
      cs_grid_draw_text (cr, "→", L.type * 1.8, FALSE, L.op_x[1], L.op_y, 0.5, 0.5,
                         CS_GRID_INK);

      /* the flattened vector, each cell with its index under it */
      g_autofree char *flat_title = grid_title (w, CS_POOL_GRID_FLAT);
      draw_title (cr, &L, flat_title, L.margin + L.text_w / 2, L.flat_y - 0.35 * L.type);
      /* every index if they fit under their cells, else every 2nd, 5th,
       * 10th, … and the current one */
      int current = state->row * pool->cols + state->col, every = 1;
      g_autofree char *widest = g_strdup_printf ("%d", flat->cols - 1);
      double index_w;
      cs_grid_text_extents (widest, 0.75 * L.type, TRUE, &index_w, NULL);
      for (int k = 0; index_w > every * L.flat_cell * 0.9 && every < flat->cols; k++)
        every = (k % 3 == 0 ? 2 : k % 3 == 1 ? 5 : 10) * (int) pow (10, k / 3);
      for (int i = 0; i < flat->cols; i++)
        {
          g_autofree char *index = g_strdup_printf ("%d", i);
          layout_cell_rect (&L, CS_POOL_GRID_FLAT, 0, i, &r);
          cs_grid_draw_value (cr, &r, CS_PALETTE_SEQUENTIAL, limit, flat->values[i]);
          if (i % every == 0 || i == current)
            cs_grid_draw_text (cr, index, 0.75 * L.type, i == current, r.x + r.width / 2,
                               r.y + r.height + 0.15 * L.type, 0.5, 0.0,
                               i == current ? CS_GRID_INK : CS_GRID_INK_DIM);
        }

      const CsWorkedPoolCell *hover = pool_cell (state, state->hover_row, state->hover_col);
      const CsWorkedPoolCell *cell = pool_cell (state, state->row, state->col);
      if (hover != NULL && hover != cell)
        draw_window (cr, &L, hover, CS_GRID_MARK_HOVER);
      if (cell != NULL)
        {
          draw_window (cr, &L, cell, CS_GRID_MARK_WINDOW);
          if (cell->winner >= 0
              && layout_cell_rect (&L, CS_POOL_GRID_RELU, cell->cells[cell->winner].row,
                                   cell->cells[cell->winner].col, &r))
            {
              cs_grid_draw_mark (cr, &r, CS_GRID_MARK_WINNER);
              cs_grid_draw_tag (cr, &r, "max", 0.5, (CsRgb) { 0, 0, 0 }, &CS_GRID_WINNER);
            }
        }
      for (int i = 0; i <= CS_POOL_GRID_POOL && state->highlight != NULL; i++)
        if (g_str_equal (state->highlight, pool_highlights[i]))
          cs_view_draw_highlight (cr, L.grid_x[i], L.grid_y[i], L.cols[i] * L.cell,
                                  L.rows[i] * L.cell, L.type);
      if (state->highlight != NULL && g_str_equal (state->highlight, "flatten"))
        cs_view_draw_highlight (cr, L.flat_x, L.flat_y,
                                MIN (L.flat_n, L.flat_per_row) * L.flat_cell,
                                L.flat_rows * (L.flat_cell + L.flat_index_h), L.type);
    }

  double y = L.text_y;
  cs_grid_draw_layout (cr, text.window, L.text_x, y, CS_GRID_INK);
  y += layout_height (text.window) + 0.3 * L.type;
  if (text.body != NULL)
    cs_grid_draw_layout (cr, text.body, L.text_x, y, CS_GRID_INK);
  y += layout_height (text.body) + 0.5 * L.type;
  cs_grid_draw_layout (cr, text.hint, L.text_x, y, CS_GRID_INK_DIM);
  pool_text_clear (&text);
  cairo_restore (cr);
}

/* ===========================================================================
 * The widget
 */

struct _CsPoolView
{
  GtkWidget parent_instance;

  CsWorkedSpec *spec;   /* 32 KiB: on the heap, an instance stays under 64 KiB */
  CsWorked *worked;
  char *error;
  CsStepper *stepper;   /* the current pooled cell, autoplay */
  int hover_row, hover_col;

  GtkWidget *box;
  GtkWidget *canvas;
  GtkWidget *max_button, *avg_button;
  gboolean syncing;
};

enum
{
  PROP_0,
  PROP_ROW,
  PROP_COL,
  PROP_PLAYING,
  PROP_AVERAGE,
  N_PROPS,
};

static GParamSpec *properties[N_PROPS];

static void cs_pool_view_iface_init (CsViewInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (CsPoolView, cs_pool_view, GTK_TYPE_WIDGET,
                               G_IMPLEMENT_INTERFACE (CS_TYPE_VIEW, cs_pool_view_iface_init))

void
cs_pool_view_get_state (CsPoolView *self, CsPoolViewState *state)
{
  g_return_if_fail (CS_IS_POOL_VIEW (self));
  g_return_if_fail (state != NULL);

  *state = (CsPoolViewState) {
    .worked = self->worked,
    .error = self->error,
    .hover_row = self->hover_row,
    .hover_col = self->hover_col,
    .highlight = cs_view_get_highlight (CS_VIEW (self)),
  };
  cs_stepper_get_current (self->stepper, &state->row, &state->col);
}

static void
cs_pool_view_draw (CsView *view, cairo_t *cr, int width, int height)
{
  CsPoolViewState state;

  cs_pool_view_get_state (CS_POOL_VIEW (view), &state);
  cs_pool_view_state_draw (&state, cr, width, height);
}

static void
cs_pool_view_iface_init (CsViewInterface *iface)
{
  iface->draw = cs_pool_view_draw;
  iface->highlights = pool_highlights;
}

static void
canvas_draw (GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer data)
{
  cs_pool_view_draw (CS_VIEW (data), cr, width, height);
}

static void
pooled_size (CsPoolView *self, int *rows, int *cols)
{
  const CsWorkedStage *pool = self->worked != NULL
    ? cs_worked_find_stage (self->worked, CS_WORKED_STAGE_POOL) : NULL;

  *rows = pool != NULL ? pool->rows : 0;
  *cols = pool != NULL ? pool->cols : 0;
}

static void
changed (CsPoolView *self)
{
  CsPoolViewState state;

  cs_pool_view_get_state (self, &state);
  g_autofree char *line = cs_pool_view_state_describe (&state);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->canvas),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, line,
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                  _("The convolution's output, its ReLU, the pooled map and "
                                    "the flattened vector, with the current pooling window"),
                                  -1);
  gtk_widget_queue_draw (self->canvas);
}

/* The view's "row", "col" and "playing" are the stepper's. */
static void
stepper_notify (CsStepper *stepper, GParamSpec *pspec, CsPoolView *self)
{
  if (g_str_equal (pspec->name, "row"))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ROW]);
  else if (g_str_equal (pspec->name, "col"))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_COL]);
  else if (g_str_equal (pspec->name, "playing"))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PLAYING]);
}

static void
rebuild (CsPoolView *self)
{
  g_autoptr(GError) error = NULL;
  int rows, cols;

  g_clear_pointer (&self->worked, cs_worked_free);
  g_clear_pointer (&self->error, g_free);
  self->worked = cs_worked_new (self->spec, &error);
  if (self->worked == NULL)
    self->error = g_strdup (error->message);
  self->hover_row = self->hover_col = -1;
  /* the same cell if it is still there; without a picture autoplay stops */
  pooled_size (self, &rows, &cols);
  cs_stepper_set_size (self->stepper, rows, cols);
  changed (self);
}

void
cs_pool_view_set_playing (CsPoolView *self, gboolean playing)
{
  g_return_if_fail (CS_IS_POOL_VIEW (self));
  cs_stepper_set_playing (self->stepper, playing);
}

gboolean
cs_pool_view_get_playing (CsPoolView *self)
{
  g_return_val_if_fail (CS_IS_POOL_VIEW (self), FALSE);
  return cs_stepper_get_playing (self->stepper);
}

static void
kind_toggled (GtkToggleButton *button, CsPoolView *self)
{
  if (self->syncing || !gtk_toggle_button_get_active (button))
    return;
  cs_pool_view_set_pool (self, GTK_WIDGET (button) == self->avg_button ? CS_WORKED_POOL_AVG
                                                                        : CS_WORKED_POOL_MAX);
}

static gboolean
key_pressed (GtkEventControllerKey *controller, guint keyval, guint keycode,
             GdkModifierType modifiers, CsPoolView *self)
{
  return cs_stepper_handle_key (self->stepper, keyval, modifiers);
}

/* A pooled cell, or the flattened cell that holds one, under (x, y). */
static gboolean
pooled_at (CsPoolView *self, double x, double y, int *row, int *col)
{
  CsPoolViewState state;
  CsPoolGrid grid;
  int r, c, rows, cols;

  cs_pool_view_get_state (self, &state);
  if (!cs_pool_view_state_hit (&state, gtk_widget_get_width (self->canvas),
                               gtk_widget_get_height (self->canvas), x, y, &grid, &r, &c))
    return FALSE;
  pooled_size (self, &rows, &cols);
  if (grid == CS_POOL_GRID_FLAT)
    {
      *row = c / cols;
      *col = c % cols;
      return TRUE;
    }
  *row = r;
  *col = c;
  return grid == CS_POOL_GRID_POOL;
}

static void
set_hover (CsPoolView *self, int row, int col)
{
  if (row == self->hover_row && col == self->hover_col)
    return;
  self->hover_row = row;
  self->hover_col = col;
  gtk_widget_queue_draw (self->canvas);
}

static void
motion (GtkEventControllerMotion *controller, double x, double y, CsPoolView *self)
{
  int row, col;

  if (pooled_at (self, x, y, &row, &col))
    {
      gtk_widget_set_cursor_from_name (self->canvas, "pointer");
      set_hover (self, row, col);
    }
  else
    {
      gtk_widget_set_cursor (self->canvas, NULL);
      set_hover (self, -1, -1);
    }
}

static void
leave (GtkEventControllerMotion *controller, CsPoolView *self)
{
  set_hover (self, -1, -1);
}

static void
pressed (GtkGestureClick *gesture, int n_press, double x, double y, CsPoolView *self)
{
  int row, col;

  gtk_widget_grab_focus (self->canvas);
  if (pooled_at (self, x, y, &row, &col))
    cs_stepper_move_to (self->stepper, row, col);
}

static void
build_controls (CsPoolView *self)
{
  GtkWidget *bar = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *label, *kinds;

  gtk_widget_add_css_class (bar, "toolbar");
  gtk_accessible_update_property (GTK_ACCESSIBLE (bar), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Pooling controls"), -1);

  cs_stepper_append_buttons (self->stepper, GTK_BOX (bar));

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
  gtk_widget_set_tooltip_text (self->max_button, _("Max pooling: the largest number of each window"));
  gtk_widget_set_tooltip_text (self->avg_button,
                               _("Average pooling: the mean of each window, padding counted"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->max_button),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                  _("Max pooling: the largest number of each window"), -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->avg_button),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                  _("Average pooling: the mean of each window, padding counted"),
                                  -1);
  gtk_accessible_update_relation (GTK_ACCESSIBLE (kinds), GTK_ACCESSIBLE_RELATION_LABELLED_BY,
                                  label, NULL, -1);
  gtk_box_append (GTK_BOX (kinds), self->max_button);
  gtk_box_append (GTK_BOX (kinds), self->avg_button);
  gtk_box_append (GTK_BOX (bar), kinds);

  gtk_box_append (GTK_BOX (self->box), bar);

  g_signal_connect (self->max_button, "toggled", G_CALLBACK (kind_toggled), self);
  g_signal_connect (self->avg_button, "toggled", G_CALLBACK (kind_toggled), self);
}

static void
cs_pool_view_unmap (GtkWidget *widget)
{
  cs_pool_view_set_playing (CS_POOL_VIEW (widget), FALSE);
  GTK_WIDGET_CLASS (cs_pool_view_parent_class)->unmap (widget);
}

static void
cs_pool_view_dispose (GObject *object)
{
  CsPoolView *self = CS_POOL_VIEW (object);

  /* the stepper first: its timer and buttons go with it */
  if (self->stepper != NULL)
    g_signal_handlers_disconnect_by_data (self->stepper, self);
  g_clear_object (&self->stepper);
  g_clear_pointer (&self->box, gtk_widget_unparent);
  G_OBJECT_CLASS (cs_pool_view_parent_class)->dispose (object);
}

static void
cs_pool_view_finalize (GObject *object)
{
  CsPoolView *self = CS_POOL_VIEW (object);

  g_clear_pointer (&self->worked, cs_worked_free);
  g_clear_pointer (&self->error, g_free);
  g_clear_pointer (&self->spec, g_free);
  G_OBJECT_CLASS (cs_pool_view_parent_class)->finalize (object);
}

static void
cs_pool_view_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CsPoolView *self = CS_POOL_VIEW (object);

  switch (prop_id)
    {
    case PROP_ROW:
    case PROP_COL:
      g_object_get_property (G_OBJECT (self->stepper), pspec->name, value);
      break;
    case PROP_PLAYING:
      g_value_set_boolean (value, cs_pool_view_get_playing (self));
      break;
    case PROP_AVERAGE:
      g_value_set_boolean (value, self->spec->pool == CS_WORKED_POOL_AVG);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cs_pool_view_set_property (GObject *object, guint prop_id, const GValue *value,
                           GParamSpec *pspec)
{
  CsPoolView *self = CS_POOL_VIEW (object);

  switch (prop_id)
    {
    case PROP_ROW:
    case PROP_COL:
      g_object_set_property (G_OBJECT (self->stepper), pspec->name, value);
      break;
    case PROP_PLAYING:
      cs_pool_view_set_playing (self, g_value_get_boolean (value));
      break;
    case PROP_AVERAGE:
      cs_pool_view_set_pool (self, g_value_get_boolean (value) ? CS_WORKED_POOL_AVG
                                                               : CS_WORKED_POOL_MAX);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cs_pool_view_class_init (CsPoolViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = cs_pool_view_dispose;
  object_class->finalize = cs_pool_view_finalize;
  object_class->get_property = cs_pool_view_get_property;
  object_class->set_property = cs_pool_view_set_property;
  widget_class->unmap = cs_pool_view_unmap;

  properties[PROP_ROW] = g_param_spec_int ("row", NULL, NULL, 0, G_MAXINT, 0,
                                           G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY
                                           | G_PARAM_STATIC_STRINGS);
  properties[PROP_COL] = g_param_spec_int ("col", NULL, NULL, 0, G_MAXINT, 0,
                                           G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY
                                           | G_PARAM_STATIC_STRINGS);
  properties[PROP_PLAYING] = g_param_spec_boolean ("playing", NULL, NULL, FALSE,
                                                   G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY
                                                   | G_PARAM_STATIC_STRINGS);
  properties[PROP_AVERAGE] = g_param_spec_boolean ("average", NULL, NULL, FALSE,
                                                   G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY
                                                   | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "poolview");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
cs_pool_view_init (CsPoolView *self)
{
  GtkEventController *key, *motion_controller;
  GtkGesture *click;

  self->spec = g_new (CsWorkedSpec, 1);
  cs_worked_spec_init_default (self->spec);
  self->hover_row = self->hover_col = -1;

  self->stepper = cs_stepper_new (PLAY_INTERVAL_MS, &(CsStepperText) {
    .prev_name = _("Previous pooled cell"), .prev_tooltip = _("Previous pooled cell (←)"),
    .next_name = _("Next pooled cell"), .next_tooltip = _("Next pooled cell (→)"),
    .play_name = _("Play: step through the pooled cells"),
    .play_tooltip = _("Step through the pooled cells"),
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
  gtk_drawing_area_set_content_width (GTK_DRAWING_AREA (self->canvas), 560);
  gtk_drawing_area_set_content_height (GTK_DRAWING_AREA (self->canvas), 400);
  gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (self->canvas), canvas_draw, self, NULL);
  gtk_box_append (GTK_BOX (self->box), self->canvas);

  key = gtk_event_controller_key_new ();
  g_signal_connect (key, "key-pressed", G_CALLBACK (key_pressed), self);
  gtk_widget_add_controller (self->canvas, key);
  motion_controller = gtk_event_controller_motion_new ();
  g_signal_connect (motion_controller, "motion", G_CALLBACK (motion), self);
  g_signal_connect (motion_controller, "leave", G_CALLBACK (leave), self);
  gtk_widget_add_controller (self->canvas, motion_controller);
  click = gtk_gesture_click_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (click), GDK_BUTTON_PRIMARY);
  g_signal_connect (click, "pressed", G_CALLBACK (pressed), self);
  gtk_widget_add_controller (self->canvas, GTK_EVENT_CONTROLLER (click));

  rebuild (self);
}

GtkWidget *
cs_pool_view_new (void)
{
  return g_object_new (CS_TYPE_POOL_VIEW, NULL);
}

void
cs_pool_view_set_spec (CsPoolView *self, const CsWorkedSpec *spec)
{
  g_return_if_fail (CS_IS_POOL_VIEW (self));
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
cs_pool_view_get_spec (CsPoolView *self)
{
  g_return_val_if_fail (CS_IS_POOL_VIEW (self), NULL);
  return self->spec;
}

CsWorked *
cs_pool_view_get_worked (CsPoolView *self)
{
  g_return_val_if_fail (CS_IS_POOL_VIEW (self), NULL);
  return self->worked;
}

void
cs_pool_view_set_pool (CsPoolView *self, CsWorkedPool pool)
{
  g_return_if_fail (CS_IS_POOL_VIEW (self));
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
cs_pool_view_get_pool (CsPoolView *self)
{
  g_return_val_if_fail (CS_IS_POOL_VIEW (self), CS_WORKED_POOL_MAX);
  return self->spec->pool;
}

void
cs_pool_view_set_current (CsPoolView *self, int row, int col)
{
  g_return_if_fail (CS_IS_POOL_VIEW (self));
  cs_stepper_move_to (self->stepper, row, col);
}

void
cs_pool_view_get_current (CsPoolView *self, int *row, int *col)
{
  g_return_if_fail (CS_IS_POOL_VIEW (self));
  cs_stepper_get_current (self->stepper, row, col);
}
